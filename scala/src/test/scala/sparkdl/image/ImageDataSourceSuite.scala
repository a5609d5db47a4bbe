package sparkdl.image

import java.io.File
import javax.imageio.ImageIO

import org.scalatest.funsuite.AnyFunSuite

import sparkdl.SparkSessionFixture

class ImageDataSourceSuite extends AnyFunSuite with SparkSessionFixture {

  private val images =
    new File(System.getProperty("sparkdl.test.fixtures", "target/scala-fixtures"), "images")

  test(
    "format sparkdl.image: one row per file, decoded as " +
      "ImageIO sizes them; SQL and readImages agree") {
    assert(images.isDirectory, "run `make test-scala` to write the fixtures")
    val df = spark.read.format("sparkdl.image").load(images.getAbsolutePath)
    // a Spark file source's columns are nullable
    assert(df.schema.fields.map(f => f.name -> f.dataType.simpleString).toSeq ==
      ImageReader.schema.fields.map(f => f.name -> f.dataType.simpleString).toSeq)
    val rows = df.collect().map(r => new File(new java.net.URI(r.getString(0))).getName -> r).toMap
    assert(rows.keySet == images.listFiles().map(_.getName).toSet)
    rows.foreach { case (name, row) =>
      val expected = ImageIO.read(new File(images, name))
      val img = row.getStruct(1)
      assert((img.getInt(ImageFields.HeightIdx), img.getInt(ImageFields.WidthIdx)) ==
          ((expected.getHeight, expected.getWidth)), name)
      assert(row.isNullAt(2))
    }
    spark.sql(
      "CREATE OR REPLACE TEMPORARY VIEW imgs USING sparkdl.image " +
        s"OPTIONS (path '${images.getAbsolutePath}')")
    assert(spark.sql("SELECT filePath FROM imgs ORDER BY filePath").collect().toSeq ==
      ImageReader.readImages(spark, images.getAbsolutePath).select("filePath")
        .orderBy("filePath").collect().toSeq)
  }

  test("options: a bad value names the option and what it must be; a missing path says so") {
    val chelsea = images.listFiles().filter(_.getName.startsWith("chelsea")).head.getAbsolutePath
    val e = intercept[IllegalArgumentException](
      spark.read.format("sparkdl.image").option("draftSize", "big").load(chelsea))
    assert(e.getMessage.contains("draftSize") && e.getMessage.contains("'big'"))
    val n = intercept[IllegalArgumentException](
      spark.read.format("sparkdl.image").option("numPartitions", "-2").load(
        chelsea))
    assert(n.getMessage.contains("numPartitions") && n.getMessage.contains(">= 0"))
    val missing = intercept[Exception](spark.read.format("sparkdl.image").load("/no/such/dir"))
    assert(missing.getMessage.toLowerCase.contains("path does not exist"), missing.getMessage)
    val legacy = intercept[IllegalArgumentException](
      spark.read.format("sparkdl.image").option("recursive", "true")
        .load("/no/such/dir"))
    assert(legacy.getMessage.contains("readImages: path does not exist"))
  }

  test("readImages lists _-prefixed files, and dot-files only with includeHidden") {
    val dir = java.nio.file.Files.createTempDirectory("sparkdl-hidden")
    val chelsea = images.listFiles().filter(_.getName.startsWith("chelsea")).head.toPath
    Seq("_MG_0002.jpg", ".hidden.jpg")
      .foreach(n => java.nio.file.Files.copy(chelsea, dir.resolve(n)))
    def names(includeHidden: Boolean): Set[String] =
      ImageReader.readImages(spark, dir.toString, includeHidden = includeHidden)
        .filter("image IS NOT NULL")
        .collect().map(r => r.getString(0).split("/").last).toSet
    assert(names(includeHidden = false) == Set("_MG_0002.jpg"))
    assert(names(includeHidden = true) == Set("_MG_0002.jpg", ".hidden.jpg"))
  }

  test("a query of filePath alone reads no file (column pruning reaches the source)") {
    def bytesRead: Long = ImageReader.bytesRead.get
    val df = spark.read.format("sparkdl.image").load(images.getAbsolutePath)
    val before = bytesRead
    assert(df.select("filePath").collect().length == images.listFiles().length)
    val afterPaths = bytesRead
    assert(df.select("image").collect().length == images.listFiles().length)
    assert(afterPaths == before, s"reading filePath alone read ${afterPaths - before} bytes")
    assert(bytesRead - afterPaths >= images.listFiles().map(_.length).sum,
      "the image column reads every file")
  }
}
