package sparkdl.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param.{IntParam, Param, ParamMap, ParamValidators}
import org.apache.spark.ml.sparkdl.StageMetadata
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.functions.col
import org.apache.spark.sql.sparkdl.SessionHooks
import org.apache.spark.sql.types.{StringType, StructType}

import sparkdl.io.HadoopFiles
import sparkdl.sql.TokenizeFunction
import sparkdl.text.{TokenizerFiles, TokenizerJson}

/**
 * Token ids of a string column from any Hugging Face `tokenizer.json` (WordPiece, BPE, byte-level
 * BPE, Unigram; every normalizer, pre-tokenizer and post-processor), run by Hugging Face's own Rust
 * library in the executor JVM: `outputCol` is
 * `struct<input_ids: array<bigint>, attention_mask: array<bigint>>`, equal to Python's
 * `Tokenizer.from_file(f).encode(text)` with truncation at `maxLength` (special tokens included)
 * and no padding, or padded to `maxLength` with `padding = "max_length"`. A null text gives null.
 * The tokenizer file is saved with the stage.
 *
 * {{{
 * new TextTokenizer().setInputCol("text").setOutputCol("tokens")
 *   .setTokenizer("/models/all-mpnet-base-v2")  // a tokenizer.json, or a folder holding one
 * }}}
 */
class TextTokenizer(override val uid: String) extends Transformer with HasInputCol with HasOutputCol
  with MLWritable {

  def this() = this(Identifiable.randomUID("TextTokenizer"))

  final val tokenizer: Param[String] = new Param[String](this, "tokenizer",
    "a Hugging Face tokenizer.json, or a folder holding one: a path on any Hadoop " +
      "file system or a Spark Connect artifact name; saved with the stage; no default")

  final val maxLength: IntParam = new IntParam(this, "maxLength",
    "most token ids per text, special tokens included; longer texts " +
      "are truncated. 0 (default): the file's truncation length, else " +
      s"${TokenizerJson.DefaultMaxLength}", ParamValidators.gtEq(0))

  final val padding: Param[String] = new Param[String](this, "padding",
    "none (default: each text its own length) or max_length (every text " +
      "maxLength ids, the file's pad id after the text, attention_mask 0 there)",
    ParamValidators.inArray(TokenizeFunction.Paddings.toArray))

  setDefault(inputCol -> "text", maxLength -> 0, padding -> "none")

  final def getTokenizer: String = $(tokenizer)
  final def getMaxLength: Int = $(maxLength)
  final def getPadding: String = $(padding)
  def setTokenizer(value: String): this.type = set(tokenizer, value)
  def setMaxLength(value: Int): this.type = set(maxLength, value)
  def setPadding(value: String): this.type = set(padding, value)

  /** The tokenizer, read once per JVM while its file is unchanged, with this stage's limit. */
  def getTokenizerJson: TokenizerJson =
    TokenizeFunction.tokenizer(
      StageSchema.required(this, tokenizer), $(maxLength), $(padding), "TextTokenizer")

  override def transformSchema(schema: StructType): StructType = {
    val out = StageSchema.required(this, outputCol)
    StageSchema.validateAndTransformSchema(schema,
      Seq(StageSchema.InputCheck($(inputCol), "must hold text (string)", _ == StringType)),
      Seq(out -> TokenizeFunction.ResultType))
  }

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      transformSchema(dataset.schema, logging = true)
      val text = SessionHooks.expression(col("`" + $(inputCol).replace("`", "``") + "`"))
      dataset.toDF().withColumn($(outputCol),
        SessionHooks.column(TokenizeFunction(text, getTokenizerJson, $(padding) == "max_length")))
    }

  override def copy(extra: ParamMap): TextTokenizer = defaultCopy(extra)

  /** The params as Spark ML metadata, and the tokenizer beside them as `tokenizer.json`. */
  override def write: MLWriter = new MLWriter {
    override protected def saveImpl(path: String): Unit = {
      StageMetadata.save(TextTokenizer.this, path, sparkSession, exclude = Set("tokenizer"))
      HadoopFiles.write(getTokenizerJson.json.getBytes("UTF-8"),
        new Path(path, TokenizerFiles.FileName), sparkSession)
    }
  }
}

object TextTokenizer extends MLReadable[TextTokenizer] {

  override def read: MLReader[TextTokenizer] = new MLReader[TextTokenizer] {
    override def load(path: String): TextTokenizer = {
      val (stage, _) = StageMetadata.load(path, sparkSession, classOf[TextTokenizer].getName,
        new TextTokenizer(_), exclude = Set("tokenizer"))
      stage.setTokenizer(new Path(path, TokenizerFiles.FileName).toString)
    }
  }

  override def load(path: String): TextTokenizer = super.load(path)
}
