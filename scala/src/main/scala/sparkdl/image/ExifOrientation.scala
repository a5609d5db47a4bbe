package sparkdl.image

/**
 * EXIF orientation: phones store a photo as the sensor saw it and say in EXIF tag 0x0112 how to
 * turn it upright. Read from a JPEG's APP1 segment ([[of]]) and applied to decoded pixels as
 * Pillow's `ImageOps.exif_transpose` does ([[apply]]).
 */
object ExifOrientation {

  /**
   * The orientation (1-8) a JPEG's EXIF declares, or None (no EXIF, not a JPEG, a value out of
   * range).
   */
  def of(bytes: Array[Byte]): Option[Int] = {
    def u8(i: Int) = bytes(i) & 0xff
    def be16(i: Int) = u8(i) << 8 | u8(i + 1)
    if (bytes.length < 4 || u8(0) != 0xff || u8(1) != 0xd8) return None
    var at = 2
    while (at + 4 <= bytes.length && u8(at) == 0xff) {
      val marker = u8(at + 1)
      if (marker == 0xda || marker == 0xd9) return None // image data: no EXIF before it
      val length = be16(at + 2)
      val body = at + 4
      if (marker == 0xe1 && body + 14 <= bytes.length &&
          new String(bytes, body, 4, "ISO-8859-1") == "Exif") {
        return tiffOrientation(bytes, body + 6, math.min(bytes.length, at + 2 + length))
      }
      at += 2 + length
    }
    None
  }

  /** Tag 0x0112 of IFD0 in the TIFF structure at `tiff` (until `end`). */
  private def tiffOrientation(bytes: Array[Byte], tiff: Int, end: Int): Option[Int] = {
    val little = bytes(tiff) == 'I'
    def u16(i: Int) =
      if (little) (bytes(i) & 0xff) | (bytes(i + 1) & 0xff) << 8
      else (bytes(i) & 0xff) << 8 | (bytes(i + 1) & 0xff)
    def u32(i: Int) =
      if (little) u16(i).toLong | u16(i + 2).toLong << 16 else u16(i).toLong << 16 | u16(i + 2)
    if (tiff + 8 > end || u16(tiff + 2) != 42) return None
    val ifd = tiff + u32(tiff + 4).toInt
    if (ifd < tiff || ifd + 2 > end) return None
    val count = u16(ifd)
    (0 until count).iterator.map(k => ifd + 2 + 12 * k).takeWhile(_ + 12 <= end)
      .collectFirst { case e if u16(e) == 0x0112 => u16(e + 8) }
      .filter(o => o >= 1 && o <= 8)
  }

  /**
   * `img` turned upright for `orientation` (1: as is; 2-8: the mirrorings and quarter turns EXIF
   * names).
   */
  def apply(img: DecodedImage, orientation: Int): DecodedImage = {
    if (orientation <= 1 || orientation > 8) return img
    val (h, w, c) = (img.height, img.width, img.nChannels)
    val swap = orientation >= 5
    val (oh, ow) = if (swap) (w, h) else (h, w)
    val out = new Array[Byte](img.data.length)
    var y = 0
    while (y < oh) {
      var x = 0
      while (x < ow) {
        val (sy, sx) = orientation match {
          case 2 => (y, w - 1 - x)
          case 3 => (h - 1 - y, w - 1 - x)
          case 4 => (h - 1 - y, x)
          case 5 => (x, y)
          case 6 => (h - 1 - x, y)
          case 7 => (h - 1 - x, w - 1 - y)
          case _ => (x, w - 1 - y) // 8
        }
        System.arraycopy(img.data, (sy * w + sx) * c, out, (y * ow + x) * c, c)
        x += 1
      }
      y += 1
    }
    img.copy(height = oh, width = ow, data = out)
  }
}
