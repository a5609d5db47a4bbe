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
Compile / unmanagedJars += Attributed.blank(
  baseDirectory.value / ".." / ".." / "target" / "scala-2.13" / s"sparkdl-assembly-${version.value}.jar")
