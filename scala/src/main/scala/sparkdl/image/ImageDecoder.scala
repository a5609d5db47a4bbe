package sparkdl.image

import java.awt.color.ColorSpace
import java.awt.image.BufferedImage
import java.io.ByteArrayInputStream
import javax.imageio.ImageIO

import scala.util.control.NonFatal

/**
 * Decodes compressed image bytes (JPEG, PNG, BMP, GIF...) into Spark's image layout. Grayscale
 * stays 1 channel (16-bit gray is scaled to 8 bits), images with alpha become BGRA, everything else
 * BGR. Failures are returned as a reason, not thrown, so one bad file never fails a job.
 */
object ImageDecoder {

  /**
   * Decode with TensorFlow's ops where the format allows (default), or only with ImageIO
   * (`-Dsparkdl.image.decoder=imageio`).
   */
  val UseTensorFlow: Boolean =
    System.getProperty("sparkdl.image.decoder", "tensorflow") != "imageio"

  /** Default limit on declared pixels; larger images are refused before decoding. */
  val DefaultMaxPixels: Long = 100L * 1000 * 1000

  /**
   * The largest libjpeg scaling ratio (1, 2, 4 or 8) that keeps a `height` x `width` JPEG at least
   * `draft` (height, width) large: libjpeg decodes at 1/r to ceil(height / r) x ceil(width / r).
   * `draft` = (0, 0): full size.
   */
  def jpegRatio(height: Long, width: Long, draft: (Int, Int)): Int =
    if (draft._1 <= 0 && draft._2 <= 0) 1
    else TFImageDecoder.JpegRatios.filter { r =>
      (height + r - 1) / r >= draft._1 && (width + r - 1) / r >= draft._2
    }.maxOption.getOrElse(1)

  /**
   * @param maxPixels
   *   images declaring more pixels are refused before decoding
   * @param draft
   *   (height, width) the caller needs at least, as Pillow's `Image.draft`: a JPEG is decoded
   *   directly at the smallest DCT scale (1/2, 1/4, 1/8) that keeps it at least that large (faster
   *   than a full decode, and more so at 1/4 and 1/8); other formats, and JPEGs TensorFlow refuses,
   *   decode at full size. (0, 0), the default: always full size.
   * @param exifOrientation
   *   turn a JPEG upright as its EXIF orientation says (Pillow's `ImageOps.exif_transpose`);
   *   default false: the pixels as stored, as Keras' `load_img` and Pillow's `open` give them.
   */
  def decode(bytes: Array[Byte], maxPixels: Long = DefaultMaxPixels, draft: (Int, Int) = (0, 0),
             exifOrientation: Boolean = false, sparkLayout: Boolean = true)
      : Either[String, DecodedImage] =
    decodeAsStored(bytes, maxPixels, draft, sparkLayout).map { img =>
      if (exifOrientation) ExifOrientation.of(bytes).fold(img)(ExifOrientation(img, _)) else img
    }

  /** Why an image declaring `w` x `h` pixels is not decoded, if it is not. */
  private def sizeRefusal(w: Long, h: Long, maxPixels: Long): Option[String] =
    if (w <= 0 || h <= 0) Some(s"image declares an empty size, $w wide x $h high")
    else if (w * h > maxPixels) {
      Some(s"image declares $w wide x $h high = ${w * h} pixels, more than the limit of $maxPixels")
    } else None

  /**
   * A JPEG or PNG whose header [[ImageHeader]] reads, decoded by TensorFlow without ImageIO: the
   * image, a refusal (its size, the decode budget), or None when TensorFlow could not decode it (a
   * CMYK JPEG, a damaged file: ImageIO then reads it, and says why it cannot).
   */
  private def decodeByHeader(bytes: Array[Byte], header: (String, Long, Long), maxPixels: Long,
                             draft: (Int, Int), sparkLayout: Boolean)
      : Option[Either[String, DecodedImage]] = {
    val (format, w, h) = header
    sizeRefusal(w, h, maxPixels).map(Left(_)).orElse {
      val ratio = if (format == "jpeg") jpegRatio(h, w, draft) else 1
      DecodeBudget.withBytes(DecodeBudget.bytesFor(w, h)) {
        Right(TFImageDecoder.decode(bytes, format, ratio, sparkLayout))
      } match {
        case Left(refused) => Some(Left(refused))
        case Right(Right(img)) => Some(Right(img))
        case Right(Left(_)) => None
      }
    }
  }

