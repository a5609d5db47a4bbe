package sparkdl.onnx

import java.security.MessageDigest

import sparkdl.inference.{Model, ModelSession, SessionCache}

/**
 * An ONNX model (the bytes of a `.onnx` file, e.g. from `torch.onnx.export` or `optimum`) and the
 * names of the inputs a caller feeds and the outputs it fetches (default: all of the model's, in
 * its order); `source` says where it was read from, for messages. Immutable and serializable: it
 * travels to executors by broadcast, and ONNX Runtime loads it once per JVM
 * ([[sparkdl.inference.SessionCache]], by hash).
 */
final class OnnxModel(val bytes: Array[Byte], val inputs: Seq[String], val outputs: Seq[String],
                      val source: String = "")
  extends Model {

  require(bytes != null && bytes.nonEmpty, "OnnxModel: the model bytes are empty")

  /** Hex SHA-256 of the bytes: identifies the model in every JVM. */
  lazy val hash: String =
    MessageDigest.getInstance("SHA-256").digest(bytes).map(b => f"$b%02x").mkString

  def engines: Seq[String] = Seq(sparkdl.inference.Engines.Onnx)

  def sizeInBytes: Long = bytes.length.toLong

  private[sparkdl] def open(): ModelSession = new OnnxSession(this)

  // standard operator domains only (OnnxDomains), before
  // ONNX Runtime ever sees the bytes; executors skip it
  checkAllowed()

  override def checkAllowed(): Unit =
    OnnxDomains.check(
      bytes, s"The ONNX model ${if (source.isEmpty) s"(sha256 ${hash.take(12)})" else source}")

  /** ONNX Runtime needs every input of the model fed, whatever is fetched. */
  override def inputsNeeded(outputs: Seq[String]): Option[Seq[String]] =
    Some(SessionCache.withSession(this)(_.inputNames))

  override def equals(other: Any): Boolean = other match {
    case m: OnnxModel => m.hash == hash && m.inputs == inputs && m.outputs == outputs
    case _ => false
  }

  override def hashCode(): Int = hash.hashCode

  override def toString: String =
    s"OnnxModel(${if (source.isEmpty) "" else s"$source, "}${bytes.length} bytes, " +
      s"sha256=${hash.take(12)}, inputs=${inputs.mkString("[", ",", "]")}, " +
      s"outputs=${outputs.mkString("[", ",", "]")})"
}

object OnnxModel {

  /**
   * True for the bytes of an ONNX model (a protobuf `ModelProto`), as opposed to a TensorFlow
   * GraphDef.
   */
  def looksLikeOnnx(bytes: Array[Byte]): Boolean =
    // ModelProto starts with field 1 (ir_version, varint):
    // tag 0x08; a GraphDef with field 1 (node, bytes): 0x0a
    bytes.nonEmpty && bytes(0) == 0x08
}
