package sparkdl.image

/**
 * Camera RAW files that are TIFF containers: Adobe DNG, Canon CR2, and the Nikon / Sony / Pentax
 * kind (NEF, ARW, PEF) whose first image is a reduced-resolution preview. A TIFF decoder reads them
 * as TIFFs and returns that first image (a thumbnail, or a preview the camera rendered), not the
 * photo: sparkdl does not decode RAW, so they are refused by what their first bytes say.
 */
private[image] object CameraRaw {

  /** The kind of camera RAW file `bytes` starts with, if it is one. */
  def of(bytes: Array[Byte]): Option[String] = {
    if (bytes.length < 16) return None
    val little = bytes(0) == 'I' && bytes(1) == 'I' && bytes(2) == 42 && bytes(3) == 0
    val big = bytes(0) == 'M' && bytes(1) == 'M' && bytes(2) == 0 && bytes(3) == 42
    if (!little && !big) return None
    if (bytes(8) == 'C' && bytes(9) == 'R') return Some("Canon CR2")
    def u16(at: Int): Int =
      if (little) (bytes(at) & 0xff) | (bytes(at + 1) & 0xff) << 8
      else (bytes(at) & 0xff) << 8 | (bytes(at + 1) & 0xff)
    def u32(at: Int): Long =
      if (little) (u16(at) | u16(at + 2).toLong << 16) & 0xffffffffL
      else (u16(at).toLong << 16 | u16(at + 2)) & 0xffffffffL
    val ifd = u32(4)
    if (ifd < 8 || ifd + 2 > bytes.length) return None
    val entries = u16(ifd.toInt)
    val tags = (0 until entries).iterator.map(i => ifd.toInt + 2 + 12 * i)
      .takeWhile(_ + 12 <= bytes.length)
      .map(at => u16(at) -> (if (u16(at + 2) == 3) u16(at + 8).toLong else u32(at + 8))).toMap
    if (tags.contains(DngVersion)) Some("DNG")
    else if (tags.get(NewSubfileType).exists(t => (t & 1) == 1))
      Some("a RAW whose first image is a preview")
    else None
  }

  private val NewSubfileType = 254
  private val DngVersion = 50706

  /** The row's reason for a camera RAW file of `kind`. */
  def reason(kind: String): String =
    s"camera RAW ($kind), not a recognized image format: its TIFF image " +
      "is a preview, not the photo (convert RAW files to TIFF or JPEG first)"
}
