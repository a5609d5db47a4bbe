package sparkdl.ml

import org.apache.spark.ml.param._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.{StructField, StructType}

import sparkdl.image.{ImageFields, ImageInputSpec}

/** Params shared by [[DeepImageFeaturizer]] and [[DeepImagePredictor]]. */
trait NamedImageModelParams extends ImageBatchParams {

  final val inputCol: Param[String] = new Param[String](this, "inputCol",
    "input column of Spark image structs. Default: image")

  final val outputCol: Param[String] = new Param[String](this, "outputCol", "output column name")

  final val modelName: Param[String] = new Param[String](this, "modelName",
    s"pre-trained model, one of ${NamedImageModels.names.mkString(", ")}; no default. " +
      "Checked by the setter and transformSchema, so the error lists the valid names")

  final val modelDir: Param[String] = new Param[String](this, "modelDir",
    "directory written by `python -m sparkdl.models export` holding <modelName>/graph.pb. " +
      s"Default: the Spark conf ${NamedImageModels.ModelDirConf}; from Python, an automatic cached export")

  final val weightsPath: Param[String] = new Param[String](this, "weightsPath",
    "local Keras weights file for the architecture, used when the model is exported " +
      "(from Python). Default: Keras' ImageNet weights")

  setDefault(inputCol -> "image")

  def getInputCol: String = $(inputCol)
  def getOutputCol: String = $(outputCol)
  def getModelName: String = $(modelName)
  def getModelDir: String = $(modelDir)
  def getWeightsPath: String = $(weightsPath)

  def setInputCol(value: String): this.type = set(inputCol, value)
  def setOutputCol(value: String): this.type = set(outputCol, value)
  def setModelName(value: String): this.type = {
    NamedImageModels.checkName(value)
    set(modelName, value)
  }
  def setModelDir(value: String): this.type = set(modelDir, value)
  def setWeightsPath(value: String): this.type = set(weightsPath, value)

  /** Checks the input column and params on the driver; returns the schema with `outputType` appended. */
  protected def validateAndTransformSchema(schema: StructType, outputType: org.apache.spark.sql.types.DataType): StructType = {
    if (!isDefined(modelName)) {
      throw new IllegalArgumentException(
        s"$uid: param 'modelName' is not set. Valid names: ${NamedImageModels.names.mkString(", ")}")
    }
    NamedImageModels.checkName($(modelName))
    if (!isDefined(outputCol)) throw new IllegalArgumentException(s"$uid: param 'outputCol' is not set")
    val in = $(inputCol)
    val field = schema.fields.find(_.name == in).getOrElse(throw new IllegalArgumentException(
      s"Input column '$in' does not exist. Available columns: ${schema.fieldNames.mkString(", ")}"))
    if (!ImageFields.isImageStruct(field.dataType)) {
      throw new IllegalArgumentException(
        s"Input column '$in' must be an image struct ${ImageFields.schema.simpleString} " +
          s"but is ${field.dataType.simpleString}")
    }
    if (schema.fieldNames.contains($(outputCol))) {
      throw new IllegalArgumentException(s"Output column '${$(outputCol)}' already exists")
    }
    StructType(schema.fields :+ StructField($(outputCol), outputType, nullable = true))
  }

  /** Runs the exported graph over `dataset`, fetching `tensor(model)` and formatting it as `format`. */
  protected def runExported(dataset: Dataset[_], outSchema: StructType, tensor: ExportedModel => String,
                            format: OutputFormat): DataFrame = {
    val df = dataset.toDF()
    val model = exported
    val run = ImageBatchInference(
      graph = df.sparkSession.sparkContext.broadcast(model.graph),
      inputTensor = model.inputTensor,
      outputTensor = tensor(model),
      spec = ImageInputSpec(model.height, model.width, 3, "RGB"),
      imageIndex = df.schema.fieldIndex($(inputCol)),
      inputCol = $(inputCol),
      output = format,
      batchSize = $(batchSize),
      handleInvalid = $(handleInvalid))
    df.sparkSession.createDataFrame(df.rdd.mapPartitions(run.apply), outSchema)
  }

  /** The export this stage runs (driver side). */
  protected def exported: ExportedModel =
    NamedImageModels.load(NamedImageModels.resolveDir($(modelName), get(modelDir)), $(modelName))
}
