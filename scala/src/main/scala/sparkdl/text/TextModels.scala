package sparkdl.text

import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession
import org.json4s.{DefaultFormats, Formats}

import sparkdl.inference.Model
import sparkdl.io.{FileCache, HadoopFiles, ModelFiles}
import sparkdl.models.ExportFolder
import sparkdl.models.ExportFolder.{Engine, Files, Key, Kind}
import sparkdl.onnx.OnnxModel
import sparkdl.tf.FrozenGraph

/**
 * A sentence encoder as `sparkdl.models.text` exports it: a model (a frozen graph, or an ONNX model
 * run by ONNX Runtime) from token ids and an attention mask (`[batch, seq]`; token type ids too
 * when `typeIdsTensor` is set) to the pooled embedding, and its tokenizer.
 */
final case class TextModel(
    modelName: String,
    model: Model,
    tokenizer: Tokenizer,
    inputIdsTensor: String,
    attentionMaskTensor: String,
    embeddingTensor: String,
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
   * The export of `modelName`, found by [[resolveDir]]: loads `<dir>/<modelName>/{model.json,
   * graph.pb or model.onnx, vocab.txt or tokenizer.json}` (any Hadoop file system); cached per JVM
   * until model.json changes. `maxLength` (> 0) overrides the export's token limit.
   */
  def load(modelName: String, modelDir: Option[String], maxLength: Int = 0): TextModel = {
    val dir = resolveDir(modelName, modelDir)
    val spark = SparkSession.active
    val (metaPath, version) = ExportFolder.metadata(dir, modelName, spark)
    val base = metaPath.getParent
    val model = loaded.getOrLoad(
      metaPath.toString, version)(ExportFolder.readMetadata(metaPath, spark) { json =>
      implicit val formats: Formats = DefaultFormats
      def str(f: String) = (json \ f).extract[String]
      def bool(f: String) = (json \ f).extract[Boolean]
      if (!(json \ Key.Kind).extractOpt[String].contains(Kind.Text)) {
        throw new IllegalArgumentException(
          s"$metaPath is not a text model export (no \"kind\": \"text\")")
      }
      val limit = (json \ Key.MaxLength).extract[Int]
      val tokenizer: Tokenizer = tokenizerFile(json) match {
        case Files.Tokenizer =>
          val file = new Path(base, Files.Tokenizer)
          TokenizerJson.fromBytes(ModelFiles.read(file, spark), file.toString, limit)
        case _ =>
          val vocab = new String(HadoopFiles.read(new Path(base, Files.Vocab), spark), "UTF-8")
          val lines = vocab.split("\n", -1)
          WordPieceTokenizer.fromVocab(
            (if (lines.last.isEmpty) lines.init else lines).iterator, bool(Key.Lowercase),
            bool(Key.StripAccents), bool(Key.ChineseChars), limit)
      }
      val typeIds = (json \ Key.TokenTypeIdsTensor).extractOpt[String]
      val inputs = Seq(str(Key.InputIdsTensor), str(Key.AttentionMaskTensor)) ++ typeIds
      val model =
        if ((json \ Key.Engine).extractOpt[String].contains(Engine.Onnx)) {
          val file = new Path(base, Files.Onnx)
          new OnnxModel(
            ModelFiles.read(file, spark), inputs, Seq(str(Key.EmbeddingTensor)), file.toString)
        } else FrozenGraph(ModelFiles.read(new Path(base, Files.Graph), spark), inputs,
          Seq(str(Key.EmbeddingTensor)))
      TextModel(modelName, model, tokenizer, str(Key.InputIdsTensor), str(Key.AttentionMaskTensor),
        str(Key.EmbeddingTensor), typeIds)
    })
    if (maxLength <= 0 || maxLength == model.tokenizer.maxLength) model
    else model.copy(tokenizer = model.tokenizer.withMaxLength(maxLength))
  }

  /**
   * The export's tokenizer file: `tokenizer.json` (Hugging Face tokenizers) or `vocab.txt`
   * (WordPiece, the default).
   */
  def tokenizerFile(modelJson: org.json4s.JValue): String = {
    implicit val formats: Formats = DefaultFormats
    (modelJson \ Key.Tokenizer).extractOpt[String].getOrElse(Files.Vocab)
  }

  /**
   * The export directory: the stage's, else where [[ExportFolder.resolve]] finds one (the Spark
   * conf `spark.sparkdl.modelDir`, a Spark Connect client's upload, Python's export cache), else an
   * error.
   */
  def resolveDir(modelName: String, modelDir: Option[String]): String =
    try ExportFolder.resolve(modelName, modelDir, ExportFolder.CacheKey.Text)
    catch {
      case e: IllegalArgumentException if !names.contains(modelName) =>
        throw new IllegalArgumentException(
          s"Unknown text model '$modelName'${ExportFolder.didYouMean(modelName, names)}: " +
            s"the built-in ones are ${names.mkString(", ")}; any other is an export in a " +
            s"modelDir. ${e.getMessage}", e)
    }
}
