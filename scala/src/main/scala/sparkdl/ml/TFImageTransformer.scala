package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.image.{ImageInput, ImageInputSpec}
import sparkdl.inference.{BatchOutput, Model, OutputFormat}

/** Params of [[TFImageTransformer]]. */
trait TFImageTransformerParams extends HasFrozenGraph with HasInputCol with HasOutputCol with HasOutputMode
  with HasBatchSize with HasHandleInvalid with ImageDecodingParams {

  final val inputTensor: Param[String] = new Param[String](this, "inputTensor",
    "name of the graph's image placeholder, shape [batch, height, width, channels]. Default: the graph's first input")

  final val outputTensor: Param[String] = new Param[String](this, "outputTensor",
    "name of the graph tensor to output, first dimension the batch. Default: the graph's first output")

  final val channelOrder: Param[String] = new Param[String](this, "channelOrder",
    "channel order the graph expects: RGB, BGR, or L for 1-channel graphs. Default: RGB",
    ParamValidators.inArray(ImageInputSpec.ChannelOrders.toArray))

  setDefault(inputCol -> "image", channelOrder -> "RGB", batchSize -> 0)

  override protected def outputModes: Seq[String] = super.outputModes :+ "image"

  def getInputTensor: String = get(inputTensor).orElse(givenModel.flatMap(_.inputs.headOption)).getOrElse("input:0")
  def getOutputTensor: String =
    get(outputTensor).orElse(givenModel.flatMap(_.outputs.headOption)).getOrElse("output:0")

  private def givenModel: Option[Model] = if (hasGraph) Some(getModel) else None
  def getChannelOrder: String = $(channelOrder)
}

/**
 * Applies a frozen TensorFlow graph, or an ONNX model (`graphPath` naming a `.onnx` file, run by
 * ONNX Runtime), to a column of images: Spark image structs, or encoded files (`binary`, or
 * `struct<bytes, path>`) decoded in the batch loop ([[sparkdl.image.ImageInput]]). Each image is resized bilinearly (as `tf.image.resize`)
 * to the model's input size, put in the model's channel order as float values 0-255 (laid out
 * `[h, w, c]`, or `[c, h, w]` for a model whose input is channels first, as PyTorch exports
 * are), and fed in batches; the output tensor's row for each image becomes the output column
 * (MLlib Vector or array<float>; with `outputMode` "image", for a model whose output is an
 * image, an image struct of float32 pixels: [[sparkdl.inference.OutputFormat.ImageOutput]]).
 *
 * The model travels to executors once per transform (broadcast) and is loaded once per
 * executor JVM ([[sparkdl.inference.SessionCache]]).
 */
class TFImageTransformer(override val uid: String)
  extends Transformer with TFImageTransformerParams with MLWritable {

  def this() = this(Identifiable.randomUID("TFImageTransformer"))

  def setInputTensor(value: String): this.type = set(inputTensor, value)
  def setOutputTensor(value: String): this.type = set(outputTensor, value)
  def setChannelOrder(value: String): this.type = set(channelOrder, value)

  /** The model's input as the graph declares it; checked on the driver, from the GraphDef. */
  private def inputSpec: ImageInputSpec =
    ImageInput.spec(getModel, getInputTensor, getOutputTensor, $(channelOrder))

  /** `image`: the output tensor's static shape from the model, so checked on the driver. */
  private def outputFormat: OutputFormat =
    if ($(outputMode) == "image") {
      val spec = inputSpec
      OutputFormat.ImageOutput.forTensor(getModel.outputInfo(getOutputTensor), spec.channelOrder, spec.channelsFirst)
    } else OutputFormat.forMode($(outputMode))

  override def transformSchema(schema: StructType): StructType = {
    val out = StageSchema.required(this, outputCol)
    val result = StageSchema.validateAndTransformSchema(schema, Seq(StageSchema.imageInput($(inputCol))),
      Seq(out -> outputFormat.dataType))
    inputSpec
    result
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    val model = getModel
    BatchTransform(dataset.toDF(), "TFImageTransformer", s"model-${model.hash.take(12)}", model,
      Seq(ImageInput($(inputCol), getInputTensor, inputSpec, imageDecoding)),
      Seq(BatchOutput(getOutputTensor, outputFormat)), Seq($(outputCol)), $(batchSize),
      $(handleInvalid), BatchTransform.InvalidImageHint)
  }

  override def copy(extra: ParamMap): TFImageTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object TFImageTransformer extends MLReadable[TFImageTransformer] {

  override def read: MLReader[TFImageTransformer] =
    new GraphStageReader(classOf[TFImageTransformer].getName, new TFImageTransformer(_))

  override def load(path: String): TFImageTransformer = super.load(path)
}
