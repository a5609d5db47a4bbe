package sparkdl.image

import org.apache.spark.ml.image.ImageSchema
import org.apache.spark.sql.{Column, Row}
import org.apache.spark.sql.functions.{lit, struct, when}
import org.apache.spark.sql.catalyst.expressions.{
  Cast, CreateNamedStruct, Expression, GetStructField, If, IsNull,
  Literal
}
import org.apache.spark.sql.types.{
  BinaryType, ByteType, DataType, IntegerType, LongType, ShortType, StringType,
  StructType
}

/**
 * Spark's image struct (`ImageSchema.columnSchema`): origin, height, width,
 * nChannels, mode (OpenCV type), data (row-major bytes, channels in BGR(A) order).
 */
object ImageFields {
  val OriginIdx = 0
  val HeightIdx = 1
  val WidthIdx = 2
  val NChannelsIdx = 3
  val ModeIdx = 4
  val DataIdx = 5

  /** OpenCV type codes Spark uses for 8-bit images with 1, 3 and 4 channels. */
  val CV_8UC1 = 0
  val CV_8UC3 = 16
  val CV_8UC4 = 24

  def schema: StructType = ImageSchema.columnSchema

  def modeFor(nChannels: Int): Int = nChannels match {
    case 1 => CV_8UC1
    case 3 => CV_8UC3
    case 4 => CV_8UC4
    case n => throw new IllegalArgumentException(s"No 8-bit image mode for $n channels")
  }

  /** True when `dt` is Spark's image struct (names and types; nullability ignored). */
  def isImageStruct(dt: DataType): Boolean = dt match {
    case s: StructType =>
      s.fields.length == schema.fields.length &&
        s.fields.zip(schema.fields).forall { case (a, b) => a.name == b.name && a.dataType == b.dataType }
    case _ => false
  }

  /**
   * True when `dt` holds images: Spark's image struct, or a struct with the same field names in any
   * order whose numbers are any integer type (`bigint` when pandas, JSON or a Python dict made the
   * rows: MLflow's pyfunc serving does) and whose `origin` may be missing. [[normalize]] makes it the
   * image struct.
   */
  def isImageLike(dt: DataType): Boolean = dt match {
    case s: StructType =>
      val types = s.fields.map(f => f.name -> f.dataType).toMap
      val integral = Set[DataType](ByteType, ShortType, IntegerType, LongType)
      types.size == s.fields.length && types.keySet.subsetOf(schema.fieldNames.toSet) &&
        types.get("data").contains(BinaryType) && types.get("origin").forall(_ == StringType) &&
        Seq("height", "width", "nChannels", "mode").forall(n => types.get(n).exists(integral.contains))
    case _ => false
  }

  /**
   * `image` as Spark's image struct: unchanged when it is one, else its fields by name, numbers cast to
   * int (a value outside int's range fails the query, as any cast does), a missing origin null; a null
   * struct stays null. For columns [[isImageLike]] accepts.
   */
  def normalize(image: Expression): Expression =
    if (isImageStruct(image.dataType)) image
    else {
      val present = image.dataType.asInstanceOf[StructType]
      val fields = schema.fields.toSeq.flatMap { f =>
        val i = present.fieldNames.indexOf(f.name)
        val value = if (i >= 0) Cast(GetStructField(image, i, Some(f.name)), f.dataType) else Literal(null, f.dataType)
        Seq(Literal(f.name), value)
      }
      If(IsNull(image), Literal(null, schema), CreateNamedStruct(fields))
    }

  /** [[normalize]] for a DataFrame column whose type is `dt`. */
  def normalize(image: Column, dt: DataType): Column =
    if (isImageStruct(dt)) image
    else {
      val present = dt.asInstanceOf[StructType].fieldNames.toSet
      val fields = schema.fields.toSeq.map { f =>
        (if (present(f.name)) image.getField(f.name).cast(f.dataType) else lit(null).cast(f.dataType)).as(f.name)
      }
      when(image.isNull, lit(null).cast(schema)).otherwise(struct(fields: _*))
    }

  def row(origin: String, height: Int, width: Int, nChannels: Int, data: Array[Byte]): Row =
    Row(origin, height, width, nChannels, modeFor(nChannels), data)
}
