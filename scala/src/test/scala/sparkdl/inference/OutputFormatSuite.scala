package sparkdl.inference

import java.nio.{ByteBuffer, ByteOrder}

import org.apache.spark.sql.Row
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.inference.OutputFormat.ImageOutput

class OutputFormatSuite extends AnyFunSuite {

  private def floats(cell: Any): (Seq[Any], Seq[Float]) = {
    val row = cell.asInstanceOf[Row]
    val buffer =
      ByteBuffer.wrap(row.getAs[Array[Byte]](5)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
    val out = new Array[Float](buffer.remaining())
    buffer.get(out)
    (row.toSeq.take(5), out.toSeq)
  }

  test(
    "image output: [h, w, c] pixels in Spark's BGR order, " +
      "from RGB or BGR, channels last or first") {
    // a 1x2 image of RGB pixels (1, 2, 3) and (4, 5, 6), after one row of 6 other values
    val hwc = Array[Float](9, 9, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6)
    assert(floats(ImageOutput(1, 2, 3, channelsFirst = false, fromRgb = true).cell(hwc, 6, 6)) ==
      ((Seq("", 1, 2, 3, 21), Seq[Float](3, 2, 1, 6, 5, 4))))
    assert(floats(ImageOutput(1, 2, 3, channelsFirst = false, fromRgb = false).cell(
        hwc, 6, 6))._2 ==
      Seq[Float](1, 2, 3, 4, 5, 6))
    val chw = Array[Float](1, 4, 2, 5, 3, 6) // the same image, planes R, G, B
    assert(floats(ImageOutput(1, 2, 3, channelsFirst = true, fromRgb = true).cell(chw, 0, 6))._2 ==
      Seq[Float](3, 2, 1, 6, 5, 4))
    val rgba = Array[Float](1, 2, 3, 7)
    assert(floats(ImageOutput(1, 1, 4, channelsFirst = false, fromRgb = true).cell(rgba, 0, 4)) ==
      ((Seq("", 1, 1, 4, 29), Seq[Float](3, 2, 1, 7))))
  }

  test("image output: only image shapes, named in the message") {
    val rgb = ImageOutput.forTensor(
      TensorInfo("y", "float", Some(Seq(-1L, 8L, 6L, 3L))), "RGB", channelsFirst = false)
    assert(rgb == ImageOutput(8, 6, 3, channelsFirst = false, fromRgb = true))
    assert(ImageOutput.forTensor(TensorInfo("y", "float", Some(Seq(-1L, 1L, 8L, 6L))), "L",
      channelsFirst = true) ==
      ImageOutput(8, 6, 1, channelsFirst = true, fromRgb = false))
    val e = intercept[IllegalArgumentException](
      ImageOutput.forTensor(
        TensorInfo("logits", "float", Some(Seq(-1L, 10L))), "RGB", channelsFirst = false))
    assert(e.getMessage.contains("output 'logits' is float [?,10]"), e.getMessage)
    intercept[IllegalArgumentException](
      ImageOutput.forTensor(
        TensorInfo("y", "float", Some(Seq(-1L, -1L, -1L, 3L))), "RGB", channelsFirst = false))
  }
}
