package sparkdl.image

import scala.util.Using
import scala.util.control.NonFatal

import org.tensorflow.{Graph, Session}
import org.tensorflow.ndarray.NdArrays
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.op.Ops
import org.tensorflow.op.image.{DecodeImage, DecodeJpeg}
import org.tensorflow.types.{TString, TUint8}

import sparkdl.tf.TFConfig

/**
 * Decodes JPEG, PNG, GIF and BMP with TensorFlow's own `DecodeImage` op (libjpeg-turbo and libpng
 * inside the TensorFlow native library the jar already carries), faster than `javax.imageio`
 * (docs/PERFORMANCE.md). One small graph and session per JVM; each call decodes on the calling
 * task's thread's behalf (decode ops are single-threaded; tasks run in parallel). Output in Spark's
 * layout (BGR, BGRA or gray bytes), or as decoded (RGB, RGBA or gray) for a caller that only
 * resizes the pixels into a tensor.
 */
object TFImageDecoder {

  /** Formats (as ImageIO names them) that TensorFlow decodes. */
  val Formats: Set[String] = Set("jpeg", "jpg", "png", "gif", "bmp")

  /** libjpeg's DCT scaling factors: a JPEG can be decoded at 1/1, 1/2, 1/4 or 1/8 of its size. */
  val JpegRatios: Seq[Int] = Seq(1, 2, 4, 8)

  private lazy val (graph, session) = {
    val g = new Graph()
    val tf = Ops.create(g)
    val contents = tf.withName("contents").placeholder(classOf[TString])
    tf.withName("pixels").image.decodeImage(contents, classOf[TUint8],
      DecodeImage.channels(java.lang.Long.valueOf(0L)),
      DecodeImage.expandAnimations(java.lang.Boolean.FALSE))
    // JPEG on its own ops, one per scaling ratio: DecodeImage uses libjpeg's fast, less accurate
    // integer IDCT; the accurate one matches what Pillow and other libjpeg users produce.
    // (RGB -> BGR stays in the JVM, where it measured faster than TensorFlow's ReverseV2.)
    JpegRatios.foreach { r =>
      tf.withName(s"jpeg_pixels_$r").image.decodeJpeg(
        contents, DecodeJpeg.channels(java.lang.Long.valueOf(0L)),
        DecodeJpeg.dctMethod("INTEGER_ACCURATE"),
        DecodeJpeg.ratio(java.lang.Long.valueOf(r.toLong)))
    }
    val s = new Session(g, TFConfig.sessionConfig) // same thread pools as the model sessions
    sys.addShutdownHook { s.close(); g.close() }
    (g, s)
  }

  /**
   * The image in Spark's layout, or why TensorFlow could not decode it; `format` as ImageIO names
   * it. A JPEG is decoded at 1/`jpegRatio` of its size (one of [[JpegRatios]]) by libjpeg's DCT
   * scaling; other formats always at full size.
   */
  def decode(bytes: Array[Byte], format: String, jpegRatio: Int = 1, sparkLayout: Boolean = true)
      : Either[String, DecodedImage] = {
    // A caller's mistake, not a bad image: thrown, never turned into a silent full-size fallback.
    require(JpegRatios.contains(jpegRatio),
      s"jpegRatio must be one of ${JpegRatios.mkString(", ")}, got $jpegRatio")
    try {
      val jpeg = format == "jpeg" || format == "jpg"
      val op = if (jpeg) s"jpeg_pixels_$jpegRatio" else "pixels"
      Using.resource(TString.tensorOfBytes(NdArrays.scalarOfObject(bytes))) { in =>
        Using.resource(session.runner().feed("contents", in).fetch(op).run()) { result =>
          val t = result.get(0).asInstanceOf[TUint8]
          val shape = t.shape().asArray()
          val (h, w, c) = (shape(0).toInt, shape(1).toInt, shape(2).toInt)
          val px = new Array[Byte](h * w * c)
          t.copyTo(DataBuffers.of(px, false, false))
          Right(if (sparkLayout) toSparkLayout(h, w, c, px) else asDecoded(h, w, c, px))
        }
      }
    } catch {
      case NonFatal(e) =>
        Left(s"cannot decode image (${e.getMessage.linesIterator.nextOption().getOrElse("")})")
    }
  }

  /** RGB -> BGR, RGBA -> BGRA, gray+alpha -> BGRA; gray stays gray. */
  private def toSparkLayout(h: Int, w: Int, c: Int, px: Array[Byte]): DecodedImage = c match {
    case 3 | 4 =>
      var i = 0
      while (i < px.length) {
        val r = px(i); px(i) = px(i + 2); px(i + 2) = r
        i += c
      }
      DecodedImage(h, w, c, px)
    case _ => asDecoded(h, w, c, px)
  }

  /**
   * The pixels in TensorFlow's order, RGB(A) (for a caller that only resizes them into a tensor,
   * which reads either order); gray+alpha -> RGBA (the same bytes as BGRA); gray stays gray.
   */
  private def asDecoded(h: Int, w: Int, c: Int, px: Array[Byte]): DecodedImage = c match {
    case 1 => DecodedImage(h, w, 1, px)
    case 3 | 4 => DecodedImage(h, w, c, px, rgb = true)
    case 2 =>
      val out = new Array[Byte](h * w * 4)
      var i = 0
      while (i < h * w) {
        val g = px(2 * i)
        out(4 * i) = g; out(4 * i + 1) = g; out(4 * i + 2) = g; out(4 * i + 3) = px(2 * i + 1)
        i += 1
      }
      DecodedImage(h, w, 4, out)
    case other => throw new IllegalStateException(s"DecodeImage gave $other channels")
  }
}
