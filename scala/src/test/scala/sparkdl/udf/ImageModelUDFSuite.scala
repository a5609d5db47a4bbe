package sparkdl.udf

import java.io.File

import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{IntegerType, StructField, StructType}
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.{SparkSessionFixture, TestGraphs}
import sparkdl.image.{ImageFields, ImageReader}
import sparkdl.models.ImageNetLabels

class ImageModelUDFSuite extends AnyFunSuite with SparkSessionFixture {

  test("a graph registered as a SQL function, queried with spark.sql") {
    ImageModelUDF.register(spark, "channel_stats", TestGraphs.channelStats(4, 4, 3))
    val bgr = Array.tabulate(48)(i => ((i * 5) % 256).toByte)
    val gray = Array.tabulate(16)(i => (i * 16).toByte)
    val schema =
      StructType(Seq(StructField("id", IntegerType), StructField("image", ImageFields.schema)))
    spark.createDataFrame(spark.sparkContext.parallelize(Seq(
          Row(1, ImageFields.row("a", 4, 4, 3, bgr)), Row(2, ImageFields.row("b", 4, 4, 1, gray)),
          Row(3, null)), 2),
      schema)
      .createOrReplaceTempView("imgs")
    val rows = spark.sql("SELECT id, channel_stats(image) AS stats FROM imgs ORDER BY id").collect()
    def expect(data: Array[Byte], c: Int): Seq[Float] = {
      val px = data.map(_ & 0xff).grouped(c).toSeq
      val src = if (c == 1) Seq(0, 0, 0) else Seq(2, 1, 0) // RGB order from BGR bytes
      src.map(s => px.map(_(s)).sum / 16f) ++ src.map(s => px.map(_(s)).max.toFloat)
    }
    assert(rows(0).getSeq[Float](1).zip(expect(bgr, 3)).forall { case (a, b) =>
      math.abs(a - b) < 1e-4
    })
    assert(rows(1).getSeq[Float](1).zip(expect(gray, 1)).forall { case (a, b) =>
      math.abs(a - b) < 1e-4
    })
    assert(rows(2).isNullAt(1))
  }

  test("a named model from an export directory as a SQL function") {
    val fixtures = new File(System.getProperty("sparkdl.test.fixtures", "target/scala-fixtures"))
    assert(
      new File(fixtures, "expected.json").isFile, "run `make test-scala` to write the fixtures")
    ImageModelUDF.registerNamedModel(spark, "lite0", "EfficientNetLite0",
      new File(fixtures, "models").getAbsolutePath, features = false)
    ImageReader.readImages(
      spark, new File(fixtures, "images").getAbsolutePath).createOrReplaceTempView("photos")
    val probs =
      spark.sql("SELECT filePath, lite0(image) AS p FROM photos WHERE filePath LIKE '%chelsea%'")
        .head().getSeq[Float](1)
    assert(probs.length == 1000)
    assert(ImageNetLabels.imagenet1k.descriptions(probs.indexOf(probs.max)) == "Egyptian cat")
  }
}
