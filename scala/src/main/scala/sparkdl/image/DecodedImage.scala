package sparkdl.image

/**
 * An 8-bit image as Spark stores it: row-major, channels interleaved in BGR(A) order. `note` says
 * what of the file the image is not (an animated GIF's first frame), for the row's `imageError`.
 */
final case class DecodedImage(height: Int, width: Int, nChannels: Int, data: Array[Byte],
                              note: Option[String] = None)
