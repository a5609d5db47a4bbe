package sparkdl.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.sparkdl.StageMetadata
import org.apache.spark.ml.util.{MLReader, MLWriter}
import org.json4s.{DefaultFormats, Formats, JArray, JObject, JString}

import sparkdl.io.HadoopFiles
import sparkdl.tf.FrozenGraph

/**
 * Writes a [[HasFrozenGraph]] stage: params as Spark ML metadata (the `graph` param left
 * out, its tensor names in the metadata), the GraphDef bytes as `graph.pb` beside it.
 */
private[ml] class GraphStageWriter(stage: HasFrozenGraph) extends MLWriter {
  override protected def saveImpl(path: String): Unit = {
    val graph = stage.getGraph
    val extra = JObject(
      "graphInputs" -> JArray(graph.inputs.map(JString(_)).toList),
      "graphOutputs" -> JArray(graph.outputs.map(JString(_)).toList))
    StageMetadata.save(stage, path, sparkSession, exclude = Set("graph"), extra = Some(extra))
    HadoopFiles.write(graph.graphDef, new Path(path, "graph.pb"), sparkSession)
  }
}

/** Reads what [[GraphStageWriter]] wrote into a new stage made by `make(uid)`. */
private[ml] class GraphStageReader[T <: HasFrozenGraph](className: String, make: String => T) extends MLReader[T] {
  override def load(path: String): T = {
    val (stage, md) = StageMetadata.load(path, sparkSession, className, make, exclude = Set("graph"))
    implicit val formats: Formats = DefaultFormats
    stage.setGraph(FrozenGraph(HadoopFiles.read(new Path(path, "graph.pb"), sparkSession),
        (md \ "graphInputs").extract[Seq[String]], (md \ "graphOutputs").extract[Seq[String]]))
  }
}
