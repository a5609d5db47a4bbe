package sparkdl.inference

import org.apache.spark.ml.linalg.SQLDataTypes.VectorType
import org.apache.spark.ml.linalg.Vectors
import org.apache.spark.sql.Row
import org.apache.spark.sql.types._

/** How one row's slice of an output tensor becomes an output cell. */
sealed trait OutputFormat extends Serializable {
  def dataType: DataType

  /** The cell for `out(from until from + len)`. */
  def cell(out: Array[Float], from: Int, len: Int): Any
}

object OutputFormat {

  /** MLlib DenseVector of doubles. */
  case object VectorOutput extends OutputFormat {
    val dataType: DataType = VectorType
    def cell(out: Array[Float], from: Int, len: Int): Any = {
      val d = new Array[Double](len)
      var k = 0
      while (k < len) { d(k) = out(from + k).toDouble; k += 1 }
      Vectors.dense(d)
    }
  }

  /** float: the one value of a row (a tensor of shape [batch]). */
  case object ScalarOutput extends OutputFormat {
    val dataType: DataType = FloatType
    def cell(out: Array[Float], from: Int, len: Int): Any = out(from)
  }

  /** array<float>. */
  case object FloatArrayOutput extends OutputFormat {
    val dataType: DataType = ArrayType(FloatType, containsNull = false)
    // one copy (`toSeq` would make a second)
    def cell(out: Array[Float], from: Int, len: Int): Any =
      scala.collection.immutable.ArraySeq.unsafeWrapArray(
        java.util.Arrays.copyOfRange(out, from, from + len))
  }

  val PredictionStruct: StructType = StructType(Seq(
      StructField("class", StringType, nullable = false),
      StructField("description", StringType, nullable = false),
      StructField("probability", FloatType, nullable = false)))

  /**
   * The `k` most probable classes, highest first, as `struct<class, description, probability>`:
   * class `i` is `classes(i)` (e.g. a WordNet id) described by `descriptions(i)`.
   */
  final case class TopKOutput(k: Int, classes: IndexedSeq[String], descriptions: IndexedSeq[String])
    extends OutputFormat {
    require(classes.length == descriptions.length, "one description per class")
    val dataType: DataType = ArrayType(PredictionStruct, containsNull = false)
    def cell(out: Array[Float], from: Int, len: Int): Any = {
      require(len == classes.length,
        s"predictions have $len classes but there are ${classes.length} labels")
      // Stable: ties keep the lower class index first.
      val order = (0 until len).sortBy(i => (-out(from + i), i)).take(k)
      order.map(i => Row(classes(i), descriptions(i), out(from + i)))
    }
  }

  /**
   * An image struct (Spark's `ImageSchema.columnSchema`) of float32 pixels, for a model whose
   * output is an image (`[batch, height, width, channels]`, or `[batch, channels, height, width]`
   * when `channelsFirst`): mode `CV_32FC1`, `CV_32FC3` or `CV_32FC4`, `data` row-major `[h, w, c]`
   * little-endian float32, channels in Spark's image order (BGR, BGRA): `fromRgb` says the model's
   * channels are RGB(A) and are reversed. `origin` is empty.
   */
  final case class ImageOutput(height: Int, width: Int, channels: Int, channelsFirst: Boolean,
                               fromRgb: Boolean)
    extends OutputFormat {
    require(ImageOutput.Modes.contains(channels),
      s"an image output has 1, 3 or 4 channels, not $channels")
    val dataType: DataType = org.apache.spark.ml.image.ImageSchema.columnSchema
    def cell(out: Array[Float], from: Int, len: Int): Any = {
      require(len == height * width * channels,
        s"an image output of ${height}x${width}x$channels " +
          s"needs ${height * width * channels} values, got $len")
      val data = java.nio.ByteBuffer.allocate(len * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN)
      val floats = data.asFloatBuffer()
      val plane = height * width
      var p = 0
      while (p < plane) {
        var c = 0
        while (c < channels) {
          val src = if (fromRgb && c < 3) 2 - c else c // RGB(A) -> BGR(A)
          floats.put(out(from + (if (channelsFirst) src * plane + p else p * channels + src)))
          c += 1
        }
        p += 1
      }
      Row("", height, width, channels, ImageOutput.Modes(channels), data.array())
    }
  }

  object ImageOutput {

    /** OpenCV's float32 type codes by channel count: CV_32FC1, CV_32FC3, CV_32FC4. */
    val Modes: Map[Int, Int] = Map(1 -> 5, 3 -> 21, 4 -> 29)

    /**
     * The image format of output `info` (its static shape, from the model) for a model taking
     * `channelOrder` (RGB, BGR or L), laid out as its input (`channelsFirst`) where the shape
     * allows both; fails, naming the output and its shape, unless it is an image.
     */
    def forTensor(info: TensorInfo, channelOrder: String, channelsFirst: Boolean): ImageOutput = {
      def image(h: Long, w: Long, c: Long, first: Boolean) =
        ImageOutput(h.toInt, w.toInt, c.toInt, first, fromRgb = channelOrder == "RGB" && c >= 3)
      def fits(h: Long, w: Long, c: Long) = h > 0 && w > 0 && Modes.contains(c.toInt)
      info.shape match {
        case Some(Seq(_, c, h, w)) if channelsFirst && fits(h, w, c) => image(h, w, c, first = true)
        case Some(Seq(_, h, w, c)) if fits(h, w, c) => image(h, w, c, first = false)
        case Some(Seq(_, c, h, w)) if fits(h, w, c) => image(h, w, c, first = true)
        case _ => throw new IllegalArgumentException(
            "outputMode 'image' needs an image output: [batch, height, width, channels] " +
              "(or channels first) with a known height and width and 1, 3 or 4 " +
              s"channels; output '${info.name}' is ${info.dtype} ${info.shapeString}. " +
              "Use outputMode 'vector' or 'array' for other outputs")
      }
    }
  }

  /** The formats a stage's `outputMode` names. */
  val Modes: Map[String, OutputFormat] = Map("vector" -> VectorOutput, "array" -> FloatArrayOutput)

  def forMode(mode: String): OutputFormat =
    Modes.getOrElse(
      mode, throw new IllegalArgumentException(s"Unknown output mode '$mode' (vector or array)"))
}
