package sparkdl.sql

import java.io.File
import java.nio.file.Files

import org.apache.hadoop.fs.Path
import org.apache.spark.sql.Row
import org.apache.spark.sql.types.{ArrayType, FloatType, IntegerType, StructField, StructType}
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.{SparkSessionFixture, TestGraphs}
import sparkdl.image.{ImageDecoder, ImageFields, ImageReader}
import sparkdl.inference.Engines
import sparkdl.io.HadoopFiles
import sparkdl.ml.DeepImageFeaturizer
import sparkdl.models.ExportFolder
import sparkdl.tf.{FrozenGraph, GraphFiles}

/** sparkdl_predict / sparkdl_features / sparkdl_tensor: in every session through the extension. */
class ModelFunctionsSuite extends AnyFunSuite with SparkSessionFixture {

  private lazy val dir = Files.createTempDirectory("sparkdl-sql").toFile

  private def save(graph: FrozenGraph, name: String): String = {
    val pb = new Path(new File(dir, s"$name.pb").toURI)
    HadoopFiles.write(graph.graphDef, pb, spark)
    GraphFiles.writeNames(graph, new Path(new File(dir, s"$name.json").toURI), spark)
    pb.toString
  }

  private def error(query: String): String =
    intercept[Exception](spark.sql(query).collect()).getMessage

  test("the functions exist without any registration call") {
    val names = spark.sql("SHOW FUNCTIONS LIKE 'sparkdl_*'").collect().map(_.getString(0)).toSet
    assert(Set("sparkdl_predict", "sparkdl_features", "sparkdl_tensor").subsetOf(names), names)
  }

  test("sparkdl_tensor: a graph file over an array column; null in, null out") {
    val path = save(TestGraphs.affine(3), "affine")
    val schema =
      StructType(Seq(StructField("id", IntegerType), StructField("a", ArrayType(FloatType))))
    spark.createDataFrame(
      spark.sparkContext.parallelize(Seq(Row(1, Seq(1f, 2f, 3f)), Row(2, null))), schema)
      .createOrReplaceTempView("arrays")
    val rows =
      spark.sql(s"SELECT id, sparkdl_tensor('$path', a) AS out FROM arrays ORDER BY id").collect()
    assert(rows(0).getSeq[Float](1) == Seq(3f, 5f, 7f))
    assert(rows(1).isNullAt(1))
  }

  test("sparkdl_predict: a graph file over image structs, RGB 0-255 as Keras users feed it") {
    val path = save(TestGraphs.channelStats(2, 2, 3), "stats")
    val bgr = Array.tabulate(12)(i => (i * 20).toByte)
    val schema =
      StructType(Seq(StructField("id", IntegerType), StructField("image", ImageFields.schema)))
    spark.createDataFrame(spark.sparkContext.parallelize(
        Seq(Row(1, ImageFields.row("a", 2, 2, 3, bgr)), Row(2, null))), schema)
      .createOrReplaceTempView("tiny")
    val rows =
      spark.sql(s"SELECT id, sparkdl_predict('$path', image) FROM tiny ORDER BY id").collect()
    val px = bgr.map(_ & 0xff).grouped(3).toSeq
    val expected = Seq(2, 1, 0).map(c => px.map(_(c)).sum / 4f) ++
      Seq(2, 1, 0).map(c => px.map(_(c)).max.toFloat)
    assert(rows(0).getSeq[Float](1).zip(expected).forall { case (a, b) => math.abs(a - b) < 1e-4 })
    assert(rows(1).isNullAt(1))
  }

  private lazy val fixtures = {
    val f = new File(System.getProperty("sparkdl.test.fixtures", "target/scala-fixtures"))
    assert(new File(f, "expected.json").isFile, "run `make test-scala` to write the fixtures")
    f
  }

  /**
   * The fixtures' exports as the model folder. With an engine, every query and stage runs it:
   * engine auto may run some batches on each engine while it measures, and the two agree within
   * 1e-4 of scale only, so tests comparing two runs exactly pin one.
   */
  private def withModelDir[T](body: => T): T = withModelDir(None)(body)

