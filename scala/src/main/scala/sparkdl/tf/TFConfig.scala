package sparkdl.tf

import org.tensorflow.proto.{ConfigProto, GPUOptions}

import sparkdl.inference.{Devices, Placement, Threads}

/**
 * TensorFlow's thread and device configuration for this JVM ([[Threads]] and [[Devices]] decide
 * them for every engine). TensorFlow sizes its process-wide CPU thread pools and maps its GPUs from
 * the first session created, so every sparkdl session (models and the image decoder alike) is
 * created with [[sessionConfig]].
 */
object TFConfig {

  /**
   * The one session configuration of this JVM: its threads, and the device [[Devices]] placed it
   * on.
   */
  def sessionConfig: ConfigProto = sessionConfig(Devices.placement())

  def sessionConfig(placement: Placement): ConfigProto = {
    val devices = placement.tensorflow
    val config = ConfigProto.newBuilder()
      .setIntraOpParallelismThreads(Threads.intraOp)
      .setInterOpParallelismThreads(Threads.interOp)
      .setGpuOptions(GPUOptions.newBuilder().setVisibleDeviceList(devices.visibleDeviceList)
          .setAllowGrowth(devices.allowGrowth))
    devices.gpuCount.foreach(n => config.putDeviceCount("GPU", n))
    config.build()
  }
}
