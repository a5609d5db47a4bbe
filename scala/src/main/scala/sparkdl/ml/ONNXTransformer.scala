package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.onnx.{OnnxFiles, OnnxModel}

/**
 * Applies a model file to non-image columns, in the executor JVMs: each input column feeds a model
 * input (`inputMapping`: column -> input name), each output fills a column (`outputMapping`: output
 * name -> column). Inputs may be float, double, int32 or int64 (a column's numbers are fed exactly,
 * or the row fails); outputs are float32, their first dimension the batch (dynamic). As
 * [[TFTransformer]] otherwise: rows reshaped to the input's static shape, nulls give nulls,
 * batched, lazy. The model file is saved with the stage.
 */
abstract class TensorModelStage(override val uid: String)
  extends Transformer with TensorMappingParams with HasModelPath with MLWritable {

  override def transformSchema(schema: StructType): StructType = {
    val (ins, outs) = tensorsOf(getModel, getClass.getSimpleName)
    tensorSchema(schema, ins, outs)
  }

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      val model = getModel
      transformTensors(dataset, model, getClass.getSimpleName, s"model-${model.hash.take(12)}")
    }

  override def write: MLWriter = ModelPathPersistence.writer(this)
}

/**
 * [[TensorModelStage]] over a model file of either engine, the engine read from the file
 * (`modelPath`: an ONNX model, exported from PyTorch with `torch.onnx.export`, from Hugging Face
 * with `optimum` or from any other framework, run by ONNX Runtime; or a frozen TensorFlow graph).
 *
 * {{{
 * new TensorModelTransformer().setModelPath("/models/classifier.onnx")
 *   .setInputMapping(Seq("features" -> "input")).setOutputMapping(Seq("logits" -> "scores"))
 * }}}
 */
class TensorModelTransformer(uid: String) extends TensorModelStage(uid) {

  def this() = this(Identifiable.randomUID("TensorModelTransformer"))

  override def copy(extra: ParamMap): TensorModelTransformer = defaultCopy(extra)
}

object TensorModelTransformer extends MLReadable[TensorModelTransformer] {

  override def read: MLReader[TensorModelTransformer] =
    ModelPathPersistence.reader(
      classOf[TensorModelTransformer].getName, new TensorModelTransformer(_))

  override def load(path: String): TensorModelTransformer = super.load(path)
}

/**
 * [[TensorModelStage]] for ONNX models only (`modelPath` a `.onnx` file): the name it was first
 * given.
 */
class ONNXTransformer(uid: String) extends TensorModelStage(uid) {

  def this() = this(Identifiable.randomUID("ONNXTransformer"))

  override def getModel: OnnxModel = OnnxFiles.model(StageSchema.required(this, modelPath))

  override private[ml] def modelToSave: OnnxModel = {
    val path = StageSchema.required(this, modelPath)
    new OnnxModel(OnnxFiles.read(path), Nil, Nil, path)
  }

  override def copy(extra: ParamMap): ONNXTransformer = defaultCopy(extra)
}

object ONNXTransformer extends MLReadable[ONNXTransformer] {

  override def read: MLReader[ONNXTransformer] =
    ModelPathPersistence.reader(classOf[ONNXTransformer].getName, new ONNXTransformer(_))

  override def load(path: String): ONNXTransformer = super.load(path)
}
