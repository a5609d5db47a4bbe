package sparkdl.image

/**
 * An 8-bit image: row-major, channels interleaved in BGR(A) order as Spark stores them, or in
 * RGB(A) order when `rgb` (as decoded, for a caller that only resizes it into a tensor). `note`
 * says what of the file the image is not (an animated GIF's first frame), for the row's
 * `imageError`.
 */
final case class DecodedImage(height: Int, width: Int, nChannels: Int, data: Array[Byte],
                              note: Option[String] = None, rgb: Boolean = false)
