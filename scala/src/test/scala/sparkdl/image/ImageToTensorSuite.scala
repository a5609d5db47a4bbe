package sparkdl.image

import org.scalatest.funsuite.AnyFunSuite

class ImageToTensorSuite extends AnyFunSuite {

  private def bytes(xs: Int*): Array[Byte] = xs.map(_.toByte).toArray

  test("same size: exact copy with BGR -> RGB reordering") {
    // 1x2 BGR image: pixel0 (B=1,G=2,R=3), pixel1 (B=250,G=251,R=252)
    val data = bytes(1, 2, 3, 250, 251, 252)
    val out = new Array[Float](6)
    ImageToTensor.write(1, 2, 3, data, ImageInputSpec(1, 2, 3, "RGB"), out, 0)
    assert(out.toSeq == Seq(3f, 2f, 1f, 252f, 251f, 250f))
    ImageToTensor.write(1, 2, 3, data, ImageInputSpec(1, 2, 3, "BGR"), out, 0)
    assert(out.toSeq == Seq(1f, 2f, 3f, 250f, 251f, 252f))
  }

  test("upscale 2 -> 4 along one axis uses half-pixel centres (hand computed)") {
    // Gray 1x2 [0, 100] -> 1x4. src x = (i + 0.5) * 0.5 - 0.5 = -0.25, 0.25, 0.75, 1.25
    // -> clamp to [0, 0], lerp(0,100,0.25), lerp(0,100,0.75), clamp to [1, 1]
    val out = new Array[Float](4)
    ImageToTensor.write(1, 2, 1, bytes(0, 100), ImageInputSpec(1, 4, 1, "L"), out, 0)
    assert(out.toSeq == Seq(0f, 25f, 75f, 100f))
  }

  test("downscale 4x4 -> 2x2 samples between pixels (hand computed)") {
    // src = (i + 0.5) * 2 - 0.5 = 0.5, 2.5: the mean of each 2x2 block's... inner neighbours
    val px = Array.tabulate(16)(i => i * 10)
    val out = new Array[Float](4)
    ImageToTensor.write(4, 4, 1, px.map(_.toByte), ImageInputSpec(2, 2, 1, "L"), out, 0)
    // value(y, x) = 10 * (4y + x) is linear, so bilinear
    // sampling at (0.5, 0.5) gives 10 * (2 + 0.5) = 25
    assert(out.toSeq == Seq(25f, 45f, 105f, 125f))
  }

  test("grayscale images feed 3-channel models replicated; alpha is dropped") {
    val out = new Array[Float](3)
    ImageToTensor.write(1, 1, 1, bytes(200), ImageInputSpec(1, 1, 3, "RGB"), out, 0)
    assert(out.toSeq == Seq(200f, 200f, 200f))
    val out4 = new Array[Float](3)
    ImageToTensor.write(1, 1, 4, bytes(10, 20, 30, 128), ImageInputSpec(1, 1, 3, "RGB"), out4, 0)
    assert(out4.toSeq == Seq(30f, 20f, 10f))
  }

  test("writes at an offset without touching the rest of the buffer") {
    val out = Array.fill(5)(-1f)
    ImageToTensor.write(1, 1, 3, bytes(1, 2, 3), ImageInputSpec(1, 1, 3, "BGR"), out, 1)
    assert(out.toSeq == Seq(-1f, 1f, 2f, 3f, -1f))
  }

  test("unsigned bytes: 255 stays 255") {
    val out = new Array[Float](1)
    ImageToTensor.write(1, 1, 1, bytes(255), ImageInputSpec(1, 1, 1, "L"), out, 0)
    assert(out(0) == 255f)
  }

  test("incompatible images are named with a reason") {
    val spec = ImageInputSpec(2, 2, 3, "RGB")
    assert(ImageToTensor.incompatibility(0, 5, 3, 0, spec).get.contains("no pixels"))
    assert(ImageToTensor.incompatibility(2, 2, 2, 8, spec).get.contains("channel count 2"))
    assert(ImageToTensor.incompatibility(2, 2, 3, 11, spec).get.contains("11 bytes"))
    assert(ImageToTensor.incompatibility(2, 2, 3, 12, ImageInputSpec(2, 2, 1, "L")).get
        .contains("1 channel"))
    assert(ImageToTensor.incompatibility(2, 2, 4, 16, spec).isEmpty)
  }

  test("channels first ([c, h, w], ONNX's layout) holds the same values as [h, w, c], transposed") {
    val rng = new scala.util.Random(7)
    val (h, w) = (5, 3)
    for ((channels, order, nChannels) <-
        Seq((3, "RGB", 3), (3, "BGR", 4), (1, "L", 1), (3, "RGB", 1))) {
      val data = Array.fill(h * w * nChannels)(rng.nextInt(256).toByte)
      val (outH, outW) = (4, 6)
      val hwc = new Array[Float](outH * outW * channels + 2)
      val chw = new Array[Float](outH * outW * channels + 2)
      ImageToTensor.write(
        h, w, nChannels, data, ImageInputSpec(outH, outW, channels, order), hwc, 2)
      ImageToTensor.write(
        h, w, nChannels, data, ImageInputSpec(outH, outW, channels, order, channelsFirst = true),
        chw, 2)
      for (y <- 0 until outH; x <- 0 until outW; c <- 0 until channels) {
        assert(chw(2 + (c * outH + y) * outW + x) == hwc(2 + (y * outW + x) * channels + c),
          s"($y, $x, $c)")
      }
    }
  }
}
