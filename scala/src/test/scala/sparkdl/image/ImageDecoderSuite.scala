package sparkdl.image

import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.nio.ByteBuffer
import java.util.zip.CRC32
import javax.imageio.ImageIO

import org.scalatest.funsuite.AnyFunSuite

class ImageDecoderSuite extends AnyFunSuite {

  private def png(img: BufferedImage): Array[Byte] = {
    val out = new ByteArrayOutputStream()
    assert(ImageIO.write(img, "png", out))
    out.toByteArray
  }

  test("decodes that together need more than the budget wait for each other") {
    val share = DecodeBudget.total * 3 / 5 // two of them do not fit at once
    val firstHolds = new java.util.concurrent.CountDownLatch(1)
    val release = new java.util.concurrent.CountDownLatch(1)
    @volatile var secondStarted = 0L
    @volatile var firstEnded = 0L
    val first = new Thread(() =>
      DecodeBudget.withBytes(share) {
        firstHolds.countDown()
        release.await()
        firstEnded = System.nanoTime()
        Right(())
      })
    first.start()
    firstHolds.await()
    val second = new Thread(() =>
      DecodeBudget.withBytes(share) {
        secondStarted = System.nanoTime()
        Right(())
      })
    second.start()
    Thread.sleep(300)
    assert(secondStarted == 0L, "the second decode started while the first held its share")
    release.countDown()
    first.join(10000)
    second.join(10000)
    assert(secondStarted > 0L && secondStarted >= firstEnded)
    // one that alone needs more than the budget is refused, naming what to raise
    val refused = DecodeBudget.withBytes(DecodeBudget.total + 1)(Right(()))
    assert(refused.isLeft && refused.left.exists(r =>
      r.contains("spark.executor.memory") &&
        r.contains("spark.driver.memory in local mode") && r.contains("maxPixels")))
  }

