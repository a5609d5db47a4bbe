package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.image.{ImageInput, ImageInputSpec}
import sparkdl.inference.{BatchOutput, Model, OutputFormat}

/**
 * Params of the stages that apply one model to a column of images, whatever gives them the model.
 */
trait ImageModelParams extends HasInputCol with HasOutputCol with HasOutputMode with HasBatchSize
  with HasHandleInvalid with ImageDecodingParams {

  final val inputTensor: Param[String] = new Param[String](this, "inputTensor",
    "name of the model's image input, shape [batch, height, width, channels] " +
      "(or [batch, channels, height, width]). Default: the model's first input")

  final val outputTensor: Param[String] = new Param[String](this, "outputTensor",
    "name of the model output to fetch, first dimension " +
      "the batch. Default: the model's first output")

  final val channelOrder: Param[String] = new Param[String](this, "channelOrder",
    "channel order the model expects: RGB, BGR, or L for 1-channel models. Default: RGB",
    ParamValidators.inArray(ImageInputSpec.ChannelOrders.toArray))

  setDefault(inputCol -> "image", channelOrder -> "RGB")

  override protected def outputModes: Seq[String] = super.outputModes :+ "image"

  /** The model the stage runs. */
  def getModel: Model

  /** Whether the stage has its model yet (the tensor names default to the model's first). */
  protected def hasModel: Boolean

  def getInputTensor: String =
    get(inputTensor).orElse(givenModel.flatMap(_.inputs.headOption)).getOrElse("input:0")
  def getOutputTensor: String =
    get(outputTensor).orElse(givenModel.flatMap(_.outputs.headOption)).getOrElse("output:0")

  private def givenModel: Option[Model] = if (hasModel) Some(getModel) else None
  def getChannelOrder: String = $(channelOrder)
}

/**
 * Applies one model to a column of images: Spark image structs, or encoded files (`binary`, or
 * `struct<bytes, path>`) decoded in the batch loop ([[sparkdl.image.ImageInput]]). Each image is
 * resized bilinearly (as `tf.image.resize`) to the model's input size, put in the model's channel
 * order as float values 0-255 (laid out `[h, w, c]`, or `[c, h, w]` for a model whose input is
 * channels first, as PyTorch exports are), and fed in batches; the output tensor's row for each
 * image becomes the output column (MLlib Vector or array<float>; with `outputMode` "image", for a
 * model whose output is an image, an image struct of float32 pixels:
 * [[sparkdl.inference.OutputFormat.ImageOutput]]). The model travels to executors once per
 * transform (broadcast) and is loaded once per executor JVM ([[sparkdl.inference.SessionCache]]).
 */
abstract class ImageModelStage(override val uid: String) extends Transformer with ImageModelParams
  with MLWritable {

  def setInputTensor(value: String): this.type = set(inputTensor, value)
  def setOutputTensor(value: String): this.type = set(outputTensor, value)
  def setChannelOrder(value: String): this.type = set(channelOrder, value)

  /** The model's input as the model declares it; checked on the driver. */
  private def inputSpec: ImageInputSpec =
    ImageInput.spec(getModel, getInputTensor, getOutputTensor, $(channelOrder))

  /** `image`: the output tensor's static shape from the model, so checked on the driver. */
  private def outputFormat: OutputFormat =
    if ($(outputMode) == "image") {
      val spec = inputSpec
      OutputFormat.ImageOutput.forTensor(
        getModel.outputInfo(getOutputTensor), spec.channelOrder, spec.channelsFirst)
    } else OutputFormat.forMode($(outputMode))

  override def transformSchema(schema: StructType): StructType = {
    val out = StageSchema.required(this, outputCol)
    val result =
      StageSchema.validateAndTransformSchema(schema, Seq(StageSchema.imageInput($(inputCol))),
        Seq(out -> outputFormat.dataType))
    inputSpec
    result
  }

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      transformSchema(dataset.schema, logging = true)
      val model = getModel
      BatchTransform(dataset.toDF(), getClass.getSimpleName, s"model-${model.hash.take(12)}", model,
        Seq(ImageInput($(inputCol), getInputTensor, inputSpec, imageDecoding)),
        Seq(BatchOutput(getOutputTensor, outputFormat)), Seq($(outputCol)), $(batchSize),
        $(handleInvalid), BatchTransform.InvalidImageHint)
    }
}

/**
 * Applies a model file of either engine to a column of images, the engine read from the file
 * (`modelPath`: an ONNX model run by ONNX Runtime, or a frozen TensorFlow graph), as
 * [[ImageModelStage]] describes. [[TFImageTransformer]] is the same stage taking a graph object.
 *
 * {{{
 * new ImageModelTransformer().setModelPath("/models/resnet.onnx").setOutputCol("scores")
 * }}}
 */
class ImageModelTransformer(uid: String) extends ImageModelStage(uid) with HasModelPath {

  def this() = this(Identifiable.randomUID("ImageModelTransformer"))

  override protected def hasModel: Boolean = isDefined(modelPath)

  override def copy(extra: ParamMap): ImageModelTransformer = defaultCopy(extra)

  override def write: MLWriter = ModelPathPersistence.writer(this)
}

object ImageModelTransformer extends MLReadable[ImageModelTransformer] {

  override def read: MLReader[ImageModelTransformer] =
    ModelPathPersistence.reader(
      classOf[ImageModelTransformer].getName, new ImageModelTransformer(_))

  override def load(path: String): ImageModelTransformer = super.load(path)
}
