// The Scala example application, built against the assembled sparkdl jar
// (`make jar` first); Spark comes from the cluster.
val sparkVersion = "4.2.0"

scalaVersion := "2.13.17"
name := "sparkdl-examples"
version := "0.1.0"

libraryDependencies ++= Seq(
  "org.apache.spark" %% "spark-sql" % sparkVersion % "provided",
  "org.apache.spark" %% "spark-mllib" % sparkVersion % "provided"
)

// sparkdl itself: compile against the assembly; at run time spark-submit --jars ships it.
Compile / unmanagedJars += Attributed.blank(
  baseDirectory.value / ".." / ".." / "target" / "scala-2.13" / "sparkdl-assembly-0.1.0.jar")
