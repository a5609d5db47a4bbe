package org.apache.spark.ml.sparkdl

import org.apache.spark.ml.{Pipeline, PipelineModel, Transformer}
import org.apache.spark.ml.util.DefaultParamsReader
import org.apache.spark.sql.SparkSession

/**
 * Spark ML's package-private pipeline reader, for pipelines Spark's own `PipelineModel.load`
 * refuses: a Spark Connect client saves a `PipelineModel` with pyspark's writer, whose metadata
 * names `pyspark.ml.pipeline.PipelineModel` (its stages are written by the server, as Scala's).
 */
object SavedPipelines {

  private val PySparkPipelineModel = "pyspark.ml.pipeline.PipelineModel"

  def load(spark: SparkSession, path: String): PipelineModel = {
    val className = DefaultParamsReader.loadMetadata(path, spark).className
    if (className != PySparkPipelineModel) PipelineModel.load(path)
    else {
      val (uid, stages) = Pipeline.SharedReadWrite.load(PySparkPipelineModel, spark, path)
      new PipelineModel(uid, stages.map(_.asInstanceOf[Transformer]))
    }
  }
}
