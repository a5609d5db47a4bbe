package sparkdl.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.sparkdl.StageMetadata
import org.apache.spark.ml.util.{MLReader, MLWriter}
import org.json4s.{DefaultFormats, Formats, JArray, JObject, JString}

import sparkdl.io.{HadoopFiles, ModelFiles}
import sparkdl.onnx.OnnxModel
import sparkdl.tf.{FrozenGraph, GraphFiles}

/**
 * Writes a [[HasFrozenGraph]] stage: params as Spark ML metadata (without `graph` and
 * `graphPath`), the graph beside it as `graph.pb` with its tensor names in `graph.json` (the
 * layout of Python's `FrozenGraph.save`; the names are also in the metadata), or an ONNX
 * model as `model.onnx`.
 */
private[ml] class GraphStageWriter(stage: HasFrozenGraph) extends MLWriter {
  override protected def saveImpl(path: String): Unit = stage.getModel match {
    case onnx: OnnxModel => // an image stage's ONNX model: the file as it came
      StageMetadata.save(stage, path, sparkSession, exclude = Set("graph", "graphPath"))
      HadoopFiles.write(onnx.bytes, new Path(path, GraphStageWriter.OnnxFile), sparkSession)
    case graph: FrozenGraph => saveGraph(path, graph)
    case other => throw new IllegalArgumentException(s"${stage.uid}: cannot save $other")
  }

  private def saveGraph(path: String, graph: FrozenGraph): Unit = {
    val names = JObject(
      "graphInputs" -> JArray(graph.inputs.map(JString(_)).toList),
      "graphOutputs" -> JArray(graph.outputs.map(JString(_)).toList))
    StageMetadata.save(stage, path, sparkSession, exclude = Set("graph", "graphPath"), extra = Some(names))
    HadoopFiles.write(graph.graphDef, new Path(path, "graph.pb"), sparkSession)
    GraphFiles.writeNames(graph, new Path(path, "graph.json"), sparkSession)
  }
}

private[ml] object GraphStageWriter {

  /** Where a stage's ONNX model is saved, beside its metadata. */
  val OnnxFile = "model.onnx"
}

/**
 * Reads what [[GraphStageWriter]] wrote into a new stage made by `make(uid)`: its `graphPath` is
 * the saved `graph.pb` (read once per JVM, when first needed), so the loaded stage holds only
 * literal params and also travels through Spark Connect. A stage saved before `graph.json`
 * existed gets its graph as an object.
 */
private[ml] class GraphStageReader[T <: HasFrozenGraph](className: String, make: String => T) extends MLReader[T] {
  override def load(path: String): T = {
    val (stage, md) = StageMetadata.load(path, sparkSession, className, make, exclude = Set("graph", "graphPath"))
    val pb = new Path(path, "graph.pb")
    val onnx = new Path(path, GraphStageWriter.OnnxFile)
    if (HadoopFiles.exists(onnx, sparkSession)) stage.setGraphPath(onnx.toString)
    else if (HadoopFiles.exists(new Path(path, "graph.json"), sparkSession)) stage.setGraphPath(pb.toString)
    else {
      implicit val formats: Formats = DefaultFormats
      stage.setGraph(FrozenGraph(ModelFiles.read(pb, sparkSession), (md \ "graphInputs").extract[Seq[String]],
          (md \ "graphOutputs").extract[Seq[String]]))
    }
  }
}
