package sparkdl.onnx

import sparkdl.inference.SessionCache
import sparkdl.io.{FileCache, HadoopFiles}

/**
 * ONNX model files (`.onnx`), named by a Spark Connect artifact name (a file the client uploaded)
 * or a path on any Hadoop file system; read once per JVM while the file is unchanged.
 */
object OnnxFiles {

  private val cache = new FileCache[Array[Byte]]

  /** True when `pathOrArtifact` names an ONNX model file (`.onnx`); a frozen graph otherwise. */
  def isOnnx(pathOrArtifact: String): Boolean =
    pathOrArtifact.toLowerCase(java.util.Locale.ROOT).endsWith(".onnx")

  /**
   * The model at `pathOrArtifact`, its default inputs and outputs all of the model's, in its order.
   */
  def model(pathOrArtifact: String): OnnxModel = {
    val bytes = read(pathOrArtifact)
    val (ins, outs) = SessionCache.withSession(new OnnxModel(bytes, Nil, Nil, pathOrArtifact))(s =>
      (s.inputNames, s.outputNames))
    new OnnxModel(bytes, ins, outs, pathOrArtifact)
  }

  /** The bytes of the model at `pathOrArtifact`, or an error saying where it was looked for. */
  def read(pathOrArtifact: String): Array[Byte] =
    cache.getOrLoadFile("modelPath", pathOrArtifact) { (_, path, conf) =>
      val bytes = HadoopFiles.read(path, conf)
      if (!OnnxModel.looksLikeOnnx(bytes)) {
        throw new IllegalArgumentException(
          s"$path is not an ONNX model (a ModelProto starts with its ir_version)")
      }
      bytes
    }
}
