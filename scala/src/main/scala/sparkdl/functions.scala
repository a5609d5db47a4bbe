package sparkdl

import org.apache.spark.sql.Column
import org.apache.spark.sql.functions.{call_function, lit}

import sparkdl.sql.{DecodeImageFunction, TokenizeFunction}

/**
 * Column functions over sparkdl's SQL functions (Python: `sparkdl.functions`), for DataFrame code.
 */
object functions {

  /**
   * `sparkdl_decode_image(file)`: encoded image bytes (`binary`, or `struct<bytes, path>`) decoded
   * as `readImages` decodes files, into `struct<image, imageError>` ([[DecodeImageFunction]]).
   */
  def decode_image(file: Column): Column = call_function(DecodeImageFunction.Name, file)

  /**
   * [[decode_image]] with `path` (a string column) as each image's origin and the name in reasons.
   */
  def decode_image(file: Column, path: Column): Column =
    call_function(DecodeImageFunction.Name, file, path)

  /**
   * `sparkdl_tokenize(tokenizer, text)`: a string's token ids and attention mask from a Hugging
   * Face `tokenizer.json` (or a folder holding one), as [[sparkdl.ml.TextTokenizer]] makes them.
   */
  def tokenize(tokenizer: String, text: Column): Column =
    call_function(TokenizeFunction.Name, lit(tokenizer), text)

  /**
   * [[tokenize]] truncated at `maxLength` (0: the file's) and padded to it with
   * `padding = "max_length"`.
   */
  def tokenize(tokenizer: String, text: Column, maxLength: Int, padding: String): Column =
    call_function(TokenizeFunction.Name, lit(tokenizer), text, lit(maxLength), lit(padding))
}
