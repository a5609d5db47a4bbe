package sparkdl.image

import org.apache.spark.sql.Row

import sparkdl.inference.{BatchInput, Model, ModelException}

/**
 * How a model input decodes encoded image files (the same guards and rules as `readImages`): images
 * declaring more than `maxPixels` and cells longer than `maxBytes` are refused (a row-level
 * reason); `applyExifOrientation` turns JPEGs upright; `draft` decodes a JPEG at the smallest DCT
 * scale (1/2, 1/4, 1/8) that keeps it at least the model's input size (faster, not equal to the
 * exact path: off by default).
 */
final case class ImageDecoding(maxPixels: Long = ImageDecoder.DefaultMaxPixels,
                               maxBytes: Long = ImageReader.DefaultMaxBytes,
                               applyExifOrientation: Boolean = false, draft: Boolean = false) {
  require(maxPixels > 0, s"maxPixels must be positive, got $maxPixels")
  require(maxBytes > 0, s"maxBytes must be positive, got $maxBytes")
}

/**
 * A model input fed from a column of images, each resized to `spec` ([[ImageToTensor]]): Spark
 * image structs, or encoded files ([[ImageFields.EncodedSchema]]: JPEG, PNG, GIF, BMP bytes with an
 * optional path) decoded here, inside the batch loop, by the decoder `readImages` uses and straight
 * into the model's input: no full-size image row is built, and a cell that does not decode is a
 * row-level problem (`handleInvalid`) whose message names its path. Which of the two a cell is
 * follows from its struct ([[ImageFields.normalizeInput]] made it one or the other). An encoded
 * batch holds its decoded floats until the batch buffer is filled: twice the buffer [[BatchMemory]]
 * budgets (a quarter of the heap per task), so at most half the heap.
 */
final case class ImageInput(column: String, tensor: String, spec: ImageInputSpec,
                            decoding: ImageDecoding = ImageDecoding()) extends BatchInput {

  val dims: Array[Long] = spec.dims

  override def prepare(value: Any): Either[String, Any] = value match {
    case img: Row if img.length == ImageFields.EncodedSchema.length => decodeToTensor(img)
    case img: Row => structIncompatibility(img).toLeft(img)
  }

  override def incompatibility(value: Any): Option[String] = prepare(value).left.toOption

  private def structIncompatibility(img: Row): Option[String] = {
    val nulls = Seq(ImageFields.HeightIdx -> "height", ImageFields.WidthIdx -> "width",
      ImageFields.NChannelsIdx -> "nChannels", ImageFields.DataIdx -> "data").collect {
      case (i, name) if img.isNullAt(i) => name
    }
    if (nulls.nonEmpty) Some(s"image struct has null ${nulls.mkString(", ")}")
    else {
      ImageToTensor.incompatibility(
        img.getInt(ImageFields.HeightIdx), img.getInt(ImageFields.WidthIdx),
        img.getInt(ImageFields.NChannelsIdx), img.getAs[Array[Byte]](ImageFields.DataIdx).length,
        spec)
    }
  }

  /** The model's floats for one encoded file, or why it cannot feed the model. */
  private def decodeToTensor(file: Row): Either[String, Array[Float]] = {
    val bytes = file.getAs[Array[Byte]](0)
    if (bytes == null) Left("no image bytes (the struct's bytes are null)")
    else if (bytes.length > decoding.maxBytes) {
      Left(s"${bytes.length} bytes, more than maxBytes=${decoding.maxBytes}: not decoded")
    } else {
      val draft = if (decoding.draft) (spec.height, spec.width) else (0, 0)
      // the pixels as decoded (RGB): only resized into the tensor, never a Spark image row
      ImageDecoder.decode(bytes, decoding.maxPixels, draft, decoding.applyExifOrientation,
        sparkLayout = false).flatMap { img =>
        ImageToTensor.incompatibility(
          img.height, img.width, img.nChannels, img.data.length, spec).toLeft {
          val floats = new Array[Float](spec.size)
          ImageToTensor.write(
            img.height, img.width, img.nChannels, img.data, spec, floats, 0, img.rgb)
          ImageInput.decoded.incrementAndGet()
          floats
        }
      }
    }
  }

  override def describe(value: Any): String = value match {
    case file: Row if file.length == ImageFields.EncodedSchema.length =>
      Option(file.getString(1)).map(p => s"image '$p'").getOrElse {
        val size = Option(file.getAs[Array[Byte]](0)).fold("null")(b => s"${b.length} bytes")
        s"image bytes ($size, no path)"
      }
    case img: Row => s"image '${img.getString(ImageFields.OriginIdx)}'"
  }

  def write(value: Any, dst: Array[Float], offset: Int): Unit = value match {
    case floats: Array[Float] => System.arraycopy(floats, 0, dst, offset, floats.length)
    case img: Row =>
      ImageToTensor.write(img.getInt(ImageFields.HeightIdx), img.getInt(ImageFields.WidthIdx),
        img.getInt(ImageFields.NChannelsIdx), img.getAs[Array[Byte]](ImageFields.DataIdx), spec,
        dst, offset)
  }
}

object ImageInput {

  /**
   * Encoded files this JVM decoded straight into a model's input (tests check no image row was
   * built).
   */
  val decoded = new java.util.concurrent.atomic.AtomicLong

  /**
   * What an image model's `inputTensor` takes (fixed height and width, 1 or 3 channels, float32),
   * read from the model on the driver after checking that `outputTensor` exists:
   * `[batch, height, width, channels]` (TensorFlow's layout), or `[batch, channels, height, width]`
   * (PyTorch's, as ONNX exports have it) when the last dimension is not a channel count.
   * `channelOrder` applies to 3-channel inputs; 1-channel inputs take "L".
   */
  def spec(model: Model, inputTensor: String, outputTensor: String, channelOrder: String)
      : ImageInputSpec = {
    model.checkOutput(outputTensor)
    val in = model.inputInfo(inputTensor)
    if (in.dtype != "float") {
      throw new ModelException(
        s"Input tensor '${in.name}' is ${in.dtype}; images are fed as float32")
    }
    def spec(h: Long, w: Long, c: Long, first: Boolean): ImageInputSpec = {
      if (c == 3 && channelOrder == "L") {
        throw new ModelException(
          s"channelOrder is L but input tensor '${in.name}' takes 3 channels")
      }
      ImageInputSpec(h.toInt, w.toInt, c.toInt, if (c == 1) "L" else channelOrder, first)
    }
    in.shape match {
      case Some(Seq(_, h, w, c)) if h > 0 && w > 0 && (c == 1 || c == 3) =>
        spec(h, w, c, first = false)
      case Some(Seq(_, c, h, w)) if h > 0 && w > 0 && (c == 1 || c == 3) =>
        spec(h, w, c, first = true)
      case _ =>
        throw new ModelException(
          s"Input tensor '${in.name}' has shape ${in.shapeString}; an image " +
            "model needs [batch, height, width, channels] or [batch, channels, " +
            "height, width] with a fixed height and width and 1 or 3 channels")
    }
  }
}
