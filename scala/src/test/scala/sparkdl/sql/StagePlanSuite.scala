package sparkdl.sql

import java.io.File

import org.apache.spark.sql.functions.{col, lit, when}
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.{SparkSessionFixture, TestGraphs}
import sparkdl.image.ImageReader
import sparkdl.inference.{AutoBatchSize, BatchInference, EngineChoice}
import sparkdl.ml.{DeepImageFeaturizer, TFTransformer}

/** The stages run on the batched Catalyst path of the SQL functions: lazy, visible, pruned. */
class StagePlanSuite extends AnyFunSuite with SparkSessionFixture {

  private lazy val fixtures = {
    val f = new File(System.getProperty("sparkdl.test.fixtures", "target/scala-fixtures"))
    assert(new File(f, "expected.json").isFile, "run `make test-scala` to write the fixtures")
    f
  }

  private def featurizer = new DeepImageFeaturizer().setModelName("EfficientNetLite0")
    .setModelDir(new File(fixtures, "models").getAbsolutePath)
    .setOutputCol("features").setHandleInvalid("keep")

  private def images = ImageReader.readImages(spark, new File(fixtures, "images").getAbsolutePath)

  test("transform is lazy, and explain() shows the model by name") {
    val tracker = spark.sparkContext.statusTracker
    spark.sparkContext.setJobGroup("lazy-transform", "transform only")
    val out = try featurizer.transform(images)
    finally spark.sparkContext.clearJobGroup()
    assert(tracker.getJobIdsForGroup("lazy-transform").isEmpty, "transform ran a job")
    val plan = out.queryExecution.explainString(org.apache.spark.sql.execution.SimpleMode)
    assert(plan.contains(
        "SparkdlModelEval [DeepImageFeaturizer('EfficientNetLite0', image)] batchSize=auto"), plan)
    assert(!plan.contains("ExistingRDD"), plan)
  }

  test("a query that does not read the output column does not run the model") {
    val out = featurizer.transform(images)
    val before = BatchInference.runs.get()
    val paths = out.select("filePath").collect()
    assert(
      paths.length > 0 && BatchInference.runs.get() == before, "the model ran for an unread column")
    assert(out.select("filePath").queryExecution.executedPlan.collect { case e: ModelEvalExec =>
      e
    }.isEmpty)
    out.select("features").collect()
    assert(BatchInference.runs.get() > before)
    // the model's input image is read but not carried past the model when nothing above reads it
    val exec = out.select("filePath", "features").queryExecution.executedPlan.collect {
      case e: ModelEvalExec => e
    }
    assert(exec.map(_.output.map(_.name)) == Seq(Seq("filePath", "DeepImageFeaturizer")), exec)
  }

  test(
    "handleInvalid=skip drops the rows the model cannot " +
      "score; the stage's batchSize wins over the session's") {
    spark.conf.set(ModelEvalExec.BatchSizeConf, "2")
    try {
      val some =
        images.withColumn(
          "image", when(col("filePath").contains("chelsea"), lit(null)).otherwise(col("image")))
      val valid = some.filter(col("image").isNotNull).count()
      assert(valid > 0 && valid < some.count())
      val scored = featurizer.setHandleInvalid("skip").setBatchSize(4).transform(some)
      assert(scored.count() == valid && scored.filter(col("features").isNull).count() == 0)
      val exec = scored.queryExecution.executedPlan.collect { case e: ModelEvalExec => e }
      assert(exec.map(_.batchSize) == Seq(4))
    } finally spark.conf.unset(ModelEvalExec.BatchSizeConf)
  }

