// The Scala example application, built against the assembled sparkdl jar
// (`make jar` first); Spark comes from the cluster. Versions: ../../version.properties.
lazy val versions: Map[String, String] = {
  val props = new java.util.Properties()
  IO.reader(file("../../version.properties"))(r => props.load(r))
  props.stringPropertyNames.toArray(Array.empty[String]).map(k => k -> props.getProperty(k)).toMap
}
val sparkVersion = versions("spark.version")

scalaVersion := "2.13.17"
name := "sparkdl-examples"
version := versions("sparkdl.version")

libraryDependencies ++= Seq(
  "org.apache.spark" %% "spark-sql" % sparkVersion % "provided",
  "org.apache.spark" %% "spark-mllib" % sparkVersion % "provided"
)

// sparkdl itself: compile against the assembly; at run time spark-submit --jars ships it.
Compile / unmanagedJars += Attributed.blank(baseDirectory.value / ".." / ".." / "target" /
  "scala-2.13" / s"sparkdl-assembly-${version.value}.jar")

// The README's Scala block, compiled as it is written (its example paths become arguments):
// `spark-submit --class ReadmeExample ... IMAGES MODEL_DIR SAVE_DIR`.
Compile / sourceGenerators += Def.task {
  val readme = IO.read(baseDirectory.value / ".." / ".." / "README.md")
  val block = "(?s)```scala\n(.*?)```".r.findFirstMatchIn(readme).map(_.group(1))
    .getOrElse(sys.error("README.md has no scala block"))
  val paths = Seq("\"/data/flowers\"" -> "args(0)", "\"/models/sparkdl\"" -> "args(1)",
    "\"/models/flowers\"" -> "args(2)")
  paths.foreach { case (p, _) =>
    if (!block.contains(p)) sys.error(s"README's scala block lost $p")
  }
  val body = paths.foldLeft(block) { case (b, (p, arg)) => b.replace(p, arg) }
  val out = (Compile / sourceManaged).value / "ReadmeExample.scala"
  IO.write(out,
    s"object ReadmeExample {\n  def main(args: Array[String]): Unit = {\n$body\n  }\n}\n")
  Seq(out)
}.taskValue
