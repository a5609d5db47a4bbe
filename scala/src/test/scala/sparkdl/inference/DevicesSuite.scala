package sparkdl.inference

import org.scalatest.funsuite.AnyFunSuite

import sparkdl.tf.TFConfig

class DevicesSuite extends AnyFunSuite {

  test(
    "an executor assigned a GPU: TensorFlow sees that GPU " +
      "alone and grows its memory; ONNX Runtime uses it") {
    val p = Placement(Some("3"), localMode = false)
    val gpu = TFConfig.sessionConfig(p).getGpuOptions
    assert(gpu.getVisibleDeviceList == "3" && gpu.getAllowGrowth)
    assert(!TFConfig.sessionConfig(p).getDeviceCountMap.containsKey("GPU"))
    assert(p.onnxCudaDevice(Set("CPU", "CUDA")).contains(3))
    assert(p.onnxCudaDevice(Set("CPU")).isEmpty, "a build without CUDA runs on the CPU")
  }

  test(
    "an executor assigned no GPU uses none, even where " +
      "the host has some; local mode keeps the defaults") {
    val none = Placement(None, localMode = false)
    assert(TFConfig.sessionConfig(none).getDeviceCountMap.get("GPU") == 0)
    assert(none.onnxCudaDevice(Set("CPU", "CUDA")).isEmpty)
    val local = Placement(None, localMode = true)
    assert(!TFConfig.sessionConfig(local).getDeviceCountMap.containsKey("GPU"))
    assert(TFConfig.sessionConfig(local).getGpuOptions.getVisibleDeviceList == "")
    assert(local.onnxCudaDevice(Set("CPU", "CUDA")).contains(0) &&
      local.onnxCudaDevice(Set("CPU")).isEmpty)
  }

  test("describe is JSON naming the GPU, TensorFlow's settings and ONNX Runtime's device") {
    implicit val formats: org.json4s.Formats = org.json4s.DefaultFormats
    val json = org.json4s.jackson.JsonMethods.parse(Placement(Some("1"), localMode = false)
        .describe(Set("CPU", "CUDA")))
    assert((json \ "gpu").extract[String] == "1")
    assert((json \ "tensorflow" \ "visible_device_list").extract[String] == "1")
    assert((json \ "onnxruntime").extract[String] == "CUDA:1")
    assert((json \ "onnxruntimeProviders").extract[Seq[String]] == Seq("CPU", "CUDA"))
    assert((json \ "onnxruntimeCudaFailure") == org.json4s.JNull)
    val failed = org.json4s.jackson.JsonMethods.parse(Placement(Some("1"), localMode = false)
        .describe(Set("CPU", "CUDA"), Some("libcublasLt.so.12: \"not found\"")))
    assert((failed \ "onnxruntime").extract[String] == "CPU",
      "a CUDA provider that failed to start: the CPU")
    assert(
      (failed \ "onnxruntimeCudaFailure").extract[String] == "libcublasLt.so.12: \"not found\"")
  }

  test(
    "outside any task (the driver) nothing is fixed, and " +
      "this build's ONNX Runtime has the CPU provider") {
    assert(Devices.assignedToTask().isEmpty)
    assert(Devices.placement().gpu.isEmpty)
    assert(sparkdl.onnx.OnnxSession.providers.contains("CPU"))
  }
}
