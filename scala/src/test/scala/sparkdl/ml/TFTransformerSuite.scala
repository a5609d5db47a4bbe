package sparkdl.ml

import java.nio.file.Files

import org.apache.spark.ml.linalg.Vectors
import org.apache.spark.sql.Row
import org.apache.spark.sql.types._
import org.scalatest.funsuite.AnyFunSuite

import sparkdl.{SparkSessionFixture, TestGraphs}
import sparkdl.tf.GraphException

class TFTransformerSuite extends AnyFunSuite with SparkSessionFixture {

  private def data = spark.createDataFrame(spark.sparkContext.parallelize(Seq(
        Row(1, Seq(1.0, 2.0, 3.0)), Row(2, null), Row(3, Seq(-1.5, 0.0, 0.25))), 2),
    StructType(Seq(StructField("id", IntegerType), StructField("x", ArrayType(DoubleType)))))

  private def stage = new TFTransformer().setGraph(TestGraphs.affine(3))
    .setInputMapping(Seq("x" -> "input:0")).setOutputMapping(Seq("output:0" -> "y"))

  test("applies the graph row by row in batches; nulls give nulls") {
    val rows = stage.setBatchSize(2).transform(data).orderBy("id").collect()
    assert(rows(0).getSeq[Float](2) == Seq(3f, 5f, 7f))
    assert(rows(1).isNullAt(2))
    assert(rows(2).getSeq[Float](2) == Seq(-2f, 1f, 1.5f))
  }

  test(
    "a partition streams in batches: never more than one " +
      "batch of rows held, one model run per batch") {
    import org.apache.spark.sql.functions.col
    import StreamCounters.{emit, pull}
    StreamCounters.reset()
    val source = spark.range(0, 10000, 1, 1).select(pull(col("id")).as("id"))
      .selectExpr("id", "array(cast(id AS double), 1d, 2d) AS x")
    val out = stage.setBatchSize(16).transform(source).select(emit(col("id")).as("id"), col("y"))
    val rows = out.collect()
    assert(rows.length == 10000 && StreamCounters.emitted.get() == 10000)
    assert(rows.forall(r => r.getSeq[Float](1) == Seq(r.getLong(0) * 2f + 1, 3f, 5f)))
    assert(StreamCounters.maxAhead.get() < 16,
      s"${StreamCounters.maxAhead.get()} rows pulled ahead of the output")
    val exec = out.queryExecution.executedPlan.collect { case e: sparkdl.sql.ModelEvalExec => e }
    assert(exec.map(_.metrics("modelRuns").value) == Seq(625)) // ceil(10000 / 16)
  }

  test("vector columns feed too; sizes that disagree name both shapes") {
    val vecs =
      spark.createDataFrame(Seq((1, Vectors.dense(1, 1, 1)), (2, Vectors.dense(1, 2))))
        .toDF("id", "x")
    val e = intercept[Exception](stage.transform(vecs).collect())
    assert(e.getMessage.contains("Column 'x' has a row of 2 values") &&
      e.getMessage.contains("[?,3] takes 3"))
  }

  test("schema checks happen before any job") {
    val strings = spark.createDataFrame(Seq((1, "a"))).toDF("id", "x")
    val e = intercept[IllegalArgumentException](stage.transformSchema(strings.schema))
    assert(e.getMessage.contains("'x'") && e.getMessage.contains("string"))
    val g = intercept[GraphException](
      stage.setInputMapping(Seq("x" -> "in:0")).transformSchema(data.schema))
    assert(g.getMessage.contains("'in:0'") && g.getMessage.contains("input:0 float [?,3]"))
  }

  test("save and load round trip") {
    val dir = Files.createTempDirectory("tft").resolve("stage").toString
    stage.write.overwrite().save(dir)
    val loaded = TFTransformer.load(dir)
    assert(loaded.getInputMapping == Map("x" -> "input:0") &&
      loaded.getOutputMapping == Map("output:0" -> "y"))
    assert(loaded.transform(data).orderBy("id").collect().toSeq ==
      stage.transform(data).orderBy("id").collect().toSeq)
  }
}
