package sparkdl.ml

import java.nio.file.Files

import org.apache.spark.ml.linalg.Vector
import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.types.{IntegerType, StringType, StructField, StructType}
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.{SparkSessionFixture, TestGraphs}
import sparkdl.image.ImageFields
import sparkdl.inference.{OutputFormat, SessionCache}
import sparkdl.tf.GraphException

class TFImageTransformerSuite extends AnyFunSuite with SparkSessionFixture {

  private val schema = StructType(Seq(
      StructField("id", IntegerType), StructField("image", ImageFields.schema, nullable = true)))

  private def image(h: Int, w: Int, c: Int)(f: Int => Int): Row =
    ImageFields.row(s"mem://$h-$w-$c", h, w, c, Array.tabulate(h * w * c)(i => f(i).toByte))

  private def df(rows: Row*): DataFrame =
    spark.createDataFrame(spark.sparkContext.parallelize(rows, 2), schema)

  private def stage(): TFImageTransformer =
    new TFImageTransformer().setGraph(TestGraphs.channelStats(4, 4, 3)).setOutputCol("stats")
      .setBatchSize(2)

  /** Per-channel mean and max of a 4x4 image given in BGR(A)/gray bytes, in RGB order. */
  private def expected(img: Row): Seq[Double] = {
    val c = img.getInt(ImageFields.NChannelsIdx)
    val data = img.getAs[Array[Byte]](ImageFields.DataIdx).map(_ & 0xff)
    val src = if (c == 1) Seq(0, 0, 0) else Seq(2, 1, 0)
    val px = data.grouped(c).toSeq
    src.map(s => px.map(_(s)).sum / 16.0) ++ src.map(s => px.map(_(s)).max.toDouble)
  }

  test("applies the graph to BGR, BGRA and gray images in RGB order") {
    val bgr = image(4, 4, 3)(i => (i * 7) % 256)
    val bgra = image(4, 4, 4)(i => (i * 13 + 5) % 256)
    val gray = image(4, 4, 1)(i => 255 - i * 3)
    val out = stage().transform(df(Row(1, bgr), Row(2, bgra), Row(3, gray), Row(4, bgr)))
      .orderBy("id").collect()
    assert(out.map(_.getInt(0)).toSeq == Seq(1, 2, 3, 4))
    out.zip(Seq(bgr, bgra, gray, bgr)).foreach { case (r, img) =>
      val got = r.getAs[Vector]("stats").toArray.toSeq
      got.zip(expected(img)).foreach { case (g, e) =>
        assert(math.abs(g - e) < 1e-4, s"$got vs ${expected(img)}")
      }
    }
  }

  test("resizes any image size to the graph's input (a constant image stays constant)") {
    val small = image(2, 3, 1)(_ => 77)
    val big = image(9, 5, 3)(_ => 200)
    val out = stage().setOutputMode("array").transform(df(Row(1, small), Row(2, big)))
      .orderBy("id").collect()
    assert(out(0).getSeq[Float](2).forall(_ == 77f))
    assert(out(1).getSeq[Float](2).forall(_ == 200f))
  }

  test(
    "null images give null outputs, or are dropped by skip; unusable images follow handleInvalid") {
    val good = image(4, 4, 3)(_ => 1)
    val twoChannels = ImageFields.row("mem://bad", 4, 4, 3, new Array[Byte](48))
    val broken = Row("mem://bad", 4, 4, 2, 24, new Array[Byte](32))
    val data = df(Row(1, good), Row(2, null), Row(3, broken))
    val kept = stage().setHandleInvalid("keep").transform(data).orderBy("id").collect()
    assert(kept.length == 3 && kept(0).get(2) != null && kept(1).isNullAt(2) && kept(2).isNullAt(2))
    val skipped = stage().setHandleInvalid("skip").transform(data).orderBy("id").collect()
    assert(skipped.map(_.getInt(0)).toSeq == Seq(1)) // MLlib's skip: no row the model did not score
    val e = intercept[Exception](stage().transform(data).collect())
    assert(e.getMessage.contains("mem://bad") && e.getMessage.contains("channel count 2") &&
      e.getMessage.contains("handleInvalid"))
    assert(twoChannels != null)
  }

  test("transformSchema rejects a non-image input column naming the column and both types") {
    val strings = spark.createDataFrame(spark.sparkContext.parallelize(Seq(Row("x")), 1),
      StructType(Seq(StructField("image", StringType))))
    val e = intercept[IllegalArgumentException](stage().transformSchema(strings.schema))
    assert(e.getMessage.contains("'image'") && e.getMessage.contains("string") &&
      e.getMessage.contains("struct<origin:string"))
    val missing =
      intercept[IllegalArgumentException](stage().setInputCol("img").transformSchema(schema))
    assert(missing.getMessage.contains("'img'") && missing.getMessage.contains("id, image"))
  }

  test("a wrong input tensor name lists the graph's placeholders") {
    val e = intercept[GraphException](stage().setInputTensor("input:0").transformSchema(schema))
    assert(e.getMessage.contains("'input:0'") && e.getMessage.contains("image:0 float [?,4,4,3]"))
  }

  test("save and load round trip gives the same outputs") {
    val t = stage().setOutputMode("array").setBatchSize(3)
    val dir = Files.createTempDirectory("tfimage").resolve("stage").toString
    t.write.overwrite().save(dir)
    val loaded = TFImageTransformer.load(dir)
    assert(loaded.uid == t.uid)
    assert(loaded.getGraph == t.getGraph)
    assert(
      loaded.getBatchSize == 3 && loaded.getOutputMode == "array" && loaded.getOutputCol == "stats")
    val data = df((1 to 5).map(i => Row(i, image(4 + i, 3, 3)(j => (i * j) % 256))): _*)
    assert(loaded.transform(data).orderBy("id").collect().toSeq ==
      t.transform(data).orderBy("id").collect().toSeq)
  }

  test("transformSchema reads the graph's tensors from the GraphDef: no session is loaded") {
    val graph = TestGraphs.channelStats(6, 5, 3) // a graph no other test loads
    val before = SessionCache.loadCount
    val out = new TFImageTransformer().setGraph(graph).setOutputCol("stats").transformSchema(schema)
    assert(out("stats").dataType == OutputFormat.VectorOutput.dataType)
    assert(SessionCache.loadCount == before && !SessionCache.loaded.contains(graph.hash))
  }

  test("a stage saved with a Python imageLoader is refused by Scala, not decoded differently") {
    val dir = Files.createTempDirectory("kerasfile").resolve("stage").toString
    new KerasImageFileTransformer().setGraph(TestGraphs.channelStats(4, 4, 3)).setInputCol("uri")
      .setOutputCol("out").setImageLoaderPickle("gASVAAAAAAAAAAA=").write.save(dir)
    val loaded = KerasImageFileTransformer.load(dir)
    val uris = spark.createDataFrame(spark.sparkContext.parallelize(Seq(Row("/a.png"))),
      StructType(Seq(StructField("uri", StringType))))
    val e = intercept[UnsupportedOperationException](loaded.transform(uris))
    assert(e.getMessage.contains("Python imageLoader") &&
      e.getMessage.contains("KerasImageFileTransformer.load"))
  }
}
