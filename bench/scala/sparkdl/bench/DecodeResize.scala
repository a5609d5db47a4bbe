package sparkdl.bench

import java.nio.file.{Files, Paths}

import sparkdl.image.{ImageDecoder, ImageInputSpec, ImageToTensor}

/**
 * The JVM half of `make bench`'s decode+resize row: decodes files and resizes them to `size` x
 * `size` RGB floats on one thread, as executors do per image. Returns images/s. With `draft`, JPEGs
 * are decoded at the DCT scale that keeps them at least `size` large
 * (`readImages(draftSize=size)`). With `imageRows`, the pixels go through Spark's image layout
 * first (BGR, what `readImages` yields and a model stage then reads); without, they go straight
 * from the decoder into the floats, as a model stage fed encoded bytes (`binaryFile`) does.
 */
object DecodeResize {
  def imagesPerSecond(files: java.util.List[String], size: Int, draft: Boolean,
                      imageRows: Boolean): Double = {
    val spec = ImageInputSpec(size, size, 3, "RGB")
    val buffer = new Array[Float](spec.size)
    val bytes = scala.jdk.CollectionConverters.ListHasAsScala(files).asScala.map(f =>
      Files.readAllBytes(Paths.get(f)))
    val start = System.nanoTime()
    bytes.foreach { b =>
      val img = ImageDecoder.decode(b, draft = if (draft) (size, size) else (0, 0),
        sparkLayout = imageRows).fold(e => throw new IllegalStateException(e), identity)
      ImageToTensor.write(img.height, img.width, img.nChannels, img.data, spec, buffer, 0, img.rgb)
    }
    bytes.size / ((System.nanoTime() - start) / 1e9)
  }
}