  private def decodeAsStored(bytes: Array[Byte], maxPixels: Long, draft: (Int, Int),
                             sparkLayout: Boolean): Either[String, DecodedImage] = {
    if (bytes == null || bytes.isEmpty) return Left("empty file")
    CameraRaw.of(bytes).foreach(kind => return Left(CameraRaw.reason(kind)))
    val header = if (UseTensorFlow) ImageHeader.of(bytes) else None
    header.flatMap(decodeByHeader(bytes, _, maxPixels, draft, sparkLayout)).foreach(return _)
    val tensorFlowTried = header.isDefined
    try {
      val in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))
      if (in == null) return Left("cannot open image stream")
      try {
        val readers = ImageIO.getImageReaders(in)
        if (!readers.hasNext) return Left("not a recognized image format")
        val reader = readers.next()
        try {
          reader.setInput(in, true, true)
          // A truncated or damaged file often decodes "successfully" with a warning and
          // grey filler pixels: treat any warning as a failure, never as an image.
          val warnings = scala.collection.mutable.ArrayBuffer.empty[String]
          reader.addIIOReadWarningListener((_: javax.imageio.ImageReader, warning: String) =>
            warnings += warning)
          val w = reader.getWidth(0).toLong
          val h = reader.getHeight(0).toLong
          sizeRefusal(w, h, maxPixels).foreach(refused => return Left(refused))
          val format = reader.getFormatName.toLowerCase
          // An animated GIF: TensorFlow's GIF op decodes every frame (3,000 frames of 2000
          // x 2000 are 36 GB) even when it returns the first; ImageIO decodes the first
          // frame alone. Counting frames reads the file's block structure, not its pixels.
          val frames = if (format == "gif") gifFrames(bytes) else 1
          DecodeBudget.withBytes(DecodeBudget.bytesFor(w, h)) {
            val fast =
              if (UseTensorFlow && !tensorFlowTried && TFImageDecoder.Formats.contains(format) &&
                  frames <= 1) {
                // Fast path; anything TensorFlow refuses (e.g. CMYK JPEG) goes on to ImageIO below.
                val ratio = if (format == "jpeg" || format == "jpg") jpegRatio(h, w, draft) else 1
                TFImageDecoder.decode(bytes, format, ratio, sparkLayout).toOption
              } else None
            fast.map(Right(_)).getOrElse {
              val img = reader.read(0)
              val sampleType = img.getRaster.getDataBuffer.getDataType
              if (warnings.nonEmpty) Left(s"damaged image: ${warnings.mkString("; ")}")
              else if (sampleType == java.awt.image.DataBuffer.TYPE_FLOAT ||
                  sampleType == java.awt.image.DataBuffer.TYPE_DOUBLE) {
                // no range to map to 0-255 (0-1? raw measurements?):
                // a reason, never made-up or zero pixels
                Left(
                  s"$format with floating-point pixels: sparkdl reads 8- and 16-bit images; " +
                    "convert it to one (the float values have no fixed range to map to 0-255)")
              } else Right(toSparkLayout(img))
            }.map(img => if (format == "bmp") bmpWithoutPadding(bytes, img) else img)
              .map(img =>
                if (frames > 1) img.copy(note = Some(s"animated GIF: its first frame of $frames"))
                else img)
          }
        } finally reader.dispose()
      } finally in.close()
    } catch {
      case NonFatal(e) =>
        Left(s"cannot decode image (${e.getClass.getSimpleName}: ${e.getMessage})")
    }
  }

  /** The frames of a GIF, from its block structure (image data is skipped, not decoded). */
  private def gifFrames(bytes: Array[Byte]): Int = {
    val in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))
    try {
      val reader = ImageIO.getImageReaders(in).next()
      try {
        reader.setInput(in, false, true) // counting needs to search the stream
        reader.getNumImages(true)
      } finally reader.dispose()
    } finally in.close()
  }

  /**
   * A 32-bit BMP without an alpha mask (BI_RGB, as Windows writes them) stores its pixels as BGRX:
   * the 4th byte is padding, usually 0, not alpha. Decoders that read it as alpha give a fully
   * transparent picture; Pillow and Windows give 3 channels. So do we.
   */
  private def bmpWithoutPadding(bytes: Array[Byte], img: DecodedImage): DecodedImage = {
    def u16(at: Int) = (bytes(at) & 0xff) | (bytes(at + 1) & 0xff) << 8
    def u32(at: Int) = u16(at).toLong | u16(at + 2).toLong << 16
    val headerSize = if (bytes.length >= 18) u32(14) else 0L
    // bpp 32, BI_RGB
    val rgbOnly = bytes.length >= 34 && headerSize >= 40 && u16(28) == 32 && u32(30) == 0
    if (img.nChannels != 4 || !rgbOnly) img
    else {
      val n = img.height * img.width
      val out = new Array[Byte](n * 3)
      var i = 0
      while (i < n) {
        out(3 * i) = img.data(4 * i)
        out(3 * i + 1) = img.data(4 * i + 1)
        out(3 * i + 2) = img.data(4 * i + 2)
        i += 1
      }
      DecodedImage(img.height, img.width, 3, out)
    }
  }

  /**
   * Why a file that starts with `header` is not decoded, from those bytes alone: not a format the
   * decoder knows, or a declared size above `maxPixels`. None: read on (also when the header is too
   * short to hold the size, e.g. a JPEG with a large EXIF block first).
   */
  def checkHeader(header: Array[Byte], maxPixels: Long): Option[String] =
    CameraRaw.of(header).map(CameraRaw.reason).orElse(try {
      val in = ImageIO.createImageInputStream(new ByteArrayInputStream(header))
      try {
        val readers = ImageIO.getImageReaders(in)
        if (!readers.hasNext) Some("not a recognized image format")
        else {
          val reader = readers.next()
          try {
            reader.setInput(in, true, true)
            scala.util.Try((reader.getWidth(0).toLong,
                reader.getHeight(0).toLong)).toOption.collect {
              case (w, h) if w * h > maxPixels =>
                s"image declares $w wide x $h high = ${w * h} " +
                  s"pixels, more than the limit of $maxPixels"
            }
          } finally reader.dispose()
        }
      } finally in.close()
    } catch { case NonFatal(_) => None })

  /** Converts a decoded AWT image into Spark's byte layout. */
  def toSparkLayout(img: BufferedImage): DecodedImage = {
    val h = img.getHeight
    val w = img.getWidth
    val cm = img.getColorModel
    val isGray = cm.getColorSpace.getType == ColorSpace.TYPE_GRAY && cm.getNumComponents == 1
    if (isGray) {
      val raster = img.getRaster
      val bits = cm.getComponentSize(0)
      val out = new Array[Byte](h * w)
      val row = new Array[Int](w)
      var y = 0
      while (y < h) {
        raster.getSamples(0, y, w, 1, 0, row)
        var x = 0
        while (x < w) {
          val v = if (bits > 8) row(x) >>> (bits - 8)
          else if (bits < 8) row(x) * 255 / ((1 << bits) - 1) else row(x)
          out(y * w + x) = v.toByte
          x += 1
        }
        y += 1
      }
      DecodedImage(h, w, 1, out)
    } else {
      val alpha = cm.hasAlpha
      val c = if (alpha) 4 else 3
      val out = new Array[Byte](h * w * c)
      val argb = new Array[Int](w)
      var y = 0
      while (y < h) {
        img.getRGB(0, y, w, 1, argb, 0, w)
        var x = 0
        var o = y * w * c
        while (x < w) {
          val p = argb(x)
          out(o) = (p & 0xff).toByte // B
          out(o + 1) = ((p >> 8) & 0xff).toByte // G
          out(o + 2) = ((p >> 16) & 0xff).toByte // R
          if (alpha) out(o + 3) = ((p >>> 24) & 0xff).toByte
          o += c
          x += 1
        }
        y += 1
      }
      DecodedImage(h, w, c, out)
    }
  }
}

