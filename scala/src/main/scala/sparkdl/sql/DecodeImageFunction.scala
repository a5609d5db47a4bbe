package sparkdl.sql

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenFallback
import org.apache.spark.sql.types.{DataType, StringType, StructField, StructType}
import org.apache.spark.unsafe.types.UTF8String

import sparkdl.image.{ImageDecoder, ImageFields}

/**
 * `sparkdl_decode_image(file [, path])`: encoded image bytes (`binary`, or a `struct<bytes, path>`
 * as Hugging Face `datasets` stores images) decoded as `readImages` decodes files, into
 * `struct<image: <Spark image struct>, imageError: string>`: the image (its `origin` the path) and
 * null, or a null image and the reason (a note, such as an animated GIF's first frame, beside an
 * image). `path` (a string) names the row in place of the struct's own. For users who want the
 * decoded image itself (to display, filter by size or cache); a model takes the bytes directly.
 */
final case class DecodeImageFunction(children: Seq[Expression]) extends Expression
  with CodegenFallback {

  require(children.length == 1 || children.length == 2,
    s"${DecodeImageFunction.Name} takes 1 or 2 arguments")

  override def dataType: DataType = DecodeImageFunction.ResultType

  override def nullable: Boolean = true

  override def prettyName: String = DecodeImageFunction.Name

  override def eval(input: InternalRow): Any = {
    val file = children.head.eval(input).asInstanceOf[InternalRow]
    if (file == null) null
    else {
      val path = children.lift(1).map(_.eval(input)).getOrElse(
        if (file.isNullAt(1)) null else file.getUTF8String(1))
      val bytes = if (file.isNullAt(0)) null else file.getBinary(0)
      if (bytes == null) InternalRow(null, UTF8String.fromString("no image bytes (null)"))
      else {
        ImageDecoder.decode(bytes) match {
          case Right(img) =>
            InternalRow(ImageFields.internalRow(Option(path).map(_.toString).orNull, img),
              img.note.map(UTF8String.fromString).orNull)
          case Left(reason) => InternalRow(null, UTF8String.fromString(reason))
        }
      }
    }
  }

  override protected def withNewChildrenInternal(
      newChildren: IndexedSeq[Expression]): DecodeImageFunction =
    copy(children = newChildren)
}

object DecodeImageFunction {

  val Name = "sparkdl_decode_image"

  val ResultType: StructType = StructType(Seq(
      StructField("image", ImageFields.schema, nullable = true),
      StructField("imageError", StringType, nullable = true)))

  /** The function from its SQL arguments: checked when the query is analysed. */
  def build(args: Seq[Expression]): DecodeImageFunction = {
    def fail(message: String) = throw new IllegalArgumentException(s"$Name: $message")
    args match {
      case Seq(file, rest @ _*) if rest.length <= 1 =>
        if (!ImageFields.isEncodedLike(file.dataType)) {
          fail(
            "the first argument must be encoded image bytes (binary) or " +
              s"${ImageFields.EncodedSchema.simpleString}, got ${file.dataType.simpleString}")
        }
        rest.headOption.filter(_.dataType != StringType).foreach(p =>
          fail(s"the second argument (the path) must be a string, got ${p.dataType.simpleString}"))
        DecodeImageFunction(ImageFields.normalizeInput(file) +: rest)
      case _ => fail(s"takes 1 or 2 arguments (bytes [, path]), got ${args.length}")
    }
  }
}
