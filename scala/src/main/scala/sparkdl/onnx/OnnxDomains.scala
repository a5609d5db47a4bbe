package sparkdl.onnx

import com.google.protobuf.{CodedInputStream, WireFormat}

import sparkdl.inference.ModelException

/**
 * The operator domains an ONNX model imports (its `ModelProto.opset_import`, which every node's
 * domain must be in), read from the protobuf bytes. ONNX Runtime runs the standard domains and its
 * own built-in contrib ops (`com.microsoft`, which quantized models use); any other domain is a
 * custom operator library, native code that sparkdl never loads: such a model is refused on the
 * driver, naming the domain, unless allowed by the Spark conf `spark.sparkdl.onnx.allowDomains`
 * (comma-separated, or `*`).
 */
object OnnxDomains {

  val AllowDomainsConf = "spark.sparkdl.onnx.allowDomains"

  /** The standard ONNX domains and ONNX Runtime's built-in contrib ops. */
  val Standard: Set[String] = Set("", "ai.onnx", "ai.onnx.ml", "ai.onnx.preview.training", "com.microsoft")

  private val ModelOpsetImport = 8 // ModelProto.opset_import
  private val OpsetDomain = 1 // OperatorSetIdProto.domain

  /** The domains `bytes` (a `ModelProto`) imports. */
  def of(bytes: Array[Byte]): Seq[String] = {
    val in = CodedInputStream.newInstance(bytes)
    in.setSizeLimit(Int.MaxValue)
    val domains = scala.collection.mutable.ArrayBuffer.empty[String]
    var tag = in.readTag()
    while (tag != 0) {
      if (WireFormat.getTagFieldNumber(tag) == ModelOpsetImport &&
          WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        val opset = CodedInputStream.newInstance(in.readByteArray())
        var inner = opset.readTag()
        var domain = ""
        while (inner != 0) {
          if (WireFormat.getTagFieldNumber(inner) == OpsetDomain) domain = opset.readString()
          else opset.skipField(inner)
          inner = opset.readTag()
        }
        domains += domain
      } else in.skipField(tag)
      tag = in.readTag()
    }
    domains.toSeq
  }

  /** Fails, naming each domain outside [[Standard]] the active session does not allow. */
  def check(bytes: Array[Byte], what: String): Unit = {
    // bytes that do not parse are left to ONNX Runtime, whose load error says so with the file's name
    val imported = try of(bytes)
    catch { case _: java.io.IOException => Nil }
    val custom = imported.filterNot(Standard.contains).distinct.sorted
    if (custom.nonEmpty) {
      val allowed = org.apache.spark.sql.SparkSession.getActiveSession.flatMap(_.conf.getOption(AllowDomainsConf))
        .toSeq.flatMap(_.split(",")).map(_.trim).toSet
      val left = if (allowed.contains("*")) Nil else custom.filterNot(allowed.contains)
      if (left.nonEmpty) {
        throw new ModelException(
          s"$what imports ONNX operator domains outside the standard ones (${left.mkString(", ")}): custom operators " +
            "are native code from outside ONNX Runtime, and sparkdl loads no custom operator library. Refused. If you " +
            s"trust this model, allow them with the Spark conf $AllowDomainsConf=${left.mkString(",")}.")
      }
    }
  }
}