/**
 * The memory decoding may hold at once in this JVM, shared by its tasks: half the maximum heap (or
 * `-Dsparkdl.decodeBudget=BYTES`). A decode reserves what it may need before it starts and waits
 * while other decodes hold the budget, so two huge images in one executor decode one after the
 * other instead of running it out of memory; an image that alone needs more than the budget is
 * refused with a reason that says what to raise.
 */
object DecodeBudget {

  val total: Long = java.lang.Long.getLong("sparkdl.decodeBudget", Runtime.getRuntime.maxMemory / 2)

  private var used = 0L // guarded by this

  /**
   * What decoding `w` x `h` pixels may hold: the decoder's pixels and Spark's copy, 4 bytes each.
   */
  def bytesFor(w: Long, h: Long): Long = w * h * 8

  /** Runs `decode` holding `bytes` of the budget, or refuses when `bytes` exceeds all of it. */
  def withBytes[T](bytes: Long)(decode: => Either[String, T]): Either[String, T] =
    if (bytes > total) {
      Left(s"decoding needs about ${bytes >> 20} MiB, more than this JVM's image decode " +
        s"budget of ${total >> 20} MiB (half its heap): raise spark.executor.memory " +
        "(spark.driver.memory in local mode), or lower maxPixels to refuse such images")
    } else {
      synchronized {
        while (used + bytes > total) wait()
        used += bytes
      }
      try decode
      finally synchronized {
          used -= bytes
          notifyAll()
        }
    }
}
