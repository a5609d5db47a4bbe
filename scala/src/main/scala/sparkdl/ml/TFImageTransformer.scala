package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.{StructField, StructType}

import sparkdl.image.{ImageFields, ImageInputSpec}
import sparkdl.tf.FrozenGraph

/** Params of [[TFImageTransformer]]. */
trait TFImageTransformerParams extends HasFrozenGraph with ImageBatchParams {

  final val inputCol: Param[String] = new Param[String](this, "inputCol",
    "input column of Spark image structs. Default: image")

  final val outputCol: Param[String] = new Param[String](this, "outputCol", "output column name")

  final val inputTensor: Param[String] = new Param[String](this, "inputTensor",
    "name of the graph's image placeholder, shape [batch, height, width, channels]. Default: the graph's first input")

  final val outputTensor: Param[String] = new Param[String](this, "outputTensor",
    "name of the graph tensor to output, first dimension the batch. Default: the graph's first output")

  final val channelOrder: Param[String] = new Param[String](this, "channelOrder",
    "channel order the graph expects: RGB, BGR, or L for 1-channel graphs. Default: RGB",
    ParamValidators.inArray(ImageInputSpec.ChannelOrders.toArray))

  final val outputMode: Param[String] = new Param[String](this, "outputMode",
    "output column type: vector (MLlib DenseVector) or array (array<float>). Default: vector",
    ParamValidators.inArray(Array("vector", "array")))

  setDefault(inputCol -> "image", channelOrder -> "RGB", outputMode -> "vector")

  def getInputCol: String = $(inputCol)
  def getOutputCol: String = $(outputCol)
  def getInputTensor: String = get(inputTensor).orElse(get(graph).flatMap(_.inputs.headOption)).getOrElse("input:0")
  def getOutputTensor: String = get(outputTensor).orElse(get(graph).flatMap(_.outputs.headOption)).getOrElse("output:0")
  def getChannelOrder: String = $(channelOrder)
  def getOutputMode: String = $(outputMode)
}

/**
 * Applies a frozen TensorFlow graph to a column of images. Each image is resized
 * bilinearly (as `tf.image.resize`) to the graph's input size, put in the graph's
 * channel order as float values 0-255, and fed in batches; the output tensor's row
 * for each image becomes the output column (MLlib Vector or array<float>).
 *
 * The graph travels to executors once per transform (broadcast) and is loaded once
 * per executor JVM ([[SessionCache]]).
 */
class TFImageTransformer(override val uid: String)
  extends Transformer with TFImageTransformerParams with MLWritable {

  def this() = this(Identifiable.randomUID("TFImageTransformer"))

  def setInputCol(value: String): this.type = set(inputCol, value)
  def setOutputCol(value: String): this.type = set(outputCol, value)
  def setInputTensor(value: String): this.type = set(inputTensor, value)
  def setOutputTensor(value: String): this.type = set(outputTensor, value)
  def setChannelOrder(value: String): this.type = set(channelOrder, value)
  def setOutputMode(value: String): this.type = set(outputMode, value)

  /** The model's input as the graph declares it; checked on the driver. */
  private[ml] def inputSpec: ImageInputSpec = {
    if (!isDefined(graph)) throw new IllegalArgumentException(s"$uid: param 'graph' is not set")
    ImageGraphs.inputSpec($(graph), getInputTensor, getOutputTensor, $(channelOrder))
  }

  override def transformSchema(schema: StructType): StructType = {
    val in = $(inputCol)
    if (!isDefined(outputCol)) throw new IllegalArgumentException(s"$uid: param 'outputCol' is not set")
    val out = $(outputCol)
    val field = schema.fields.find(_.name == in).getOrElse(throw new IllegalArgumentException(
      s"Input column '$in' does not exist. Available columns: ${schema.fieldNames.mkString(", ")}"))
    if (!ImageFields.isImageStruct(field.dataType)) {
      throw new IllegalArgumentException(
        s"Input column '$in' must be an image struct ${ImageFields.schema.simpleString} " +
          s"but is ${field.dataType.simpleString}")
    }
    if (schema.fieldNames.contains(out)) {
      throw new IllegalArgumentException(s"Output column '$out' already exists")
    }
    inputSpec
    StructType(schema.fields :+ StructField(out, OutputFormat.forMode($(outputMode)).dataType, nullable = true))
  }

  override def transform(dataset: Dataset[_]): DataFrame = {
    val outSchema = transformSchema(dataset.schema, logging = true)
    val df = dataset.toDF()
    val spark = df.sparkSession
    val run = ImageBatchInference(
      graph = spark.sparkContext.broadcast($(graph)),
      inputTensor = getInputTensor,
      outputTensor = getOutputTensor,
      spec = inputSpec,
      imageIndex = df.schema.fieldIndex($(inputCol)),
      inputCol = $(inputCol),
      output = OutputFormat.forMode($(outputMode)),
      batchSize = $(batchSize),
      handleInvalid = $(handleInvalid))
    spark.createDataFrame(df.rdd.mapPartitions(run.apply), outSchema)
  }

  override def copy(extra: ParamMap): TFImageTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object TFImageTransformer extends MLReadable[TFImageTransformer] {

  override def read: MLReader[TFImageTransformer] =
    new GraphStageReader(classOf[TFImageTransformer].getName, new TFImageTransformer(_))

  override def load(path: String): TFImageTransformer = super.load(path)
}
