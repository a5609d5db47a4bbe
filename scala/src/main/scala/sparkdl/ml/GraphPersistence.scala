package sparkdl.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.param.Params
import org.apache.spark.ml.sparkdl.StageMetadata
import org.apache.spark.sql.SparkSession
import org.json4s.{DefaultFormats, Formats, JArray, JObject, JString}

import sparkdl.tf.FrozenGraph

/**
 * Persistence of stages that carry a frozen graph: params as Spark ML metadata (the
 * `graph` param left out), the GraphDef bytes as `graph.pb` beside it, and the graph's
 * tensor names in the metadata.
 */
private[ml] object GraphPersistence {

  def save(stage: Params, graph: FrozenGraph, path: String, spark: SparkSession): Unit = {
    val extra = JObject(
      "graphInputs" -> JArray(graph.inputs.map(JString(_)).toList),
      "graphOutputs" -> JArray(graph.outputs.map(JString(_)).toList))
    StageMetadata.save(stage, path, spark, exclude = Set("graph"), extra = Some(extra))
    FrozenGraphFile.write(graph.graphDef, new Path(path, "graph.pb"), spark)
  }

  /** Loads the stage's params into `make(uid)` and returns it with its graph. */
  def load[T <: Params](path: String, spark: SparkSession, className: String, make: String => T): (T, FrozenGraph) = {
    val (stage, md) = StageMetadata.load(path, spark, className, make, exclude = Set("graph"))
    implicit val formats: Formats = DefaultFormats
    val graph = FrozenGraph(FrozenGraphFile.read(new Path(path, "graph.pb"), spark),
      (md \ "graphInputs").extract[Seq[String]], (md \ "graphOutputs").extract[Seq[String]])
    (stage, graph)
  }
}
