package sparkdl.image

import org.apache.spark.ml.image.ImageSchema
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{DataType, StructType}

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

  def row(origin: String, height: Int, width: Int, nChannels: Int, data: Array[Byte]): Row =
    Row(origin, height, width, nChannels, modeFor(nChannels), data)
}
