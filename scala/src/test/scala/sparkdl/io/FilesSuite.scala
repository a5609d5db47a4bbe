package sparkdl.io

import java.nio.file.Files

import org.apache.hadoop.fs.Path
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.SparkSessionFixture

class FilesSuite extends AnyFunSuite with SparkSessionFixture {

  test(
    "whole files round-trip on a Hadoop file system; a " +
      "listed name with ':' or '%' is read literally") {
    val dir = Files.createTempDirectory("sparkdl-io")
    val path = new Path(dir.toUri.toString, "model.bin")
    val bytes = Array.tabulate[Byte](70000)(i => (i * 31).toByte)
    HadoopFiles.write(bytes, path, spark)
    assert(HadoopFiles.exists(path, spark) &&
      !HadoopFiles.exists(new Path(dir.toString, "other"), spark))
    assert(HadoopFiles.read(path, spark).sameElements(bytes))
    Files.write(dir.resolve("12:30:00 %20.jpg"), Array[Byte](9, 8, 7))
    // as Path.toString prints a listed file
    val listed = HadoopFiles.pathOf(s"file:$dir/12:30:00 %20.jpg")
    assert(HadoopFiles.read(listed, spark).toSeq == Seq[Byte](9, 8, 7))
  }

  test(
    "a file cache reads a file again only when it " +
      "changed, and names the param when it is no file") {
    val dir = Files.createTempDirectory("sparkdl-cache")
    val file = dir.resolve("model.bin")
    Files.write(file, Array[Byte](1, 2, 3))
    val cache = new FileCache[Array[Byte]]
    var reads = 0
    def load(): Array[Byte] = cache.getOrLoadFile("modelPath", file.toString) { (_, p, conf) =>
      reads += 1
      HadoopFiles.read(p, conf)
    }
    assert(load().toSeq == Seq[Byte](1, 2, 3) && load().toSeq == Seq[Byte](1, 2, 3) && reads == 1)
    Files.write(file, Array[Byte](4, 5, 6, 7))
    assert(load().toSeq == Seq[Byte](4, 5, 6, 7) && reads == 2)
    val e = intercept[IllegalArgumentException](cache.getOrLoadFile("modelPath", dir.toString)(
        (_, _, _) => Array()))
    assert(e.getMessage.contains("modelPath") && e.getMessage.contains("nor a file"))
  }

  test(
    "a model file over spark.sparkdl.maxModelBytes is refused from its size, naming the setting") {
    val file = Files.createTempFile("sparkdl-big", ".onnx")
    Files.write(file, new Array[Byte](4096))
    spark.conf.set(ModelFiles.MaxBytesConf, "1k")
    try {
      val e = intercept[IllegalArgumentException](ModelFiles.read(new Path(file.toUri), spark))
      assert(e.getMessage.contains("4096 bytes") && e.getMessage.contains(ModelFiles.MaxBytesConf))
    } finally spark.conf.unset(ModelFiles.MaxBytesConf)
    assert(ModelFiles.read(new Path(file.toUri), spark).length == 4096)
  }
}
