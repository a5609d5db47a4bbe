package sparkdl.inference

import java.util.concurrent.atomic.AtomicReference

import org.apache.spark.{SparkEnv, TaskContext}
import org.json4s.{JArray, JBool, JInt, JNull, JObject, JString, JValue}
import org.json4s.jackson.JsonMethods.compact
import org.slf4j.LoggerFactory

/**
 * Where a JVM's model sessions run, from Spark's resource scheduling: with
 * `spark.executor.resource.gpu.amount=1` (and `spark.task.resource.gpu.amount`), each executor JVM
 * uses the GPU address Spark assigned to it; an executor assigned none uses the CPU, so it never
 * takes a GPU that Spark gave another executor of the host. In local mode (one JVM, no assignment)
 * the engines keep their own defaults.
 *
 * TensorFlow maps devices once per process (`visible_device_list` cannot differ between the
 * sessions of one JVM), so the JVM's device is fixed by the first task that asks, and kept: with
 * one GPU per executor, every task of the executor is assigned the same address.
 */
object Devices {

  /** The resource name Spark's GPU scheduling uses. */
  val Gpu = "gpu"

  private val log = LoggerFactory.getLogger(getClass)

  private val fixed = new AtomicReference[Placement]()

  /** The first GPU address Spark assigned to the task running in this thread, if any. */
  def assignedToTask(): Option[String] =
    Option(TaskContext.get()).flatMap(_.resources().get(Gpu)).flatMap(_.addresses.headOption)

  /**
   * This JVM's placement: fixed by the first call from a task; a call outside any task (the driver)
   * before that gets the placement it would have, without fixing it.
   */
  def placement(): Placement = Option(fixed.get).getOrElse {
    val localMode = Option(SparkEnv.get).forall(_.executorId == "driver")
    val p = Placement(assignedToTask(), localMode)
    if (TaskContext.get() == null) p
    else {
      if (fixed.compareAndSet(null, p))
        p.gpu.foreach(g => log.info(s"sparkdl: this executor's models run on GPU $g"))
      fixed.get
    }
  }
}

/**
 * A JVM's device: `gpu` is the GPU address Spark assigned (None: none assigned); `localMode` when
 * the JVM is Spark's local mode (driver and executor in one).
 */
final case class Placement(gpu: Option[String], localMode: Boolean) {

  /**
   * TensorFlow's GPU settings: the assigned GPU alone, memory allocated as needed (`allow_growth`,
   * so the image decoder's session and the models' share it); no GPU at all when an executor was
   * assigned none; TensorFlow's default devices in local mode.
   */
  def tensorflow: TensorFlowDevices = gpu match {
    case Some(address) =>
      TensorFlowDevices(visibleDeviceList = address, gpuCount = None, allowGrowth = true)
    case None if localMode =>
      TensorFlowDevices(visibleDeviceList = "", gpuCount = None, allowGrowth = true)
    case None => TensorFlowDevices(visibleDeviceList = "", gpuCount = Some(0), allowGrowth = true)
  }

  /**
   * The CUDA device ONNX Runtime sessions use, given the execution providers of this build: the
   * assigned GPU (device 0 in local mode), or None (CPU) when none was assigned or the build has no
   * CUDA provider.
   */
  def onnxCudaDevice(providers: Set[String]): Option[Int] =
    if (!providers.contains("CUDA")) None
    else gpu.map(_.toInt).orElse(if (localMode) Some(0) else None)

  /**
   * JSON for people (what the `sparkdl_device()` SQL function returns); `cudaFailure`: why ONNX
   * Runtime's CUDA provider could not start, when it could not (its sessions then run on the CPU).
   */
  def describe(providers: Set[String], cudaFailure: Option[String] = None): String = {
    val tf = tensorflow
    val ort =
      onnxCudaDevice(providers).filter(_ => cudaFailure.isEmpty).fold("CPU")(d => s"CUDA:$d")
    def orNull(value: Option[JValue]): JValue = value.getOrElse(JNull)
    compact(JObject(
        "gpu" -> orNull(gpu.map(JString(_))),
        "localMode" -> JBool(localMode),
        "tensorflow" -> JObject(
          "visible_device_list" -> JString(tf.visibleDeviceList),
          "gpu_count" -> orNull(tf.gpuCount.map(JInt(_))),
          "allow_growth" -> JBool(tf.allowGrowth)),
        "onnxruntime" -> JString(ort),
        "onnxruntimeProviders" -> JArray(providers.toList.sorted.map(JString(_))),
        "onnxruntimeCudaFailure" -> orNull(cudaFailure.map(JString(_)))))
  }
}

/**
 * TensorFlow's device settings: `gpuCount` Some(0) hides every GPU; None keeps TensorFlow's count.
 */
final case class TensorFlowDevices(visibleDeviceList: String, gpuCount: Option[Int],
                                   allowGrowth: Boolean)