  test("RGB PNG decodes to BGR bytes, row-major") {
    val img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB)
    img.setRGB(0, 0, 0x0a141e) // R=10 G=20 B=30
    img.setRGB(1, 0, 0xff8001) // R=255 G=128 B=1
    val d = ImageDecoder.decode(png(img)).toOption.get
    assert((d.height, d.width, d.nChannels) == (1, 2, 3))
    assert(d.data.map(_ & 0xff).toSeq == Seq(30, 20, 10, 1, 128, 255))
  }

  test("RGBA PNG keeps alpha as a 4th channel (BGRA)") {
    val img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB)
    img.setRGB(0, 0, 0x800a141e)
    val d = ImageDecoder.decode(png(img)).toOption.get
    assert(d.nChannels == 4)
    assert(d.data.map(_ & 0xff).toSeq == Seq(30, 20, 10, 128))
  }

  test("8-bit and 16-bit grayscale PNG decode to one channel, exact") {
    val g8 = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY)
    g8.getRaster.setSamples(0, 0, 2, 1, 0, Array(7, 250))
    val d8 = ImageDecoder.decode(png(g8)).toOption.get
    assert(d8.nChannels == 1 && d8.data.map(_ & 0xff).toSeq == Seq(7, 250))
    val g16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY)
    g16.getRaster.setSamples(0, 0, 2, 1, 0, Array(7 << 8, 65535))
    val d16 = ImageDecoder.decode(png(g16)).toOption.get
    assert(d16.nChannels == 1 && d16.data.map(_ & 0xff).toSeq == Seq(7, 255))
  }

  test("bad bytes give a reason, never an exception") {
    assert(ImageDecoder.decode(Array.emptyByteArray).left.toOption.get.contains("empty"))
    assert(ImageDecoder.decode("not an image at all".getBytes).left.toOption.get
        .contains("not a recognized"))
    val good = png(new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB))
    val truncated = java.util.Arrays.copyOf(good, good.length / 2)
    assert(ImageDecoder.decode(truncated).isLeft)
  }

  test("an image declaring more pixels than the limit is not decoded") {
    // A PNG header that declares 60000 x 60000 pixels, with no pixel data behind it.
    val ihdr = ByteBuffer.allocate(17).put("IHDR".getBytes).putInt(60000).putInt(60000)
      .put(Array[Byte](8, 2, 0, 0, 0)).array()
    val crc = new CRC32(); crc.update(ihdr)
    val bytes = ByteBuffer.allocate(8 + 4 + 17 + 4)
      .put(Array(0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a).map(_.toByte))
      .putInt(13).put(ihdr).putInt(crc.getValue.toInt).array()
    val reason = ImageDecoder.decode(bytes).left.toOption.get
    assert(reason.contains("60000 wide x 60000 high") && reason.contains("limit"), reason)
    assert(ImageDecoder.decode(png(new BufferedImage(20, 10, BufferedImage.TYPE_INT_RGB)),
        maxPixels = 100)
        .left.toOption.get.contains("20 wide x 10 high"))
  }

  test("TensorFlow's decoder and ImageIO agree: PNG exactly, JPEG within rounding") {
    val img = new BufferedImage(37, 23, BufferedImage.TYPE_INT_RGB)
    for (y <- 0 until 23; x <- 0 until 37)
      img.setRGB(x, y, (x * 7 << 16) | (y * 11 << 8) | ((x + y) * 3))
    val viaImageIO = ImageDecoder.toSparkLayout(img)
    val fromPng = TFImageDecoder.decode(png(img), "png").toOption.get
    assert(fromPng.nChannels == 3 && fromPng.data.sameElements(viaImageIO.data))
    val jpeg = {
      val out = new ByteArrayOutputStream(); ImageIO.write(img, "jpeg", out); out.toByteArray
    }
    val a = TFImageDecoder.decode(jpeg, "jpeg").toOption.get.data.map(_ & 0xff)
    val b = ImageDecoder.toSparkLayout(
      ImageIO.read(new java.io.ByteArrayInputStream(jpeg))).data.map(_ & 0xff)
    val diffs = a.zip(b).map { case (x, y) => math.abs(x - y) }
    // two JPEG decoders (ImageIO has no fancy chroma
    // upsampling): close, but not equal; a channel mix-up is far
    assert(diffs.sum.toDouble / diffs.length < 2.0 && diffs.max <= 16,
      s"mean ${diffs.sum.toDouble / diffs.length}")
    assert(TFImageDecoder.decode("junk".getBytes, "png").isLeft)
  }

  private def jpeg(img: BufferedImage): Array[Byte] = {
    val out = new ByteArrayOutputStream()
    assert(ImageIO.write(img, "jpeg", out))
    out.toByteArray
  }

  test("ImageHeader reads the format and size ImageIO reads; other bytes are left to ImageIO") {
    val img = new BufferedImage(37, 23, BufferedImage.TYPE_INT_RGB)
    val progressive = {
      val writer = ImageIO.getImageWritersByFormatName("jpeg").next()
      val param = writer.getDefaultWriteParam
      param.setProgressiveMode(javax.imageio.ImageWriteParam.MODE_DEFAULT)
      val out = new ByteArrayOutputStream()
      writer.setOutput(ImageIO.createImageOutputStream(out))
      writer.write(null, new javax.imageio.IIOImage(img, null, null), param)
      writer.dispose()
      out.toByteArray
    }
    val gray = new BufferedImage(5, 9, BufferedImage.TYPE_BYTE_GRAY)
    for ((bytes, format) <- Seq(jpeg(img) -> "jpeg", progressive -> "jpeg", png(img) -> "png",
        png(gray) -> "png", jpeg(gray) -> "jpeg")) {
      val reader = ImageIO.getImageReaders(
        ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(bytes))).next()
      reader.setInput(ImageIO.createImageInputStream(new java.io.ByteArrayInputStream(bytes)))
      assert(ImageHeader.of(bytes).contains(
          (format, reader.getWidth(0).toLong, reader.getHeight(0).toLong)))
    }
    val sof = jpeg(img).indexWhere(_ == 0xc0.toByte) - 1 // the baseline frame header's marker
    val noHeight = jpeg(img).updated(sof + 5, 0.toByte).updated(sof + 6, 0.toByte)
    for (bytes <- Seq("junk".getBytes, jpeg(img).take(sof), noHeight, Array[Byte](-1, -40)))
      assert(ImageHeader.of(bytes).isEmpty)
  }

  test("straight to the tensor, the decoder's RGB gives the floats of the image-row path") {
    val rgb = new BufferedImage(37, 23, BufferedImage.TYPE_INT_RGB)
    val argb = new BufferedImage(37, 23, BufferedImage.TYPE_INT_ARGB)
    val gray = new BufferedImage(37, 23, BufferedImage.TYPE_BYTE_GRAY)
    for (y <- 0 until 23; x <- 0 until 37) {
      rgb.setRGB(x, y, (x * 7 << 16) | (y * 11 << 8) | ((x + y) * 3))
      argb.setRGB(x, y,
        (x * 6 << 24) |
          (y * 9 << 16) |
          (x * 5 << 8) |
          (x * y % 256))
      gray.getRaster.setSample(x, y, 0, (x * y) % 256)
    }
    val files = Seq("jpeg" -> jpeg(rgb), "png" -> png(rgb), "rgba png" -> png(argb),
      "gray png" -> png(gray), "gray jpeg" -> jpeg(gray))
    for ((name, bytes) <- files; draft <- Seq((0, 0), (8, 8)); order <- Seq("RGB", "BGR")) {
      val spec = ImageInputSpec(11, 13, 3, order)
      def floats(sparkLayout: Boolean): (Array[Float], Boolean) = {
        val img = ImageDecoder.decode(bytes, draft = draft, sparkLayout = sparkLayout).toOption.get
        val out = new Array[Float](spec.size)
        ImageToTensor.write(img.height, img.width, img.nChannels, img.data, spec, out, 0, img.rgb)
        (out, img.rgb)
      }
      val (rows, rowsRgb) = floats(sparkLayout = true)
      val (direct, directRgb) = floats(sparkLayout = false)
      assert(!rowsRgb && directRgb == !name.startsWith("gray"), name)
      assert(direct.sameElements(rows), s"$name, draft $draft, $order")
    }
  }

  test("jpegRatio: the largest DCT scale that keeps the draft size, ceil(side / r)") {
    assert(ImageDecoder.jpegRatio(480, 640, (0, 0)) == 1) // no draft: full size
    assert(ImageDecoder.jpegRatio(480, 640, (224, 224)) == 2)
    assert(ImageDecoder.jpegRatio(480, 640, (120, 120)) == 4)
    assert(ImageDecoder.jpegRatio(480, 640, (121, 120)) == 2)
    // ceil(483 / 8) = 61, ceil(641 / 8) = 81
    assert(ImageDecoder.jpegRatio(483, 641, (61, 81)) == 8)
    assert(ImageDecoder.jpegRatio(483, 641, (61, 82)) == 4)
    assert(ImageDecoder.jpegRatio(200, 300, (224, 224)) == 1)
  }

  test(
    "draft decoding: a JPEG comes out DCT-scaled, close " +
      "to block means of the full decode; PNG stays full") {
    val (h, w) = (483, 641)
    val img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB)
    for (y <- 0 until h; x <- 0 until w) img.setRGB(x, y,
      ((x / 3) % 256 << 16) |
        ((y / 2) % 256 << 8) |
        ((x + y) / 5 % 256))
    val bytes = jpeg(img)
    val full = ImageDecoder.decode(bytes).toOption.get
    assert((full.height, full.width) == (h, w))
    assert(ImageDecoder.decode(bytes, draft = (0, 0)).toOption.get.data.sameElements(full.data))
    for ((draft, r) <- Seq((224, 224) -> 2, (120, 160) -> 4, (60, 80) -> 8)) {
      val small = ImageDecoder.decode(bytes, draft = draft).toOption.get
      val (sh, sw) = ((h + r - 1) / r, (w + r - 1) / r)
      assert((small.height, small.width, small.nChannels) == (sh, sw, 3), s"ratio $r")
      // Each scaled pixel against the mean of its r x r block of the full decode (same BGR order).
      var sum = 0.0
      var n = 0
      for (y <- 0 until h / r; x <- 0 until w / r; c <- 0 until 3) {
        var block = 0.0
        for (dy <- 0 until r; dx <- 0 until r) block +=
          full.data(((y * r + dy) * w + x * r + dx) * 3 + c) & 0xff
        sum += math.abs((small.data((y * sw + x) * 3 + c) & 0xff) - block / (r * r))
        n += 1
      }
      assert(sum / n < 2.5, s"ratio $r: mean |scaled - block mean| = ${sum / n}")
    }
    val fromPng = ImageDecoder.decode(png(img), draft = (60, 80)).toOption.get
    assert((fromPng.height, fromPng.width) == (h, w))
  }

  test("gray JPEG stays one channel when DCT-scaled") {
    val img = new BufferedImage(64, 48, BufferedImage.TYPE_BYTE_GRAY)
    for (y <- 0 until 48; x <- 0 until 64) img.getRaster.setSample(x, y, 0, (x * 4) % 256)
    val d = ImageDecoder.decode(jpeg(img), draft = (24, 32)).toOption.get
    assert((d.height, d.width, d.nChannels) == (24, 32, 1))
  }

  // Decoding runs TensorFlow for every image: its input and output tensors must be freed
  // each time. The heap is pre-touched (build.sbt), so only native growth moves the RSS.
  test("no native memory growth over thousands of decodes, full size and draft") {
    val img = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB)
    val rnd = new scala.util.Random(1)
    for (y <- 0 until 480; x <- 0 until 640) img.setRGB(x, y, rnd.nextInt())
    val bytes = jpeg(img)
    def round(): Unit = {
      (1 to 750).foreach(_ => assert(ImageDecoder.decode(bytes).isRight))
      (1 to 750).foreach(_ => assert(ImageDecoder.decode(bytes, draft = (224, 224)).isRight))
      System.gc()
    }
    round() // the allocator settles on its arenas for both sizes first
    val before = sparkdl.Rss.kib()
    (1 to 4).foreach(_ => round())
    val grownMiB = (sparkdl.Rss.kib() - before) / 1024.0
    info(
      f"resident memory grew by $grownMiB%.1f MiB over 6,000 " +
        "decodes of a 640x480 JPEG (900 KiB of pixels each)")
    // The allocator moves the RSS by +-15 MiB from round to round; leaking the pixels (900 KiB)
    // or the JPEG bytes (~250 KiB) of each decode would add GiBs, 11 KiB each would add 64 MiB.
    assert(grownMiB < 64, f"resident memory grew by $grownMiB%.1f MiB over 6,000 decodes")
  }
}