  private def withModelDir[T](engine: Option[String])(body: => T): T = {
    spark.conf.set(ExportFolder.Conf.ModelDir, new File(fixtures, "models").getAbsolutePath)
    engine.foreach(spark.conf.set(ExportFolder.Conf.Engine, _))
    try body
    finally {
      spark.conf.unset(ExportFolder.Conf.ModelDir)
      spark.conf.unset(ExportFolder.Conf.Engine)
    }
  }

  test("sparkdl_features equals DeepImageFeaturizer, on the engine the conf names") {
    withModelDir(Some(Engines.Onnx)) {
      val images = ImageReader.readImages(spark, new File(fixtures, "images").getAbsolutePath)
      images.createOrReplaceTempView("photos")
      val query =
        spark.sql("SELECT filePath, sparkdl_features('EfficientNetLite0', image) AS f FROM photos")
      val sql = query.collect().map(r => r.getString(0) -> Option(r.getSeq[Float](1))).toMap
      val runs = ModelEvalExec.runsByEngine(query.queryExecution.executedPlan)
      assert(runs(Engines.Onnx) > 0 && runs(Engines.TensorFlow) == 0, runs)
      val stage = new DeepImageFeaturizer().setModelName("EfficientNetLite0").setInputCol("image")
        .setOutputCol("f").setHandleInvalid("keep")
      assert(stage.getEngine == Engines.Onnx)
      val want = stage.transform(images).select("filePath", "f").collect()
      assert(want.length == sql.size && want.count(!_.isNullAt(1)) > 0)
      want.foreach { r =>
        val got = sql(r.getString(0))
        if (r.isNullAt(1)) assert(got.isEmpty)
        else {
          val v = r.getAs[org.apache.spark.ml.linalg.Vector](1).toArray
          assert(got.get.length == v.length)
          assert(got.get.zip(v).forall { case (a, b) => math.abs(a - b) < 1e-5 }, r.getString(0))
        }
      }
    }
  }

  test(
    "encoded files (binaryFile's content) feed the model " +
      "as readImages' structs do, no image row built") {
    withModelDir {
      val folder = new File(fixtures, "images").getAbsolutePath
      ImageReader.readImages(spark, folder).createOrReplaceTempView("decoded")
      spark.read.format("binaryFile").load(folder).createOrReplaceTempView("files")
      val want = spark.sql(
        "SELECT filePath, sparkdl_features('EfficientNetLite0', image) AS f FROM decoded " +
          "WHERE image IS NOT NULL").collect().map(r => r.getString(0) -> r.getSeq[Float](1)).toMap
      val (built, decoded) = (ImageFields.rowsBuilt.get, sparkdl.image.ImageInput.decoded.get)
      spark.conf.set(ModelFunctions.HandleInvalidConf, "keep")
      val got = try {
        spark.sql(
          "SELECT path, sparkdl_features('EfficientNetLite0', content) AS f FROM files").collect()
      } finally spark.conf.unset(ModelFunctions.HandleInvalidConf)
      assert(ImageFields.rowsBuilt.get == built, "a model fed bytes built image rows")
      assert(sparkdl.image.ImageInput.decoded.get - decoded == want.size)
      assert(want.size >= 2 && got.count(!_.isNullAt(1)) == want.size)
      got.filterNot(_.isNullAt(1)).foreach { r =>
        val w = want(r.getString(0))
        assert(r.getSeq[Float](1).zip(w).forall { case (a, b) => math.abs(a - b) < 1e-5 },
          r.getString(0))
      }
      // sparkdl_decode_image gives readImages' image (origin: the path) or its reason
      val images = spark.sql("SELECT filePath, image, imageError FROM decoded").collect()
        .map(r => r.getString(0) -> r).toMap
      spark.sql(
        "SELECT path, sparkdl_decode_image(content, path) AS d FROM files").collect().foreach { r =>
        val (d, expected) = (r.getStruct(1), images(r.getString(0)))
        if (expected.isNullAt(1)) assert(d.isNullAt(0) && d.getString(1) == expected.getString(2))
        else {
          val (a, b) = (d.getStruct(0), expected.getStruct(1))
          assert(
            a.getString(0) == r.getString(0) && (1 to 4).forall(i => a.getInt(i) == b.getInt(i)))
          assert(java.util.Arrays.equals(a.getAs[Array[Byte]](5), b.getAs[Array[Byte]](5)),
            r.getString(0))
        }
      }
    }
  }