  test("auto batch size: measured on real batches, the fastest kept, the same rows out") {
    AutoBatchSize.reset()
    val graph = TestGraphs.affine(2)
    val t = new TFTransformer().setGraph(graph).setInputMapping(Seq("a" -> "input:0"))
      .setOutputMapping(Seq("output:0" -> "out"))
    assert(t.getBatchSize == 0)
    val df = spark.range(0, 3000, 1, 2).selectExpr("id", "array(cast(id AS float), 1.0f) AS a")
    val rows = t.transform(df).collect().sortBy(_.getLong(0))
    assert(rows.map(_.getSeq[Float](2)).toSeq == (0 until 3000).map(i => Seq(i * 2f + 1, 3f)))
    val chosen = AutoBatchSize.chosen(graph.hash)
    assert(chosen.exists(AutoBatchSize.Candidates.contains), chosen)
  }

  test("auto batch size: stops after two sizes clearly slower than the best, keeps the best") {
    AutoBatchSize.reset()
    val model = TestGraphs.affine(5)
    val tuner = AutoBatchSize.forModel(model, "test")
    val perRowMs = Map(1 -> 10.0, 2 -> 6.0, 4 -> 5.0, 8 -> 5.8, 16 -> 7.0, 32 -> 1.0, 64 -> 1.0)
    var sizesTried = Seq.empty[Int]
    while (tuner.chosen.isEmpty) {
      val size = tuner.next().size
      sizesTried :+= size
      tuner.record(AutoBatchSize.Choice(0, size), size, (perRowMs(size) * 1e6 * size).toLong)
      tuner.record(AutoBatchSize.Choice(0, size), size - 1,
        1L) // a partial batch (end of a partition) is not a measurement
    }
    assert(tuner.chosen.map(_.size).contains(4))
    // 8 and 16 are > 10% slower than 4: no larger size tried
    assert(sizesTried.distinct == Seq(1, 2, 4, 8, 16))
    // one untimed run, then >= 32 rows
    assert(sizesTried.count(_ == 4) == 1 + AutoBatchSize.MinRows / 4)
    assert(sizesTried.count(_ == 16) == 1 + AutoBatchSize.Runs)
    assert(tuner.next().size == 4 && AutoBatchSize.chosen(model.hash).contains(4))
  }

  test(
    "auto batch size on rows sorted by cost: the sizes " +
      "take turns, so the growing cost favours none") {
    AutoBatchSize.reset()
    val model = TestGraphs.affine(6)
    val tuner = AutoBatchSize.forModel(model, "sorted", interleaved = true)
    // per-row cost at each size (best: 16), times a cost that
    // grows with every row fed, as along a sorted window
    val perRowMs = Map(1 -> 4.0, 2 -> 3.0, 4 -> 2.4, 8 -> 2.1, 16 -> 2.0, 32 -> 2.3, 64 -> 2.6)
    var fed = 0
    var sizesTried = Seq.empty[Int]
    while (tuner.chosen.isEmpty) {
      val size = tuner.next().size
      sizesTried :+= size
      val growth = 1.0 + fed / 200.0
      tuner.record(
        AutoBatchSize.Choice(0, size), size, (perRowMs(size) * growth * 1e6 * size).toLong)
      fed += size
    }
    assert(tuner.chosen.map(_.size).contains(16), sizesTried)
    assert(sizesTried == Seq.fill(1 + AutoBatchSize.Runs)(AutoBatchSize.Candidates).flatten,
      "rounds of one batch each")
    // measured one size after another instead, the cost
    // grown by the time 16 is reached makes a small size win
    AutoBatchSize.reset()
    val sequential = AutoBatchSize.forModel(model, "sorted, in order")
    fed = 0
    while (sequential.chosen.isEmpty) {
      val size = sequential.next().size
      sequential.record(AutoBatchSize.Choice(0, size), size,
        (perRowMs(size) * (1.0 + fed / 200.0) * 1e6 * size).toLong)
      fed += size
    }
    assert(sequential.chosen.exists(_.size < 16))
  }

