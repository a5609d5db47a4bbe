package sparkdl.image

import org.apache.spark.ml.image.ImageSchema
import org.apache.spark.sql.Row
import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{
  Cast, CreateNamedStruct, Expression, GetStructField, If, IsNull, Literal, RuntimeReplaceable,
  UnaryExpression
}
import org.apache.spark.sql.types.{
  BinaryType, ByteType, DataType, IntegerType, LongType, ShortType, StringType, StructField,
  StructType
}
import org.apache.spark.unsafe.types.UTF8String

/**
 * Spark's image struct (`ImageSchema.columnSchema`): origin, height, width, nChannels, mode (OpenCV
 * type), data (row-major bytes, channels in BGR(A) order).
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
        s.fields.zip(schema.fields).forall { case (a, b) =>
          a.name == b.name && a.dataType == b.dataType
        }
    case _ => false
  }

  /**
   * True when `dt` holds images: Spark's image struct, or a struct with the same field names in any
   * order whose numbers are any integer type (`bigint` when pandas, JSON or a Python dict made the
   * rows: MLflow's pyfunc serving does) and whose `origin` may be missing. [[normalize]] makes it
   * the image struct.
   */
  def isImageLike(dt: DataType): Boolean = dt match {
    case s: StructType =>
      val types = s.fields.map(f => f.name -> f.dataType).toMap
      val integral = Set[DataType](ByteType, ShortType, IntegerType, LongType)
      types.size == s.fields.length && types.keySet.subsetOf(schema.fieldNames.toSet) &&
        types.get("data").contains(BinaryType) && types.get("origin").forall(_ == StringType) &&
        Seq("height", "width", "nChannels", "mode").forall(n =>
          types.get(n).exists(integral.contains))
    case _ => false
  }

  /**
   * `image` as Spark's image struct: unchanged when it is one, else its fields by name, numbers
   * cast to int (a value outside int's range fails the query, as any cast does), a missing origin
   * null; a null struct stays null. For columns [[isImageLike]] accepts.
   */
  def normalize(image: Expression): Expression =
    if (isImageStruct(image.dataType)) image
    else {
      val present = image.dataType.asInstanceOf[StructType]
      val fields = schema.fields.toSeq.flatMap { f =>
        val i = present.fieldNames.indexOf(f.name)
        val value = if (i >= 0) Cast(GetStructField(image, i, Some(f.name)), f.dataType)
        else Literal(null, f.dataType)
        Seq(Literal(f.name), value)
      }
      If(IsNull(image), Literal(null, schema), CreateNamedStruct(fields))
    }

  def row(origin: String, height: Int, width: Int, nChannels: Int, data: Array[Byte]): Row = {
    rowsBuilt.incrementAndGet()
    Row(origin, height, width, nChannels, modeFor(nChannels), data)
  }

  /** `img` as a Catalyst image struct. */
  def internalRow(origin: String, img: DecodedImage): InternalRow = {
    rowsBuilt.incrementAndGet()
    InternalRow(if (origin == null) null else UTF8String.fromString(origin), img.height, img.width,
      img.nChannels,
      modeFor(img.nChannels), img.data)
  }

  /**
   * Image struct rows this JVM built from decoded files (tests check a model fed bytes builds
   * none).
   */
  val rowsBuilt = new java.util.concurrent.atomic.AtomicLong

  /**
   * Encoded image files as a model input takes them: `struct<bytes: binary, path: string>`, the
   * shape of a Hugging Face `datasets` Image column; `path` (may be null) names the row in
   * messages.
   */
  val EncodedSchema: StructType = StructType(Seq(
      StructField("bytes", BinaryType, nullable = true),
      StructField("path", StringType, nullable = true)))

  /**
   * True when `dt` holds encoded image files: `binary` (Spark's `binaryFile` source's `content`),
   * or a struct of `bytes: binary` and optionally `path: string`, in any order (a Hugging Face
   * Image column).
   */
  def isEncodedLike(dt: DataType): Boolean = dt match {
    case BinaryType => true
    case s: StructType =>
      val types = s.fields.map(f => f.name -> f.dataType).toMap
      types.size == s.fields.length && types.get("bytes").contains(BinaryType) &&
        types.keySet.subsetOf(Set("bytes", "path")) && types.get("path").forall(_ == StringType)
    case _ => false
  }

  /**
   * True when `dt` is a column an image model takes: images ([[isImageLike]]) or encoded files
   * ([[isEncodedLike]]).
   */
  def isImageInput(dt: DataType): Boolean = isImageLike(dt) || isEncodedLike(dt)

  /** What [[isImageInput]] accepts, for messages. */
  val ImageInputTypes: String =
    s"an image struct ${schema.simpleString}, encoded image bytes (binary, as " +
      s"binaryFile's content) or ${EncodedSchema.simpleString} (a Hugging Face Image column)"

  /**
   * A column [[isImageInput]] accepts as a model input takes it: an image struct ([[normalize]]) or
   * [[EncodedSchema]] (fields by name; `binary` becomes `bytes` with a null `path`). Null stays
   * null.
   */
  def normalizeInput(input: Expression): Expression = input.dataType match {
    case dt if isImageLike(dt) => normalize(input)
    case BinaryType =>
      If(IsNull(input), Literal(null, EncodedSchema),
        CreateNamedStruct(Seq(Literal("bytes"), input, Literal("path"), Literal(null, StringType))))
    case s: StructType if isEncodedLike(s) =>
      val fields = EncodedSchema.fields.toSeq.flatMap { f =>
        val i = s.fieldNames.indexOf(f.name)
        Seq(Literal(f.name),
          if (i >= 0) GetStructField(input, i, Some(f.name)) else Literal(null, f.dataType))
      }
      If(IsNull(input), Literal(null, EncodedSchema), CreateNamedStruct(fields))
    case other =>
      throw new IllegalArgumentException(s"expected $ImageInputTypes, got ${other.simpleString}")
  }
}

/**
 * A model's image argument as the model input takes it ([[ImageFields.normalizeInput]] of `child`),
 * decided once `child` is resolved: so a stage can pass a column by name, whatever its type.
 */
final case class ImageArgument(child: Expression) extends UnaryExpression with RuntimeReplaceable {
  override lazy val replacement: Expression = ImageFields.normalizeInput(child)
  override protected def withNewChildInternal(newChild: Expression): ImageArgument =
    copy(child = newChild)
}
