package sparkdl.ml

import org.apache.spark.ml.PipelineModel
import org.apache.spark.ml.sparkdl.SavedPipelines
import org.apache.spark.sql.SparkSession

/** Loading fitted pipelines wherever they were saved. */
object PipelineModels {

  /**
   * The `PipelineModel` at `path`, saved from Scala, classic PySpark or a Spark Connect client
   * (which writes pyspark's metadata, refused by Spark's `PipelineModel.load`).
   */
  def load(path: String): PipelineModel = SavedPipelines.load(SparkSession.active, path)
}
