package sparkdl.image

/**
 * How a model wants its image input: a fixed height x width x channels tensor of float pixel values
 * 0-255, channels in `channelOrder` ("RGB" or "BGR"; 1-channel models take "L").
 */
final case class ImageInputSpec(height: Int, width: Int, channels: Int, channelOrder: String,
                                channelsFirst: Boolean = false) {
  require(height > 0 && width > 0, s"Model input size must be positive, got ${height}x$width")
  require(channels == 1 || channels == 3, s"Models must take 1 or 3 channels, got $channels")
  require(ImageInputSpec.ChannelOrders.contains(channelOrder),
    "channelOrder must be one of " +
      s"${ImageInputSpec.ChannelOrders.mkString(", ")}, got '$channelOrder'")
  require(channels == 1 || channelOrder != "L", "channelOrder 'L' needs a 1-channel model input")
  require(channels == 3 || channelOrder == "L",
    s"A 1-channel model input needs channelOrder 'L', got '$channelOrder'")

  /** Floats per image. */
  val size: Int = height * width * channels

  /**
   * Shape of one image as the model takes it: [h, w, c], or [c, h, w] channels first (PyTorch's
   * layout).
   */
  def dims: Array[Long] =
    if (channelsFirst) Array(channels.toLong, height.toLong, width.toLong)
    else Array(height.toLong, width.toLong, channels.toLong)
}

object ImageInputSpec {
  val ChannelOrders: Seq[String] = Seq("RGB", "BGR", "L")
}

/**
 * Writes one Spark image (8-bit BGR/BGRA/gray bytes) into a float buffer as a model input: bilinear
 * resize with half-pixel centres and no antialiasing (the arithmetic of
 * `tf.image.resize(method="bilinear", antialias=False)`), channel reordering, grayscale replicated
 * to 3 channels, alpha dropped.
 */
object ImageToTensor {

  /** Why an image cannot feed `spec`, or None when it can. */
  def incompatibility(height: Int, width: Int, nChannels: Int, dataLength: Int,
                      spec: ImageInputSpec)
      : Option[String] = {
    if (height < 1 || width < 1) Some(s"image has no pixels (${height}x$width)")
    else if (!Seq(1, 3, 4).contains(nChannels))
      Some(s"unsupported channel count $nChannels (expected 1, 3 or 4)")
    else if (dataLength.toLong != height.toLong * width * nChannels)
      Some(
        s"image data has $dataLength bytes, but ${height}x${width}x$nChannels needs " +
          s"${height.toLong * width * nChannels}")
    else if (spec.channels == 1 && nChannels != 1)
      Some(s"model takes 1 channel (grayscale) but the image has $nChannels")
    else None
  }

  /**
   * Fills `dst(offset until offset + spec.size)` from the image, laid out `[h, w, c]`, or
   * `[c, h, w]` when `spec.channelsFirst`. The caller checked [[incompatibility]] first.
   */
  def write(height: Int, width: Int, nChannels: Int, data: Array[Byte],
            spec: ImageInputSpec, dst: Array[Float], offset: Int, rgbSource: Boolean = false)
      : Unit = {
    val outH = spec.height
    val outW = spec.width
    val outC = spec.channels
    // Source channel for each destination channel (image bytes are BGR(A), RGB(A) when
    // `rgbSource`, or gray).
    val srcChannel: Array[Int] =
      if (nChannels == 1) Array.fill(outC)(0)
      else if ((spec.channelOrder == "RGB") != rgbSource) Array(2, 1, 0)
      else Array(0, 1, 2)

    val (x0, x1, xl) = axis(width, outW)
    val (y0, y1, yl) = axis(height, outH)
    // Byte offsets of each output column's left and right source pixels within a row.
    val left = new Array[Int](outW)
    val right = new Array[Int](outW)
    var x = 0
    while (x < outW) {
      left(x) = x0(x) * nChannels
      right(x) = x1(x) * nChannels
      x += 1
    }
    val rowStride = width * nChannels
    // Where output pixel (y, x) channel c goes: offset +
    // (y * outW + x) * pixelStride + c * channelStride.
    val (pixelStride, channelStride) = if (spec.channelsFirst) (1, outH * outW) else (outC, 1)
    val c1 = channelStride
    val c2 = 2 * channelStride
    var o = offset
    var y = 0
    while (y < outH) {
      val top = y0(y) * rowStride
      val bottom = y1(y) * rowStride
      val ly = yl(y)
      if (outC == 3) {
        // The common case, channels unrolled; same arithmetic, in the same order, as below.
        val s0 = srcChannel(0)
        val s1 = srcChannel(1)
        val s2 = srcChannel(2)
        x = 0
        while (x < outW) {
          val l = left(x)
          val r = right(x)
          val lx = xl(x)
          dst(o) = lerp2(data, top + l + s0, top + r + s0, bottom + l + s0, bottom + r + s0, lx, ly)
          dst(o + c1) =
            lerp2(data, top + l + s1, top + r + s1, bottom + l + s1, bottom + r + s1, lx, ly)
          dst(o + c2) =
            lerp2(data, top + l + s2, top + r + s2, bottom + l + s2, bottom + r + s2, lx, ly)
          o += pixelStride
          x += 1
        }
      } else {
        x = 0
        while (x < outW) {
          val l = left(x)
          val r = right(x)
          val lx = xl(x)
          var c = 0
          while (c < outC) {
            val s = srcChannel(c)
            dst(o + c * channelStride) =
              lerp2(data, top + l + s, top + r + s, bottom + l + s, bottom + r + s, lx, ly)
            c += 1
          }
          o += pixelStride
          x += 1
        }
      }
      y += 1
    }
  }

  /**
   * Bilinear value from four source bytes: along x on both rows first, then along y (TensorFlow's
   * order).
   */
  @inline private def lerp2(data: Array[Byte], tlI: Int, trI: Int, blI: Int, brI: Int, lx: Float,
                            ly: Float): Float = {
    val tl = (data(tlI) & 0xff).toFloat
    val tr = (data(trI) & 0xff).toFloat
    val bl = (data(blI) & 0xff).toFloat
    val br = (data(brI) & 0xff).toFloat
    val t = tl + (tr - tl) * lx
    val b = bl + (br - bl) * lx
    t + (b - t) * ly
  }

  /**
   * Interpolation along one axis, as TensorFlow computes it for half-pixel centres: source = (i +
   * 0.5) * in / out - 0.5; lower = max(floor, 0); upper = min(ceil, in - 1); weight = source -
   * floor(source).
   */
  private[image] def axis(in: Int, out: Int): (Array[Int], Array[Int], Array[Float]) = {
    val scale = in.toFloat / out.toFloat
    val lower = new Array[Int](out)
    val upper = new Array[Int](out)
    val lerp = new Array[Float](out)
    var i = 0
    while (i < out) {
      val src = (i.toFloat + 0.5f) * scale - 0.5f
      val f = math.floor(src.toDouble).toFloat
      lower(i) = math.max(f.toInt, 0)
      upper(i) = math.min(math.ceil(src.toDouble).toInt, in - 1)
      lerp(i) = src - f
      i += 1
    }
    (lower, upper, lerp)
  }
}
