package sparkdl.image

import org.apache.spark.sql.Row

import sparkdl.inference.{BatchInput, Model, ModelException}

/** A model input fed from a column of Spark image structs, each resized to `spec` ([[ImageToTensor]]). */
final case class ImageInput(column: String, tensor: String, spec: ImageInputSpec) extends BatchInput {

  val dims: Array[Long] = spec.dims

  override def incompatibility(value: Any): Option[String] = {
    val img = value.asInstanceOf[Row]
    val nulls = Seq(ImageFields.HeightIdx -> "height", ImageFields.WidthIdx -> "width",
      ImageFields.NChannelsIdx -> "nChannels", ImageFields.DataIdx -> "data").collect {
      case (i, name) if img.isNullAt(i) => name
    }
    if (nulls.nonEmpty) Some(s"image struct has null ${nulls.mkString(", ")}")
    else {
      ImageToTensor.incompatibility(img.getInt(ImageFields.HeightIdx), img.getInt(ImageFields.WidthIdx),
        img.getInt(ImageFields.NChannelsIdx), img.getAs[Array[Byte]](ImageFields.DataIdx).length, spec)
    }
  }

  override def describe(value: Any): String = s"image '${value.asInstanceOf[Row].getString(ImageFields.OriginIdx)}'"

  def write(value: Any, dst: Array[Float], offset: Int): Unit = {
    val img = value.asInstanceOf[Row]
    ImageToTensor.write(img.getInt(ImageFields.HeightIdx), img.getInt(ImageFields.WidthIdx),
      img.getInt(ImageFields.NChannelsIdx), img.getAs[Array[Byte]](ImageFields.DataIdx), spec, dst, offset)
  }
}

object ImageInput {

  /**
   * What an image model's `inputTensor` takes (fixed height and width, 1 or 3 channels,
   * float32), read from the model on the driver after checking that `outputTensor` exists:
   * `[batch, height, width, channels]` (TensorFlow's layout), or `[batch, channels, height,
   * width]` (PyTorch's, as ONNX exports have it) when the last dimension is not a channel count.
   * `channelOrder` applies to 3-channel inputs; 1-channel inputs take "L".
   */
  def spec(model: Model, inputTensor: String, outputTensor: String, channelOrder: String): ImageInputSpec = {
    model.checkOutput(outputTensor)
    val in = model.inputInfo(inputTensor)
    if (in.dtype != "float") {
      throw new ModelException(s"Input tensor '${in.name}' is ${in.dtype}; images are fed as float32")
    }
    def spec(h: Long, w: Long, c: Long, first: Boolean): ImageInputSpec = {
      if (c == 3 && channelOrder == "L") {
        throw new ModelException(s"channelOrder is L but input tensor '${in.name}' takes 3 channels")
      }
      ImageInputSpec(h.toInt, w.toInt, c.toInt, if (c == 1) "L" else channelOrder, first)
    }
    in.shape match {
      case Some(Seq(_, h, w, c)) if h > 0 && w > 0 && (c == 1 || c == 3) => spec(h, w, c, first = false)
      case Some(Seq(_, c, h, w)) if h > 0 && w > 0 && (c == 1 || c == 3) => spec(h, w, c, first = true)
      case _ =>
        throw new ModelException(
          s"Input tensor '${in.name}' has shape ${in.shapeString}; an image model needs " +
            "[batch, height, width, channels] or [batch, channels, height, width] with a fixed height and width " +
            "and 1 or 3 channels")
    }
  }
}
