package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param.{IntParam, Param, ParamMap, ParamValidators}
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.{StringType, StructType}

import sparkdl.inference.{BatchOutput, OutputFormat}
import sparkdl.onnx.OnnxModel
import sparkdl.models.ExportFolder
import sparkdl.models.ExportFolder.Files
import sparkdl.text.{TextModels, TokenizerJson}

/**
 * Sentence embeddings: each string of `inputCol` tokenized in the executor (the export's
 * `tokenizer.json` by Hugging Face tokenizers, or a BERT `vocab.txt` by sparkdl's WordPiece) and
 * encoded by a sentence encoder (a BERT-family sentence-transformers model, or an ONNX encoder of
 * any architecture, exported by `python -m sparkdl.models export`), pooled and normalized as the
 * model's folder says; the embedding (384 values for all-MiniLM-L6-v2) as an MLlib Vector or
 * `array<float>`. Batches are padded to their own longest row, and rows are sorted by length within
 * a bounded window so padding does not waste the CPU (the output keeps the input's order). A null
 * text gives null; an empty string the embedding of `[CLS] [SEP]`.
 *
 * {{{
 * val embed = new DeepTextFeaturizer().setInputCol("text").setOutputCol("embedding")
 *   .setModelName("all-MiniLM-L6-v2").setModelDir("/models/sparkdl")
 * }}}
 */
class DeepTextFeaturizer(override val uid: String)
  extends Transformer with HasInputCol with HasOutputCol with HasOutputMode with HasBatchSize
  with HasHandleInvalid with ExportedModelParams with MLWritable {

  def this() = this(Identifiable.randomUID("DeepTextFeaturizer"))

  final val modelName: Param[String] = new Param[String](this, "modelName",
    s"sentence encoder exported to modelDir: ${TextModels.names.mkString(", ")} built " +
      "in, or the name of any BERT-family sentence-transformers folder exported with " +
      s"`python -m sparkdl.models export`. Default: ${TextModels.names.head}")

  final val modelDir: Param[String] = new Param[String](this, "modelDir",
    "directory written by `python -m sparkdl.models export` holding <modelName>/ " +
      "(a loaded stage: the export saved with it). Default: the Spark conf " +
      s"${ExportFolder.Conf.ModelDir}; from Python, an automatic cached export")

  final val maxLength: IntParam = new IntParam(this, "maxLength",
    "tokens per text, [CLS] and [SEP] included; longer texts are truncated. 0 (default): the " +
      "model's own (max_seq_length, 256 for all-MiniLM-L6-v2)", ParamValidators.inRange(0, 512))

  setDefault(inputCol -> "text", modelName -> TextModels.names.head, maxLength -> 0)

  /** The export's files: its metadata, tokenizer and model (a frozen graph, or an ONNX model). */
  def exportFiles: Seq[String] = {
    val m = TextModels.load($(modelName), get(modelDir))
    Seq(Files.ModelJson,
      m.tokenizer match {
        case _: TokenizerJson => Files.Tokenizer
        case _ => Files.Vocab
      }, if (m.model.isInstanceOf[OnnxModel]) Files.Onnx else Files.Graph)
  }
  def exportDir: String = TextModels.resolveDir($(modelName), get(modelDir))
  def getModelDir: String = $(modelDir)
  def getMaxLength: Int = $(maxLength)
  def setModelName(value: String): this.type = set(modelName, value)
  def setModelDir(value: String): this.type = set(modelDir, value)
  def setMaxLength(value: Int): this.type = set(maxLength, value)

  override def transformSchema(schema: StructType): StructType = {
    val out = StageSchema.required(this, outputCol)
    StageSchema.validateAndTransformSchema(schema,
      Seq(StageSchema.InputCheck($(inputCol), "must hold text (string)", _ == StringType)),
      Seq(out -> OutputFormat.forMode($(outputMode)).dataType))
  }

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      transformSchema(dataset.schema, logging = true)
      val model = TextModels.load($(modelName), get(modelDir), $(maxLength))
      val input = model.input($(inputCol))
      BatchTransform(dataset.toDF(), "DeepTextFeaturizer", $(modelName), model.model, Seq(input),
        Seq(BatchOutput(model.embeddingTensor, OutputFormat.forMode($(outputMode)))),
        Seq($(outputCol)), $(batchSize), $(handleInvalid))
    }

  override def copy(extra: ParamMap): DeepTextFeaturizer = defaultCopy(extra)

  override def write: MLWriter = new NamedModelWriter(this)
}

object DeepTextFeaturizer extends MLReadable[DeepTextFeaturizer] {
  override def read: MLReader[DeepTextFeaturizer] =
    new NamedModelReader(classOf[DeepTextFeaturizer].getName, new DeepTextFeaturizer(_))
  override def load(path: String): DeepTextFeaturizer = super.load(path)
}