  test(
    "a query's model calls run in batches: ceil(rows / " +
      "batchSize) runs per partition, shown in explain") {
    val path = save(TestGraphs.affine(2), "affine-batched")
    spark.conf.set(ModelEvalExec.BatchSizeConf, "4")
    try {
      val df = spark.range(0, 22, 1, 2).selectExpr("id", "array(cast(id AS float), 1.0f) AS a")
        .selectExpr("id", s"sparkdl_tensor('$path', a) AS out")
      val rows = df.collect().sortBy(_.getLong(0))
      assert(rows.map(r => r.getSeq[Float](1)).toSeq == (0 until 22).map(i => Seq(i * 2f + 1, 3f)))
      val exec = df.queryExecution.executedPlan.collect { case e: ModelEvalExec => e }
      assert(exec.size == 1, df.queryExecution.executedPlan.treeString)
      // two partitions of 11 rows: 3 + 3 batches of <= 4
      assert(exec.head.metrics("modelRuns").value == 6)
      val explained = df.queryExecution.explainString(org.apache.spark.sql.execution.SimpleMode)
      assert(explained.contains("SparkdlModelEval"))
    } finally spark.conf.unset(ModelEvalExec.BatchSizeConf)
  }

  test("a call in WHERE runs in batches too, and filters on the model's output") {
    val path = save(TestGraphs.affine(2), "affine-where")
    spark.conf.set(ModelEvalExec.BatchSizeConf, "5")
    try {
      val df = spark.range(0, 20, 1, 2).selectExpr("id", "array(cast(id AS float), 1.0f) AS a")
        .where(s"sparkdl_tensor('$path', a)[0] > 20").select("id")
      assert(df.collect().map(_.getLong(0)).sorted.toSeq == (10 until 20))
      val exec = df.queryExecution.executedPlan.collect { case e: ModelEvalExec => e }
      assert(
        exec.size == 1 && exec.head.metrics("modelRuns").value == 4, df.queryExecution.executedPlan)
    } finally spark.conf.unset(ModelEvalExec.BatchSizeConf)
  }

  test(
    "sparkdl_predict with topK: the K most probable ImageNet " +
      "classes with labels, as the predictor gives them") {
    withModelDir(Some(Engines.TensorFlow)) {
      ImageReader.readImages(
        spark, new File(fixtures, "images").getAbsolutePath).createOrReplaceTempView("photos")
      val top =
        spark.sql("SELECT sparkdl_predict('EfficientNetLite0', image, 3) AS top FROM photos " +
          "WHERE filePath LIKE '%chelsea%'").head().getSeq[Row](0)
      val probs = spark.sql("SELECT sparkdl_predict('EfficientNetLite0', image) FROM photos " +
        "WHERE filePath LIKE '%chelsea%'").head().getSeq[Float](0)
      assert(top.length == 3 && top.head.getString(1) == "Egyptian cat")
      assert(top.map(_.getFloat(2)) == probs.sorted.reverse.take(3))
      assert(error("SELECT sparkdl_predict('EfficientNetLite0', image, 0) FROM photos")
          .contains("sparkdl_predict: topK must be a constant integer from 1 to 1000, got 0"))
    }
  }

  test(
    "an image the model cannot take fails the query " +
      "naming it, or gives null with handleInvalid=keep") {
    val path = save(TestGraphs.channelStats(2, 2, 3), "stats-invalid")
    val schema =
      StructType(Seq(StructField("id", IntegerType), StructField("image", ImageFields.schema)))
    spark.createDataFrame(spark.sparkContext.parallelize(Seq(
          Row(1, ImageFields.row("ok", 2, 2, 3, new Array[Byte](12))),
          Row(2, Row("two-channels", 2, 2, 2, 0, new Array[Byte](8))))), schema)
      .createOrReplaceTempView("mixed")
    val query = s"SELECT id, sparkdl_predict('$path', image) AS p FROM mixed ORDER BY id"
    val e = error(query)
    assert(
      e.contains("image 'two-channels'") && e.contains("spark.sparkdl.sql.handleInvalid=keep"), e)
    spark.conf.set(ModelFunctions.HandleInvalidConf, "keep")
    try {
      val rows = spark.sql(query).collect()
      assert(!rows(0).isNullAt(1) && rows(1).isNullAt(1))
    } finally spark.conf.unset(ModelFunctions.HandleInvalidConf)
  }

