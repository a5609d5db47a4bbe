// sparkdl: Scala/JVM core. Spark is "provided" (the cluster brings it). Two ways to ship it:
// - the assembly jar (`make jar`): TensorFlow Java and ONNX Runtime, with their linux-x86_64
//   natives, inside one jar, for `--jars` (offline clusters, GPU builds, the tests);
// - a Spark package (`make maven`: `root/publish` into target/maven, a Maven-layout repository):
//   sparkdl's own classes, with TensorFlow Java, its linux-x86_64 natives and ONNX Runtime as
//   ordinary dependencies in its POM, for `--packages` / `spark.jars.packages`. The Python wheel
//   carries this repository (a few MB), not the 180 MB assembly.

// Versions come from version.properties, which setup.py and the Makefile read too.
lazy val versions: Map[String, String] = {
  val props = new java.util.Properties()
  IO.reader(file("version.properties"))(r => props.load(r))
  props.stringPropertyNames.toArray(Array.empty[String]).map(k => k -> props.getProperty(k)).toMap
}
val sparkVersion =
  settingKey[String]("Spark version (version.properties); pyspark is pinned to the same")
val tfJavaVersion = versions("tensorflow-java.version")
// `make jar-gpu` (SPARKDL_GPU=1): TensorFlow Java's GPU native and ONNX Runtime's CUDA build
// instead of the CPU ones (CUDA 12 and cuDNN 9 come from the executors' hosts, not the jar).
val gpuBuild = sys.env.get("SPARKDL_GPU").contains("1")
// The protobuf-java TensorFlow Java 1.1.0 is built against (Spark brings a 4.x of its own).
val protobufVersion = "3.21.9"

ThisBuild / organization := "io.sparkdl"
ThisBuild / version := versions("sparkdl.version")
ThisBuild / scalaVersion := "2.13.17"

// JVM flags Spark needs on Java 17 (the same list spark-submit adds itself).
lazy val sparkJavaOptions = Seq(
  "-XX:+IgnoreUnrecognizedVMOptions",
  "--add-opens=java.base/java.lang=ALL-UNNAMED",
  "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
  "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
  "--add-opens=java.base/java.io=ALL-UNNAMED",
  "--add-opens=java.base/java.net=ALL-UNNAMED",
  "--add-opens=java.base/java.nio=ALL-UNNAMED",
  "--add-opens=java.base/java.util=ALL-UNNAMED",
  "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
  "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
  "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
  "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
  "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
  "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
  "-Djdk.reflect.useDirectMethodHandle=false",
  "-Dio.netty.tryReflectionSetAccessible=true"
)

// Unused imports fail the build; other warnings stay warnings.
lazy val commonScalacOptions = Seq("-deprecation", "-feature", "-unchecked", "-release", "17",
  "-Wunused:imports", "-Wconf:cat=unused-imports:e")

