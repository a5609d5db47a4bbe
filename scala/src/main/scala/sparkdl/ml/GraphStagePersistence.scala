package sparkdl.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.param.Params
import org.apache.spark.ml.sparkdl.StageMetadata
import org.apache.spark.ml.util.{MLReader, MLWriter}
import org.json4s.{DefaultFormats, Formats, JArray, JObject, JString}

import sparkdl.inference.Model
import sparkdl.io.{HadoopFiles, ModelFiles}
import sparkdl.onnx.OnnxModel
import sparkdl.tf.{FrozenGraph, GraphFiles}

/**
 * Writes a stage that runs one model: params as Spark ML metadata (without `modelParams`, the
 * params that name or hold the model), and the model beside it: a frozen graph as `graph.pb` with
 * its tensor names in `graph.json` (the layout of Python's `FrozenGraph.save`; the names are also
 * in the metadata), an ONNX model as `model.onnx`, the file as it came.
 */
private[ml] class ModelStageWriter(stage: Params, model: () => Model, modelParams: Set[String])
  extends MLWriter {
  override protected def saveImpl(path: String): Unit = model() match {
    case onnx: OnnxModel =>
      StageMetadata.save(stage, path, sparkSession, exclude = modelParams)
      HadoopFiles.write(onnx.bytes, new Path(path, ModelStageWriter.OnnxFile), sparkSession)
    case graph: FrozenGraph =>
      val names = JObject(
        "graphInputs" -> JArray(graph.inputs.map(JString(_)).toList),
        "graphOutputs" -> JArray(graph.outputs.map(JString(_)).toList))
      StageMetadata.save(stage, path, sparkSession, exclude = modelParams, extra = Some(names))
      HadoopFiles.write(graph.graphDef, new Path(path, ModelStageWriter.GraphFile), sparkSession)
      GraphFiles.writeNames(graph, new Path(path, "graph.json"), sparkSession)
    case other => throw new IllegalArgumentException(s"${stage.uid}: cannot save $other")
  }
}

private[ml] object ModelStageWriter {

  /**
   * Where a stage's model is saved, beside its metadata: an ONNX model, or a frozen graph (as
   * exports are).
   */
  val OnnxFile: String = sparkdl.models.ExportFolder.Files.Onnx
  val GraphFile: String = sparkdl.models.ExportFolder.Files.Graph
}

/**
 * Reads what [[ModelStageWriter]] wrote into a new stage made by `make(uid)`: `setPath` points it
 * at the saved model file (read once per JVM, when first needed), so the loaded stage holds only
 * literal params and also travels through Spark Connect. A graph stage saved before `graph.json`
 * existed gets its graph as an object (`setGraph`).
 */
private[ml] class ModelStageReader[T <: Params](
    className: String, make: String => T, modelParams: Set[String], setPath: (T, String) => T,
    setGraph: Option[(T, FrozenGraph) => T] = None)
  extends MLReader[T] {
  override def load(path: String): T = {
    val (stage, md) = StageMetadata.load(path, sparkSession, className, make, exclude = modelParams)
    val pb = new Path(path, ModelStageWriter.GraphFile)
    val onnx = new Path(path, ModelStageWriter.OnnxFile)
    if (HadoopFiles.exists(onnx, sparkSession)) setPath(stage, onnx.toString)
    else if (HadoopFiles.exists(new Path(path, "graph.json"), sparkSession) || setGraph.isEmpty) {
      setPath(stage, pb.toString)
    } else {
      implicit val formats: Formats = DefaultFormats
      setGraph.get(stage,
        FrozenGraph(ModelFiles.read(pb, sparkSession), (md \ "graphInputs").extract[Seq[String]],
          (md \ "graphOutputs").extract[Seq[String]]))
    }
  }
}

/** [[ModelStageWriter]] for a [[HasFrozenGraph]] stage (`graph`, or `graphPath`). */
private[ml] class GraphStageWriter(stage: HasFrozenGraph)
  extends ModelStageWriter(stage, () => stage.getModel, GraphStageWriter.ModelParams)

private[ml] object GraphStageWriter {
  val ModelParams: Set[String] = Set("graph", "graphPath")
}

/** [[ModelStageReader]] for a [[HasFrozenGraph]] stage: its `graphPath` is the saved model file. */
private[ml] class GraphStageReader[T <: HasFrozenGraph](className: String, make: String => T)
  extends ModelStageReader[T](
    className, make, GraphStageWriter.ModelParams, (s, p) => s.setGraphPath(p),
    Some((s, g) => s.setGraph(g)))

/**
 * [[ModelStageWriter]] and reader for a [[HasModelPath]] stage: its `modelPath` is the saved model
 * file.
 */
private[ml] object ModelPathPersistence {
  def writer(stage: HasModelPath): MLWriter =
    new ModelStageWriter(stage, () => stage.modelToSave, Set("modelPath"))

  def reader[T <: HasModelPath](className: String, make: String => T): MLReader[T] =
    new ModelStageReader[T](className, make, Set("modelPath"), (s, p) => s.setModelPath(p))
}