  test(
    "Structured Streaming: a watched folder scored by sparkdl_predict, every file exactly once") {
    withModelDir {
      val files = new File(fixtures, "images").listFiles().filter(f =>
        ImageReader.readFile(f.toURI.toString, spark.sparkContext.hadoopConfiguration, 100000000L)
          .flatMap(ImageDecoder.decode(_)).isRight).sortBy(_.getName)
      assert(files.length >= 2)
      val watched = Files.createTempDirectory("sparkdl-stream").toFile
      // written elsewhere, then moved in: the source never sees half a file
      def drop(f: File): Unit = {
        val tmp = new File(dir, f.getName)
        Files.copy(f.toPath, tmp.toPath, java.nio.file.StandardCopyOption.REPLACE_EXISTING)
        Files.move(tmp.toPath, new File(watched, f.getName).toPath)
      }
      val stream = spark.readStream.format("image")
        .schema(StructType(Seq(StructField("image", ImageFields.schema))))
        .load(watched.getAbsolutePath)
      stream.createOrReplaceTempView("incoming")
      val query = spark.sql(
        "SELECT image.origin AS origin, sparkdl_predict('EfficientNetLite0', image) AS p " +
          "FROM incoming").writeStream.format("memory").queryName("scored").start()
      try {
        drop(files.head)
        query.processAllAvailable()
        files.tail.foreach(drop)
        query.processAllAvailable()
        val got = spark.table("scored").collect()
        assert(got.map(r => new File(new java.net.URI(r.getString(0))).getName).sorted.toSeq ==
            files.map(_.getName).toSeq, "each file exactly once")
        val batch = spark.read.format("image").load(watched.getAbsolutePath)
          .selectExpr("image.origin", "sparkdl_predict('EfficientNetLite0', image)").collect()
          .map(r => r.getString(0) -> r.getSeq[Float](1)).toMap
        got.foreach { r =>
          assert(r.getSeq[Float](1).zip(batch(r.getString(0))).forall { case (a, b) =>
            math.abs(a - b) < 1e-5
          })
        }
      } finally query.stop()
    }
  }

  test("bad calls fail at analysis, naming the function and what it takes") {
    val path = save(TestGraphs.affine(3), "affine2")
    spark.sql(
      "SELECT 1 AS one, array(1.0f, 2.0f, 3.0f) AS a, " +
        s"CAST(NULL AS ${ImageFields.schema.sql}) AS image")
      .createOrReplaceTempView("one")
    assert(error("SELECT sparkdl_tensor(a) FROM one").contains(
        "sparkdl_tensor: takes 2 arguments (model, values)"))
    assert(error("SELECT sparkdl_tensor(cast(one AS string), a) FROM one")
        .contains("sparkdl_tensor: the first argument must be a constant string"))
    assert(error(s"SELECT sparkdl_predict('$path', a) FROM one")
        .contains("sparkdl_predict: the second argument must be an image struct"))
    assert(error("SELECT sparkdl_decode_image(a) FROM one")
        .contains("sparkdl_decode_image: the first argument must be encoded image bytes (binary)"))
    assert(error("SELECT sparkdl_features('ResNet', image) FROM one")
        .contains(
          "sparkdl_features: 'ResNet' is not a named model (InceptionV3, Xception, ResNet50"))
    assert(error("SELECT sparkdl_tensor('/no/such/graph.pb', a) FROM one")
        .contains(
          "sparkdl_tensor: model '/no/such/graph.pb': graphPath '/no/such/graph.pb' is neither"))
    assert(error(s"SELECT sparkdl_tensor('$path', one) FROM one")
        .contains(
          "sparkdl_tensor: the second argument must be a numeric array or a vector, got int"))
  }
}