lazy val root = (project in file("."))
  .settings(
    name := "sparkdl",
    sparkVersion := versions("spark.version"),
    Compile / scalaSource := baseDirectory.value / "scala" / "src" / "main" / "scala",
    Compile / resourceDirectory := baseDirectory.value / "scala" / "src" / "main" / "resources",
    Test / scalaSource := baseDirectory.value / "scala" / "src" / "test" / "scala",
    Test / resourceDirectory := baseDirectory.value / "scala" / "src" / "test" / "resources",
    scalacOptions ++= commonScalacOptions,
    javacOptions ++= Seq("--release", "17"),
    libraryDependencies ++= Seq(
      "org.apache.spark" %% "spark-core" % sparkVersion.value % "provided",
      "org.apache.spark" %% "spark-sql" % sparkVersion.value % "provided",
      "org.apache.spark" %% "spark-mllib" % sparkVersion.value % "provided",
      "org.tensorflow" % "tensorflow-core-api" % tfJavaVersion,
      // the native's classes, named beside its classifier jar: Spark's Ivy, resolving a fresh cache
      // from the POM, keeps only the classifier jar of a module reached both ways (seen here)
      "org.tensorflow" % "tensorflow-core-native" % tfJavaVersion,
      "org.tensorflow" % "tensorflow-core-native" % tfJavaVersion classifier
        (if (gpuBuild) "linux-x86_64-gpu" else "linux-x86_64"),
      "com.google.protobuf" % "protobuf-java" % protobufVersion,
      "com.microsoft.onnxruntime" % (if (gpuBuild) "onnxruntime_gpu" else "onnxruntime") %
        versions("onnxruntime.version"),
      // tokenizer.json read by Hugging Face's own Rust library (its JNI binding,
      // natives inside the jar); DJL's engine API is needed only for its exception
      // class: JNA, Gson and commons-compress stay out, and Spark brings SLF4J
      ("ai.djl.huggingface" % "tokenizers" % versions("djl-tokenizers.version"))
        .exclude("net.java.dev.jna", "jna").exclude("com.google.code.gson", "gson")
        .exclude("org.apache.commons", "commons-compress").exclude("org.slf4j", "slf4j-api"),
      "org.scala-lang" % "scala-library" % scalaVersion.value % "provided",
      "org.scalatest" %% "scalatest" % "3.2.19" % Test
    ),
    // Spark brings Scala: the POM lists it as provided, so --packages never adds a second copy
    autoScalaLibrary := false,
    // `make maven`: the Spark package, into a Maven-layout repository (republished in place)
    publishTo :=
      Some(MavenCache("sparkdl-maven", (ThisBuild / baseDirectory).value / "target" / "maven")),
    publishConfiguration := publishConfiguration.value.withOverwrite(true),
    Compile / packageDoc / publishArtifact := false,
    Compile / packageSrc / publishArtifact := false,
    licenses := Seq("Apache-2.0" -> url("https://www.apache.org/licenses/LICENSE-2.0.txt")),
    versionScheme := Some("early-semver"),
    // Spark's provided protobuf 4.x must not replace TensorFlow's 3.21 at run time.
    dependencyOverrides += "com.google.protobuf" % "protobuf-java" % protobufVersion,
    Test / fork := true,
    Test / javaOptions ++= sparkJavaOptions ++ Seq("-Xms2g", "-Xmx3g", "-XX:+AlwaysPreTouch"),
    Test / parallelExecution := false,
    // Keras outputs and a CLI export to compare against: written by `make test-scala`.
    Test / javaOptions +=
      s"-Dsparkdl.test.fixtures=${baseDirectory.value / "target" / "scala-fixtures"}",
    Test / testOptions += Tests.Argument(TestFrameworks.ScalaTest, "-oD"),
    // The assembly: sparkdl + TensorFlow Java (+ natives). Spark and Scala come
    // from the cluster and stay out.
    assembly / assemblyJarName :=
      s"sparkdl-${if (gpuBuild) "gpu-" else ""}assembly-${version.value}.jar",
    assembly / assemblyOption ~= { _.withIncludeScala(false) },
    assembly / test := {},
    // protobuf-java 3.21 (TensorFlow Java's) travels unshaded: Spark 4.2 ships no unshaded
    // protobuf-java of its own. Shading is not an option here: sbt-assembly's shader
    // loads every entry of a shaded jar into memory, and TF's native jar holds a 630 MB .so.
    assembly / assemblyMergeStrategy := {
      // ONNX Runtime's jar carries natives for every
      // platform; the assembly keeps linux-x64's, as TF's
      case PathList("ai", "onnxruntime", "native", platform, _*) if platform != "linux-x64" =>
        MergeStrategy.discard
      // and the tokenizers jar carries them too (linux, macOS, Windows): linux-x86_64's stays
      case PathList("native", "lib", platform, _*) if platform != "linux-x86_64" =>
        MergeStrategy.discard
      case PathList("META-INF", "versions", _, "module-info.class") => MergeStrategy.discard
      case "module-info.class" => MergeStrategy.discard
      case PathList("META-INF", "MANIFEST.MF") => MergeStrategy.discard
      case PathList("META-INF", xs @ _*)
          if xs.lastOption.exists(n =>
            n.endsWith(".SF") || n.endsWith(".DSA") || n.endsWith(".RSA")) =>
        MergeStrategy.discard
      case PathList("META-INF", "services", _*) => MergeStrategy.concat
      case PathList("META-INF", _*) => MergeStrategy.first
      case _ => MergeStrategy.first
    }
  )

// `make bench`'s JVM helpers: their own jar (bench/target), never inside the assembly.
lazy val bench = (project in file("bench"))
  .dependsOn(root)
  .settings(
    name := "sparkdl-bench",
    sparkVersion := versions("spark.version"),
    Compile / scalaSource := baseDirectory.value / "scala",
    scalacOptions ++= commonScalacOptions,
    libraryDependencies ++= Seq(
      "org.apache.spark" %% "spark-core" % sparkVersion.value % "provided",
      "org.apache.spark" %% "spark-sql" % sparkVersion.value % "provided",
      "org.apache.spark" %% "spark-mllib" % sparkVersion.value % "provided"),
    dependencyOverrides += "com.google.protobuf" % "protobuf-java" % protobufVersion
  )
