package sparkdl.ml

import java.io.File
import java.nio.file.Files

import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.Row
import org.apache.spark.sql.functions.{col, when}
import org.json4s.{DefaultFormats, Formats}
import org.json4s.jackson.JsonMethods.parse
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.SparkSessionFixture
import sparkdl.image.ImageReader
import sparkdl.inference.Engines
import sparkdl.models.{ExportFolder, ImageNetLabels}

/**
 * The named-model stages from Scala, on an export made by `python -m sparkdl.models export`
 * (EfficientNet-Lite0 with its real ImageNet weights), against Keras outputs computed in Python on
 * the same images (`tests/support/make_scala_fixtures.py`, run by `make test-scala`).
 */
class NamedImageModelsSuite extends AnyFunSuite with SparkSessionFixture {

  private lazy val fixtures: File = {
    val dir = new File(System.getProperty("sparkdl.test.fixtures", "target/scala-fixtures"))
    assert(new File(dir, "expected.json").isFile,
      s"$dir/expected.json is missing: run `make test-scala` " +
        "(it exports the model and computes Keras outputs)")
    dir
  }
  private lazy val modelDir = new File(fixtures, "models").getAbsolutePath

  private lazy val expected: Map[String, (Array[Double], Seq[Int], Seq[Double])] = {
    implicit val formats: Formats = DefaultFormats
    val json =
      parse(new String(Files.readAllBytes(new File(fixtures, "expected.json").toPath), "UTF-8"))
    json.extract[Map[String, Map[String, List[Double]]]].map { case (name, m) =>
      name -> (m("features").toArray, m("topIndices").map(_.toInt), m("topProbabilities"))
    }
  }

  /** The int8 form's features, from ONNX Runtime Python on the same pixels. */
  private lazy val int8Expected: Map[String, Array[Double]] = {
    implicit val formats: Formats = DefaultFormats
    val json =
      parse(new String(Files.readAllBytes(new File(fixtures, "expected.json").toPath), "UTF-8"))
    json.extract[Map[String, Map[String, List[Double]]]].map { case (name, m) =>
      name -> m("int8Features").toArray
    }
  }

  private def images = ImageReader.readImages(spark, new File(fixtures, "images").getAbsolutePath)

  private def fileName(path: String) = path.substring(path.lastIndexOf('/') + 1)

  test("DeepImageFeaturizer equals Keras on the same images (1e-4 relative)") {
    val f = new DeepImageFeaturizer().setInputCol("image").setOutputCol("features")
      .setModelName("EfficientNetLite0").setModelDir(modelDir)
    val rows = f.transform(images).select("filePath", "features").collect()
    assert(rows.length == 3)
    rows.foreach { r =>
      val got = r.getAs[Vector](1).toArray
      val want = expected(fileName(r.getString(0)))._1
      assert(got.length == 1280)
      val scale = want.map(math.abs).max
      val err = got.zip(want).map { case (a, b) => math.abs(a - b) }.max
      assert(err <= 1e-4 * scale, s"${r.getString(0)}: max error $err, scale $scale")
    }
  }

  test("DeepImagePredictor decodes the top K with WordNet ids, highest first") {
    val p = new DeepImagePredictor().setInputCol("image").setOutputCol("predicted_labels")
      .setModelName("EfficientNetLite0").setModelDir(modelDir).setDecodePredictions(true).setTopK(5)
    val labels = ImageNetLabels.imagenet1k
    val rows = p.transform(images).select("filePath", "predicted_labels").collect()
    rows.foreach { r =>
      val (_, topIdx, topProb) = expected(fileName(r.getString(0)))
      val got = r.getSeq[Row](1)
      assert(got.map(_.getString(0)) == topIdx.map(labels.ids(_)))
      assert(got.map(_.getString(1)) == topIdx.map(labels.descriptions(_)))
      got.map(_.getFloat(2).toDouble).zip(topProb).foreach { case (a, b) =>
        assert(math.abs(a - b) <= 1e-4 * b + 1e-6)
      }
    }
    val cat = rows.find(r => r.getString(0).endsWith("chelsea.png")).get.getSeq[Row](1).head
    assert(cat.getString(0) == "n02124075" && cat.getString(1) == "Egyptian cat")
  }

