package sparkdl.sql

import java.util.Locale

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{Expression, UnaryExpression}
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback
import org.apache.spark.sql.catalyst.expressions.Literal
import org.apache.spark.sql.catalyst.util.ArrayData
import org.apache.spark.sql.types.{
  ArrayType, DataType, IntegerType, LongType, StringType, StructField, StructType
}
import org.apache.spark.unsafe.types.UTF8String

import sparkdl.text.{TokenizerFiles, TokenizerJson}

/**
 * A string's token ids and attention mask from a Hugging Face `tokenizer.json` ([[TokenizerJson]]):
 * `struct<input_ids: array<bigint>, attention_mask: array<bigint>>`, special tokens added,
 * truncated at the tokenizer's `maxLength`; with `padToMax`, padded to `maxLength` with the
 * tokenizer's pad id (mask 0 there). A null text gives null. The stage [[sparkdl.ml.TextTokenizer]]
 * and the SQL function `sparkdl_tokenize` are this expression.
 */
final case class TokenizeFunction(child: Expression, tokenizer: TokenizerJson, padToMax: Boolean)
  extends UnaryExpression with CodegenFallback {

  override def dataType: DataType = TokenizeFunction.ResultType

  override def prettyName: String = TokenizeFunction.Name

  override protected def nullSafeEval(input: Any): Any = {
    val ids = tokenizer.encode(input.asInstanceOf[UTF8String].toString)
    val n = if (padToMax) tokenizer.maxLength else ids.length
    val out = new Array[Long](n)
    val mask = new Array[Long](n)
    val start = if (padToMax && tokenizer.padLeft) n - ids.length else 0
    if (n > ids.length) java.util.Arrays.fill(out, tokenizer.padId.toLong)
    var i = 0
    while (i < ids.length) {
      out(start + i) = ids(i).toLong
      mask(start + i) = 1L
      i += 1
    }
    InternalRow(ArrayData.toArrayData(out), ArrayData.toArrayData(mask))
  }

  override protected def withNewChildInternal(newChild: Expression): TokenizeFunction =
    copy(child = newChild)
}

object TokenizeFunction {

  val Name = "sparkdl_tokenize"

  /**
   * The padding modes: none (each text its own length), max_length (every text `maxLength` ids).
   */
  val Paddings: Seq[String] = Seq("none", "max_length")

  val ResultType: StructType = StructType(Seq(
      StructField("input_ids", ArrayType(LongType, containsNull = false), nullable = false),
      StructField("attention_mask", ArrayType(LongType, containsNull = false), nullable = false)))

  /** The tokenizer at `path` for `padding`, or an error naming the value that is wrong. */
  def tokenizer(path: String, maxLength: Int, padding: String, what: String): TokenizerJson = {
    if (!Paddings.contains(padding)) {
      throw new IllegalArgumentException(
        s"$what: padding '$padding' is not valid. Valid values: ${Paddings.mkString(", ")}")
    }
    if (maxLength < 0)
      throw new IllegalArgumentException(s"$what: maxLength must be >= 0, got $maxLength")
    val tokenizer = TokenizerFiles.read(path, maxLength)
    if (padding == "max_length" && !tokenizer.hasPadToken) {
      throw new IllegalArgumentException(
        s"$what: padding 'max_length' needs a pad token, and ${tokenizer.source} " +
          "declares no padding and has none of the tokens [PAD], <pad>, <|pad|>, " +
          "<|padding|>; use padding 'none' (a model's batch pads itself)")
    }
    tokenizer
  }

  /**
   * `sparkdl_tokenize(tokenizer, text [, maxLength [, padding]])`: checked when the query is
   * analysed.
   */
  def build(args: Seq[Expression]): TokenizeFunction = {
    def fail(message: String) = throw new IllegalArgumentException(s"$Name: $message")
    def constant(e: Expression, what: String): Any = {
      if (!e.foldable) fail(s"$what must be a constant, got ${e.sql}")
      e.eval()
    }
    if (args.length < 2 || args.length > 4) {
      fail(
        s"takes 2 to 4 arguments (tokenizer, text [, maxLength [, padding]]), got ${args.length}")
    }
    val path = args.head match {
      case e if e.foldable && e.dataType == StringType && e.eval() != null => e.eval().toString
      case e =>
        fail(
          "the tokenizer must be a constant string (a " +
            s"tokenizer.json or a folder holding one), got ${e.sql}")
    }
    val text = args(1)
    if (text.dataType != StringType)
      fail(s"the text must be a string, got ${text.dataType.simpleString}")
    val maxLength = args.lift(2).map {
      case e if e.dataType == IntegerType || e.dataType == LongType =>
        val n = Option(constant(e, "maxLength")).map(_.asInstanceOf[Number].longValue).getOrElse(0L)
        if (n < 0 || n > Int.MaxValue) fail(s"maxLength must be in [0, ${Int.MaxValue}], got $n")
        n.toInt
      case e => fail(s"maxLength must be an integer constant, got ${e.dataType.simpleString}")
    }.getOrElse(0)
    val padding = args.lift(3).map {
      case e @ Literal(_, StringType) =>
        Option(constant(e, "padding")).map(_.toString).getOrElse("none")
      case e =>
        fail(s"padding must be a constant string (${Paddings.mkString(" or ")}), got ${e.sql}")
    }.getOrElse("none").toLowerCase(Locale.ROOT)
    TokenizeFunction(text, tokenizer(path, maxLength, padding, Name), padding == "max_length")
  }
}