  test("engine auto: each engine's sizes are measured in turn, the fastest engine and size kept, " +
    "the other engine's session closed") {
    AutoBatchSize.reset()
    val model = new EngineChoice(Seq(TestGraphs.affine(7), TestGraphs.affine(8)))
    val tuner = AutoBatchSize.forModel(model, "two engines")
    // engine 0 is best at 4, engine 1 at 8 and faster overall
    val perRowMs = Map(
      0 -> Map(1 -> 10.0, 2 -> 6.0, 4 -> 5.0, 8 -> 5.8, 16 -> 7.0, 32 -> 1.0, 64 -> 1.0),
      1 -> Map(1 -> 9.0, 2 -> 5.0, 4 -> 4.0, 8 -> 3.0, 16 -> 3.5, 32 -> 4.0, 64 -> 0.5))
    var tried = Seq.empty[AutoBatchSize.Choice]
    while (tuner.chosen.isEmpty) {
      val c = tuner.next()
      tried :+= c
      tuner.record(c, c.size, (perRowMs(c.engine)(c.size) * 1e6 * c.size).toLong)
    }
    assert(tuner.chosen.contains(AutoBatchSize.Choice(1, 8)), tried.distinct)
    // engine after engine, each stopping after two sizes clearly slower than its best
    assert(tried.distinct == Seq(1, 2, 4, 8, 16).map(AutoBatchSize.Choice(0, _)) ++
      Seq(1, 2, 4, 8, 16, 32).map(AutoBatchSize.Choice(1, _)))
    assert(AutoBatchSize.chosenEngine(model.hash).contains("tf") &&
      AutoBatchSize.chosen(model.hash).contains(8))
    // a size the user fixed: only the engines are measured
    val fixed = AutoBatchSize.forModel(model, "fixed", fixedSize = 5)
    while (fixed.chosen.isEmpty) {
      val c = fixed.next()
      assert(c.size == 5)
      fixed.record(c, c.size, ((if (c.engine == 0) 2.0 else 3.0) * 1e6 * c.size).toLong)
    }
    assert(fixed.chosen.contains(AutoBatchSize.Choice(0, 5)))
  }

  test("engine auto: the engines' best sizes run again in turns, so a slowdown during one " +
    "engine's search does not decide the engine") {
    AutoBatchSize.reset()
    val model = new EngineChoice(Seq(TestGraphs.affine(9), TestGraphs.affine(10)))
    val tuner = AutoBatchSize.forModel(model, "slowdown")
    // engine 0 is faster (5 vs 6 ms per row at every size), but the first 700 rows run 1.5x
    // slower (a JVM warming up): all of engine 0's search and the start of engine 1's
    var fed = 0
    var tried = Seq.empty[AutoBatchSize.Choice]
    while (tuner.chosen.isEmpty) {
      val c = tuner.next()
      tried :+= c
      val slowdown = if (fed < 700) 1.5 else 1.0
      tuner.record(c, c.size, ((if (c.engine == 0) 5.0 else 6.0) * slowdown * 1e6 * c.size).toLong)
      fed += c.size
    }
    assert(tuner.chosen.exists(_.engine == 0), tried)
    // the final round alternates the two engines' best sizes, a batch each
    val last = tried.takeRight(12)
    assert(last.sliding(2).forall { case Seq(a, b) => a.engine != b.engine }, last)
    val measured = AutoBatchSize.choices.find(_._1 == "slowdown").get._4
    assert(measured.values.min == 5.0, measured)
  }

  test("an EngineChoice session runs each form, and after keepEngine only the kept one") {
    val model = new EngineChoice(Seq(TestGraphs.affine(2), TestGraphs.affine(2, scale = 3f)))
    val session = model.open()
    try {
      val feed = Seq(sparkdl.inference.Feed("input:0", Array(1L, 2L), Array(1f, 2f)))
      def run(engine: Int) =
        session.runOn(engine, feed, Seq("output:0"), new sparkdl.inference.RunControl).head._2.toSeq
      val (first, second) = (run(0), run(1))
      assert(first == Seq(1f * 2 + 1, 2f * 2 + 1) && second == Seq(1f * 3 + 1, 2f * 3 + 1))
      session.keepEngine(1)
      // a batch measured for the other engine before the choice runs on the kept one
      assert(run(0) == second && run(1) == second)
    } finally session.close()
    assert(session.isClosed)
  }
}
