package sparkdl.tf

import org.tensorflow.proto.{ConfigProto, GPUOptions}

import sparkdl.inference.{Devices, Placement}

/**
 * TensorFlow's thread and device configuration for this JVM. TensorFlow sizes its process-wide
 * CPU thread pools and maps its GPUs from the first session created, so every sparkdl session
 * (models and the image decoder alike) is created with [[sessionConfig]].
 */
object TFConfig {

  private def setting(sparkKey: String): Option[String] =
    Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption(sparkKey))
      .orElse(Option(System.getProperty(sparkKey.stripPrefix("spark."))))

  private def executorCores: Int =
    Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption("spark.executor.cores")).map(_.toInt)
      .getOrElse(Runtime.getRuntime.availableProcessors()).max(1)

  /**
   * TensorFlow intra-op threads (the threads one op may split its work over): the Spark conf
   * `spark.sparkdl.tf.threads` (or the JVM property `sparkdl.tf.threads`), else the cores Spark
   * gives each task (`spark.task.cpus`, default 1). Spark already runs one task per core, each
   * streaming its own batches: splitting every op over all cores as well makes the tasks fight
   * for them (the measurements: docs/PERFORMANCE.md, "TensorFlow threads").
   */
  def defaultThreads: Int =
    setting("spark.sparkdl.tf.threads")
      .orElse(Option(org.apache.spark.SparkEnv.get).flatMap(_.conf.getOption("spark.task.cpus")))
      .map(_.toInt)
      .getOrElse(1)
      .max(1)

  /**
   * TensorFlow inter-op threads (the threads that run ops, and so concurrent `Session.run`
   * calls, side by side): `spark.sparkdl.tf.interOpThreads` (or `sparkdl.tf.interOpThreads`),
   * else the executor's cores (`spark.executor.cores`, else the cores the JVM sees): one per
   * task that may run at once. With a single one, the runs of two tasks queue behind each other.
   */
  def interOpThreads: Int = setting("spark.sparkdl.tf.interOpThreads").map(_.toInt).getOrElse(executorCores).max(1)

  /** The one session configuration of this JVM: its threads, and the device [[Devices]] placed it on. */
  def sessionConfig: ConfigProto = sessionConfig(Devices.placement())

  def sessionConfig(placement: Placement): ConfigProto = {
    val devices = placement.tensorflow
    val config = ConfigProto.newBuilder()
      .setIntraOpParallelismThreads(defaultThreads)
      .setInterOpParallelismThreads(interOpThreads)
      .setGpuOptions(GPUOptions.newBuilder().setVisibleDeviceList(devices.visibleDeviceList)
          .setAllowGrowth(devices.allowGrowth))
    devices.gpuCount.foreach(n => config.putDeviceCount("GPU", n))
    config.build()
  }
}
