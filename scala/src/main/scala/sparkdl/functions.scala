package sparkdl

import org.apache.spark.sql.Column
import org.apache.spark.sql.functions.call_function

import sparkdl.sql.DecodeImageFunction

/** Column functions over sparkdl's SQL functions (Python: `sparkdl.functions`), for DataFrame code. */
object functions {

  /**
   * `sparkdl_decode_image(file)`: encoded image bytes (`binary`, or `struct<bytes, path>`) decoded as
   * `readImages` decodes files, into `struct<image, imageError>` ([[DecodeImageFunction]]).
   */
  def decode_image(file: Column): Column = call_function(DecodeImageFunction.Name, file)

  /** [[decode_image]] with `path` (a string column) as each image's origin and the name in reasons. */
  def decode_image(file: Column, path: Column): Column = call_function(DecodeImageFunction.Name, file, path)
}
