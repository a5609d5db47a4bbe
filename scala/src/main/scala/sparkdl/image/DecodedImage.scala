package sparkdl.image

/** An 8-bit image as Spark stores it: row-major, channels interleaved in BGR(A) order. */
final case class DecodedImage(height: Int, width: Int, nChannels: Int, data: Array[Byte])