  test(
    "precision int8: the export's int8 form on ONNX Runtime, as ONNX Runtime Python; saved and " +
      "loaded with it; refused on TensorFlow") {
    val f = new DeepImageFeaturizer().setOutputCol("features").setModelName("EfficientNetLite0")
      .setModelDir(modelDir).setPrecision("int8")
    def features(stage: DeepImageFeaturizer) =
      stage.transform(images).select("filePath", "features").collect()
        .map(r => fileName(r.getString(0)) -> r.getAs[Vector](1).toArray).toMap
    val got = features(f)
    assert(got.keySet == int8Expected.keySet)
    got.foreach { case (name, values) =>
      val want = int8Expected(name)
      val scale = want.map(math.abs).max
      val err = values.zip(want).map { case (a, b) => math.abs(a - b) }.max
      assert(err <= 1e-4 * scale, s"$name: max error $err, scale $scale")
      val float = expected(name)._1
      val cosine = values.zip(float).map { case (a, b) => a * b }.sum /
        math.sqrt(values.map(v => v * v).sum * float.map(v => v * v).sum)
      assert(cosine > 0.9, s"$name: cosine $cosine to Keras' float features")
    }
    val path = Files.createTempDirectory("int8").resolve("stage").toString
    f.write.overwrite().save(path)
    val loaded = DeepImageFeaturizer.load(path)
    assert(loaded.getPrecision == "int8" &&
      new File(path, "export/EfficientNetLite0/model.int8.onnx").isFile)
    assert(features(loaded).map { case (k, v) => k -> v.toSeq } == got.map { case (k, v) =>
      k -> v.toSeq
    })
    val e = intercept[Exception](features(f.copy(ParamMap.empty).setEngine(Engines.TensorFlow)))
    assert(Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null)
        .exists(_.getMessage.contains("precision 'int8' runs EfficientNetLite0's int8 form on " +
            "ONNX Runtime, not engine 'tf'")), e)
  }

  test(
    "Pipeline(featurizer, LogisticRegression): fit, save, load, same predictions, " +
      "on the ONNX form the saved stage carries") {
    spark.conf.set(ExportFolder.Conf.ModelDir, modelDir) // modelDir from the Spark conf
    try {
      val data =
        ImageReader.readImages(spark, new File(fixtures, "shapes").getAbsolutePath, true, 2)
          .withColumn("label", when(col("filePath").contains("/red/"), 0.0).otherwise(1.0))
      // one engine, so that two runs give the same bits (auto may mix engines while it measures)
      val featurizer = new DeepImageFeaturizer().setOutputCol("features")
        .setModelName("EfficientNetLite0").setEngine(Engines.Onnx)
      val model =
        new Pipeline().setStages(Array(featurizer, new LogisticRegression().setMaxIter(30)))
          .fit(data)
      val predicted = model.transform(data)
      val accuracy =
        new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predicted)
      assert(accuracy > 0.9, s"training accuracy $accuracy")
      val path = Files.createTempDirectory("pipeline").resolve("model").toString
      model.write.overwrite().save(path)
      val loaded = PipelineModel.load(path)
      assert(loaded.stages(0).asInstanceOf[DeepImageFeaturizer].getEngine == Engines.Onnx)
      def preds(m: PipelineModel) =
        m.transform(data).orderBy("filePath").select("probability").collect().toSeq
      assert(preds(loaded) == preds(model))
    } finally spark.conf.unset(ExportFolder.Conf.ModelDir)
  }

  test(
    "no modelDir: the export Python wrote into its cache is " +
      "found, as by a SQL function; a conf without it too") {
    val cache = Files.createTempDirectory("sparkdl-cache").toFile
    val exported = new File(cache, "imagenet/EfficientNetLite0")
    exported.mkdirs()
    Seq("model.json", "graph.pb").foreach { f =>
      Files.copy(new File(modelDir, s"EfficientNetLite0/$f").toPath, new File(exported, f).toPath)
    }
    // a conf dir holding other models only
    val elsewhere = Files.createTempDirectory("other-exports").toString
    spark.conf.set(ExportFolder.Conf.ModelCache, cache.getAbsolutePath)
    spark.conf.set(ExportFolder.Conf.ModelDir, elsewhere)
    try {
      val featurizer = new DeepImageFeaturizer().setOutputCol("f").setModelName("EfficientNetLite0")
      val byStage = featurizer.transform(images).orderBy("filePath").select("f").collect().map(
        _.getAs[Vector](0))
      images.createOrReplaceTempView("cached_photos")
      val bySql = spark.sql(
        "SELECT sparkdl_features('EfficientNetLite0', image) FROM cached_photos ORDER BY filePath")
        .collect().map(_.getSeq[Float](0))
      assert(byStage.length == images.count() && byStage.length == bySql.length)
      byStage.zip(bySql).foreach { case (v, s) =>
        v.toArray.zip(s).foreach { case (a, b) =>
          assert(math.abs(a - b) <= 1e-5 * math.max(1.0, math.abs(a)))
        }
      }
      val missing = intercept[IllegalArgumentException](
        new DeepImageFeaturizer().setOutputCol("f").setModelName("ResNet50").transform(images))
      assert(missing.getMessage.contains(s"'$elsewhere'") &&
          missing.getMessage.contains(s"${cache.getPath}/imagenet"),
        missing.getMessage)
    } finally {
      spark.conf.unset(ExportFolder.Conf.ModelCache)
      spark.conf.unset(ExportFolder.Conf.ModelDir)
    }
  }

  test("errors: unknown model lists the valid names; no modelDir says how to export") {
    val e = intercept[IllegalArgumentException](new DeepImageFeaturizer().setModelName("ResNet51"))
    assert(e.getMessage.contains("ResNet51") && e.getMessage.contains("InceptionV3"))
    val near = intercept[IllegalArgumentException](
      new DeepImageFeaturizer().setModelName("EfficientNetLite"))
    assert(near.getMessage.contains("(did you mean 'EfficientNetLite0'?)"), near.getMessage)
    spark.conf.set(ExportFolder.Conf.ModelCache, Files.createTempDirectory("empty-cache").toString)
    val noDir = try intercept[IllegalArgumentException](
        new DeepImageFeaturizer().setOutputCol("f").setModelName("ResNet50").transform(images))
    finally spark.conf.unset(ExportFolder.Conf.ModelCache)
    assert(noDir.getMessage.contains("python -m sparkdl.models export --model ResNet50"))
    val wrongDir = intercept[IllegalArgumentException](
      new DeepImageFeaturizer().setOutputCol("f").setModelName("ResNet50")
        .setModelDir(modelDir).transform(images))
    assert(wrongDir.getMessage.contains("holds no export of ResNet50"))
  }
}
