package sparkdl.ml

import org.apache.hadoop.fs.Path
import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param.{Param, ParamMap}
import org.apache.spark.ml.sparkdl.StageMetadata
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.io.HadoopFiles
import sparkdl.onnx.{OnnxFiles, OnnxModel}

/**
 * Applies an ONNX model (exported from PyTorch with `torch.onnx.export`, from Hugging Face with
 * `optimum`, or from any other framework) to non-image columns, with ONNX Runtime in the
 * executor JVMs: each input column feeds a model input (`inputMapping`: column -> input name),
 * each output fills a column (`outputMapping`: output name -> column). Inputs may be float,
 * double, int32 or int64 (a column's numbers are fed exactly, or the row fails); outputs are
 * float32, their first dimension the batch (dynamic). As [[TFTransformer]] otherwise: rows
 * reshaped to the input's static shape, nulls give nulls, batched, lazy.
 *
 * {{{
 * new ONNXTransformer().setModelPath("/models/classifier.onnx")
 *   .setInputMapping(Seq("features" -> "input")).setOutputMapping(Seq("logits" -> "scores"))
 * }}}
 */
class ONNXTransformer(override val uid: String) extends Transformer with TensorMappingParams with MLWritable {

  def this() = this(Identifiable.randomUID("ONNXTransformer"))

  final val modelPath: Param[String] = new Param[String](this, "modelPath",
    "the ONNX model file (.onnx), a path on any Hadoop file system or a Spark Connect artifact name; " +
      "saved with the stage; no default")

  final def getModelPath: String = $(modelPath)
  def setModelPath(value: String): this.type = set(modelPath, value)

  /** The model, read once per JVM while its file is unchanged. */
  def getModel: OnnxModel = {
    val path = StageSchema.required(this, modelPath)
    new OnnxModel(OnnxFiles.read(path), get(inputTensors).fold(Seq.empty[String])(_.toSeq),
      get(outputTensors).fold(Seq.empty[String])(_.toSeq), path)
  }

  override def transformSchema(schema: StructType): StructType = {
    val (ins, outs) = tensorsOf(getModel, "ONNXTransformer")
    tensorSchema(schema, ins, outs)
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    val model = getModel
    transformTensors(dataset, model, "ONNXTransformer", s"onnx-${model.hash.take(12)}")
  }

  override def copy(extra: ParamMap): ONNXTransformer = defaultCopy(extra)

  /** The params as Spark ML metadata, and the model beside them as `model.onnx`. */
  override def write: MLWriter = new MLWriter {
    override protected def saveImpl(path: String): Unit = {
      StageMetadata.save(ONNXTransformer.this, path, sparkSession, exclude = Set("modelPath"))
      HadoopFiles.write(getModel.bytes, new Path(path, ONNXTransformer.ModelFile), sparkSession)
    }
  }
}

object ONNXTransformer extends MLReadable[ONNXTransformer] {

  private val ModelFile = "model.onnx"

  override def read: MLReader[ONNXTransformer] = new MLReader[ONNXTransformer] {
    override def load(path: String): ONNXTransformer = {
      val (stage, _) = StageMetadata.load(path, sparkSession, classOf[ONNXTransformer].getName,
        new ONNXTransformer(_), exclude = Set("modelPath"))
      stage.setModelPath(new Path(path, ModelFile).toString)
    }
  }

  override def load(path: String): ONNXTransformer = super.load(path)
}
