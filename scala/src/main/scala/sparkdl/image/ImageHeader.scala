package sparkdl.image

/**
 * The format and declared size of a JPEG or PNG, read from its first bytes without a decoder (what
 * the pixel-count guard needs before TensorFlow decodes it; `javax.imageio` takes ~0.25 ms to tell
 * the same). Anything else, or a header this does not follow, is left to ImageIO (None).
 */
object ImageHeader {

  /** (format as ImageIO names it, width, height). */
  def of(bytes: Array[Byte]): Option[(String, Long, Long)] =
    if (isPng(bytes)) png(bytes) else if (isJpeg(bytes)) jpeg(bytes) else None

  private val PngSignature = Array(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a).map(_.toByte)

  private def isPng(b: Array[Byte]): Boolean =
    b.length >= 24 && java.util.Arrays.equals(b, 0, 8, PngSignature, 0, 8)

  private def isJpeg(b: Array[Byte]): Boolean =
    b.length >= 4 && u8(b, 0) == 0xff && u8(b, 1) == 0xd8

  private def u8(b: Array[Byte], at: Int): Int = b(at) & 0xff
  private def u16(b: Array[Byte], at: Int): Int = u8(b, at) << 8 | u8(b, at + 1)
  private def u32(b: Array[Byte], at: Int): Long = u16(b, at).toLong << 16 | u16(b, at + 2)

  /** IHDR is the first chunk: width and height, 4 bytes each, big-endian. */
  private def png(b: Array[Byte]): Option[(String, Long, Long)] =
    if (new String(b, 12, 4, java.nio.charset.StandardCharsets.US_ASCII) != "IHDR") None
    else Some(("png", u32(b, 16), u32(b, 20)))

  /**
   * The first start-of-frame segment (SOF0-3, 5-7, 9-11, 13-15: every coding process) holds the
   * height, then the width. Segments before it are skipped by their lengths; a scan before any
   * frame header, or a height of 0 (declared later by a DNL segment), is left to ImageIO.
   */
  private def jpeg(b: Array[Byte]): Option[(String, Long, Long)] = {
    var at = 2
    while (at + 4 <= b.length) {
      if (u8(b, at) != 0xff) return None
      val marker = u8(b, at + 1)
      if (marker == 0xff) at += 1 // a fill byte
      else if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) at += 2 // no length
      else {
        val sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 &&
          marker != 0xcc
        if (sof) {
          if (at + 9 > b.length) return None
          val (h, w) = (u16(b, at + 5).toLong, u16(b, at + 7).toLong)
          return if (h == 0) None else Some(("jpeg", w, h))
        }
        if (marker == 0xda || marker == 0xd9) return None // a scan, or the end, before a frame
        at += 2 + u16(b, at + 2)
      }
    }
    None
  }
}
