package sparkdl.text

import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession
import org.json4s.{DefaultFormats, Formats}

import sparkdl.inference.Model
import sparkdl.io.{FileCache, HadoopFiles, ModelFiles}
import sparkdl.models.ExportFolder
import sparkdl.onnx.OnnxModel
import sparkdl.tf.FrozenGraph

/**
 * A sentence encoder as `sparkdl.models.text` exports it: a model (a frozen graph, or an ONNX
 * model run by ONNX Runtime) from token ids and an attention mask (`[batch, seq]`; token type
 * ids too when `typeIdsTensor` is set) to the pooled embedding, and its tokenizer.
 */
final case class TextModel(
    modelName: String,
    model: Model,
    tokenizer: Tokenizer,
    inputIdsTensor: String,
    attentionMaskTensor: String,
    embeddingTensor: String,
    embeddingSize: Int,
    typeIdsTensor: Option[String] = None) {

  /** The model's input from a string column. */
  def input(column: String): TextInput =
    TextInput(column, tokenizer, inputIdsTensor, attentionMaskTensor, typeIdsTensor)
}

/** The built-in text model names, and loading text exports from a `modelDir`. */
object TextModels {

  /** Same list as Python's `sparkdl.models.text.text_model_names()`. */
  val names: Seq[String] = Seq("all-MiniLM-L6-v2", "all-MiniLM-L6-v2-int8", "all-mpnet-base-v2")

  private val loaded = new FileCache[TextModel]

  /**
   * Loads `<dir>/<modelName>/{model.json, graph.pb or model.onnx, vocab.txt or tokenizer.json}` (any Hadoop file system); cached
   * per JVM until model.json changes. `maxLength` (> 0) overrides the export's token limit.
   */
  def load(dir: String, modelName: String, maxLength: Int = 0): TextModel = {
    val spark = SparkSession.active
    val (metaPath, version) = ExportFolder.metadata(dir, modelName, spark)
    val base = metaPath.getParent
    val model = loaded.getOrLoad(metaPath.toString, version)(ExportFolder.readMetadata(metaPath, spark) { json =>
      implicit val formats: Formats = DefaultFormats
      def str(f: String) = (json \ f).extract[String]
      def bool(f: String) = (json \ f).extract[Boolean]
      if ((json \ "kind").extractOpt[String].getOrElse("") != "text") {
        throw new IllegalArgumentException(s"$metaPath is not a text model export (no \"kind\": \"text\")")
      }
      val limit = (json \ "maxLength").extract[Int]
      val tokenizer: Tokenizer = tokenizerFile(json) match {
        case TokenizerFiles.FileName =>
          val file = new Path(base, TokenizerFiles.FileName)
          TokenizerJson.fromBytes(ModelFiles.read(file, spark), file.toString, limit)
        case _ =>
          val vocab = new String(HadoopFiles.read(new Path(base, "vocab.txt"), spark), "UTF-8")
          val lines = vocab.split("\n", -1)
          WordPieceTokenizer.fromVocab((if (lines.last.isEmpty) lines.init else lines).iterator, bool("lowercase"),
            bool("stripAccents"), bool("chineseChars"), limit)
      }
      val typeIds = (json \ "tokenTypeIdsTensor").extractOpt[String]
      val inputs = Seq(str("inputIdsTensor"), str("attentionMaskTensor")) ++ typeIds
      val model =
        if ((json \ "engine").extractOpt[String].contains("onnx")) {
          new OnnxModel(ModelFiles.read(new Path(base, "model.onnx"), spark), inputs, Seq(str("embeddingTensor")),
            new Path(base, "model.onnx").toString)
        } else FrozenGraph(ModelFiles.read(new Path(base, "graph.pb"), spark), inputs, Seq(str("embeddingTensor")))
      TextModel(modelName, model, tokenizer, str("inputIdsTensor"), str("attentionMaskTensor"),
        str("embeddingTensor"), (json \ "hidden").extract[Int], typeIds)
    })
    if (maxLength <= 0 || maxLength == model.tokenizer.maxLength) model
    else model.copy(tokenizer = model.tokenizer.withMaxLength(maxLength))
  }

  /** The export's tokenizer file: `tokenizer.json` (Hugging Face tokenizers) or `vocab.txt` (WordPiece, the default). */
  def tokenizerFile(modelJson: org.json4s.JValue): String = {
    implicit val formats: Formats = DefaultFormats
    (modelJson \ "tokenizer").extractOpt[String].getOrElse("vocab.txt")
  }

  /**
   * The export directory: the stage's, else where [[ExportFolder.resolve]] finds one (the Spark conf
   * `spark.sparkdl.modelDir`, a Spark Connect client's upload, Python's export cache), else an error.
   */
  def resolveDir(modelName: String, modelDir: Option[String]): String =
    try ExportFolder.resolve(modelName, modelDir, ExportFolder.TextKey)
    catch {
      case e: IllegalArgumentException if !names.contains(modelName) =>
        throw new IllegalArgumentException(
          s"Unknown text model '$modelName'${ExportFolder.didYouMean(modelName, names)}: the built-in ones are " +
            s"${names.mkString(", ")}; any other is an export in a modelDir. ${e.getMessage}", e)
    }
}
