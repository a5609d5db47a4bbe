package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.functions.array_to_vector
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset, Row}
import org.apache.spark.sql.api.java.UDF1
import org.apache.spark.sql.functions.{col, udf}
import org.apache.spark.sql.types.{StringType, StructField, StructType}

import sparkdl.image.{ImageDecoder, ImageFields, ImageReader, SerializableHadoopConf}
import sparkdl.tf.FrozenGraph

/**
 * A Keras image model applied to a column of image URIs. The model (frozen from
 * `modelFile` on the Python side) always runs here, in the JVM. How files become model
 * inputs:
 *  - from Python with an `imageLoader` (a user function URI -> array of the model's input
 *    shape), the loader runs in Python workers and its arrays feed the graph
 *    ([[transformLoaded]]);
 *  - otherwise the JVM reads and decodes each file and resizes it bilinearly to the
 *    model's input, RGB float pixels 0-255 (what Keras users feed); unreadable files give
 *    null outputs.
 */
class KerasImageFileTransformer(override val uid: String) extends Transformer with HasFrozenGraph with MLWritable {

  def this() = this(Identifiable.randomUID("KerasImageFileTransformer"))

  final val inputCol: Param[String] = new Param[String](this, "inputCol", "input column of image URIs")
  final val outputCol: Param[String] = new Param[String](this, "outputCol", "output column")
  final val modelFile: Param[String] = new Param[String](this, "modelFile",
    "the Keras model file the graph was frozen from (read from Python)")
  final val outputMode: Param[String] = new Param[String](this, "outputMode",
    "output column type: vector or array (array<float>). Default: vector",
    ParamValidators.inArray(Array("vector", "array")))
  final val imageLoaderPickle: Param[String] = new Param[String](this, "imageLoaderPickle",
    "the Python imageLoader, pickled and base64-encoded (used from Python only)")
  final val batchSize: IntParam = new IntParam(this, "batchSize",
    "rows fed to TensorFlow per run. Default: 32", ParamValidators.gtEq(1))
  setDefault(outputMode -> "vector", batchSize -> 32)

  def getInputCol: String = $(inputCol)
  def getOutputCol: String = $(outputCol)
  def getModelFile: String = $(modelFile)
  def getOutputMode: String = $(outputMode)
  def getBatchSize: Int = $(batchSize)

  def setInputCol(value: String): this.type = set(inputCol, value)
  def setOutputCol(value: String): this.type = set(outputCol, value)
  def setModelFile(value: String): this.type = set(modelFile, value)
  def setOutputMode(value: String): this.type = set(outputMode, value)
  def setImageLoaderPickle(value: String): this.type = set(imageLoaderPickle, value)
  def setBatchSize(value: Int): this.type = set(batchSize, value)

  private def checkModel(): FrozenGraph = {
    if (!isDefined(graph)) {
      throw new IllegalArgumentException(s"$uid: no model: set modelFile from Python (the file is frozen there)")
    }
    $(graph)
  }

  override def transformSchema(schema: StructType): StructType = {
    val in = $(inputCol)
    val field = schema.fields.find(_.name == in).getOrElse(throw new IllegalArgumentException(
      s"Input column '$in' does not exist. Available columns: ${schema.fieldNames.mkString(", ")}"))
    if (field.dataType != StringType) {
      throw new IllegalArgumentException(
        s"Input column '$in' must hold image URIs (string) but is ${field.dataType.simpleString}")
    }
    if (schema.fieldNames.contains($(outputCol))) {
      throw new IllegalArgumentException(s"Output column '${$(outputCol)}' already exists")
    }
    val g = checkModel()
    ImageGraphs.inputSpec(g, g.inputs.head, g.outputs.head, "RGB")
    StructType(schema.fields :+ StructField($(outputCol), OutputFormat.forMode($(outputMode)).dataType, nullable = true))
  }

  /** JVM loading: read, decode, resize (RGB, 0-255); then the graph. */
  override def transform(dataset: Dataset[_]): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    val g = checkModel()
    val tmp = s"__${uid}_image"
    val sc = dataset.sparkSession.sparkContext
    val conf = sc.broadcast(new SerializableHadoopConf(sc.hadoopConfiguration))
    val read = udf(new UDF1[String, Row] {
      override def call(uri: String): Row =
        if (uri == null) null else ImageReader.readImage(uri, conf.value.value, ImageDecoder.DefaultMaxPixels) match {
        case Right(img) => ImageFields.row(uri, img.height, img.width, img.nChannels, img.data)
        case Left(_) => null
      }
    }, ImageFields.schema)
    val images = dataset.toDF().withColumn(tmp, read(col($(inputCol))))
    new TFImageTransformer(uid).setGraph(g).setInputCol(tmp).setOutputCol($(outputCol))
      .setOutputMode($(outputMode)).setBatchSize($(batchSize)).setHandleInvalid("keep")
      .transform(images).drop(tmp)
  }

  /** Python loading: `loadedCol` holds the loader's arrays (the model's input, flattened). */
  def transformLoaded(dataset: Dataset[_], loadedCol: String): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    val g = checkModel()
    val tmp = s"__${uid}_out"
    val out = new TFTransformer(uid).setGraph(g).setBatchSize($(batchSize))
      .setInputMapping(Seq(loadedCol -> g.inputs.head)).setOutputMapping(Seq(g.outputs.head -> tmp))
      .transform(dataset)
    val cell = if ($(outputMode) == "vector") array_to_vector(col(tmp)) else col(tmp)
    out.withColumn($(outputCol), cell).drop(tmp, loadedCol)
  }

  override def copy(extra: ParamMap): KerasImageFileTransformer = defaultCopy(extra)

  override def write: MLWriter = new GraphStageWriter(this)
}

object KerasImageFileTransformer extends MLReadable[KerasImageFileTransformer] {
  override def read: MLReader[KerasImageFileTransformer] =
    new GraphStageReader(classOf[KerasImageFileTransformer].getName, new KerasImageFileTransformer(_))
  override def load(path: String): KerasImageFileTransformer = super.load(path)
}
