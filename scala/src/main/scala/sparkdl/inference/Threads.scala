package sparkdl.inference

/**
 * How many threads a model session of this JVM uses, whatever its engine: Spark runs one task per
 * core, each streaming its own batches, so a session's ops do not also split over every core. Set
 * per application with the Spark confs below (or the JVM properties without `spark.`).
 */
object Threads {

  private def setting(sparkKey: String): Option[String] =
    Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption(sparkKey))
      .orElse(Option(System.getProperty(sparkKey.stripPrefix("spark."))))

  private def executorCores: Int =
    Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption("spark.executor.cores"))
      .map(_.toInt)
      .getOrElse(Runtime.getRuntime.availableProcessors()).max(1)

  /**
   * Intra-op threads (the threads one op may split its work over), for TensorFlow and ONNX Runtime
   * alike: the Spark conf `spark.sparkdl.tf.threads` (or the JVM property `sparkdl.tf.threads`,
   * named when TensorFlow was the one engine), else the cores Spark gives each task
   * (`spark.task.cpus`, default 1). Spark already runs one task per core, each streaming its own
   * batches: splitting every op over all cores as well makes the tasks fight for them (the
   * measurements: docs/PERFORMANCE.md, "TensorFlow threads").
   */
  def intraOp: Int =
    setting("spark.sparkdl.tf.threads")
      .orElse(Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption("spark.task.cpus")))
      .map(_.toInt)
      .getOrElse(1)
      .max(1)

  /**
   * TensorFlow's inter-op threads (the threads that run ops, and so concurrent `Session.run` calls,
   * side by side; ONNX Runtime sessions get one, as the calling task's thread runs a model's ops in
   * order): `spark.sparkdl.tf.interOpThreads` (or `sparkdl.tf.interOpThreads`), else the executor's
   * cores (`spark.executor.cores`, else the cores the JVM sees): one per task that may run at once.
   * With a single one, the runs of two tasks queue behind each other.
   */
  def interOp: Int =
    setting("spark.sparkdl.tf.interOpThreads").map(_.toInt).getOrElse(executorCores).max(1)
}
