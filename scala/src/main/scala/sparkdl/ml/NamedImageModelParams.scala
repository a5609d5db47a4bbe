package sparkdl.ml

import org.apache.spark.ml.param._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.{DataType, StructType}

import sparkdl.image.{ImageInput, ImageInputSpec}
import sparkdl.inference.{BatchOutput, Engines, OutputFormat}
import sparkdl.models.{ExportFolder, ExportedModel, NamedImageModels}

/** Params shared by [[DeepImageFeaturizer]] and [[DeepImagePredictor]], and how both run. */
trait NamedImageModelParams
  extends HasInputCol with HasOutputCol with HasBatchSize with HasHandleInvalid
  with ImageDecodingParams with ExportedModelParams {

  final val modelName: Param[String] = new Param[String](this, "modelName",
    s"pre-trained model, one of ${NamedImageModels.names.mkString(", ")}; no default. " +
      "Checked by the setter and transformSchema, so the error lists the valid names")

  final val modelDir: Param[String] = new Param[String](this, "modelDir",
    "directory written by `python -m sparkdl.models export` holding " +
      "<modelName>/graph.pb (a loaded stage: the export saved with it). Default: the " +
      s"Spark conf ${ExportFolder.Conf.ModelDir}; from Python, an automatic cached export")

  final val weightsPath: Param[String] = new Param[String](this, "weightsPath",
    "local Keras weights file for the architecture, used when the model is exported " +
      "(from Python). Default: Keras' ImageNet weights")

  final val engine: Param[String] = new Param[String](this, "engine",
    "engine that runs the model: tf (TensorFlow, the export's frozen graph), onnx (ONNX Runtime, " +
      "its ONNX form) or auto (the faster of the two, measured on the first batches in each " +
      "executor JVM together with the batch size; TensorFlow where the export has no ONNX form). " +
      s"Default: the Spark conf ${Engines.Conf}, else auto",
    ParamValidators.inArray(Engines.Values.toArray))

  final val precision: Param[String] = new Param[String](this, "precision",
    "what the model computes in: fp32 (as Keras), or int8 (its int8 form, on ONNX Runtime: " +
      "convolutions and classifier in int8 arithmetic, with the accuracy it costs measured at " +
      "export and kept in model.json; made from Python, once per export). Default: fp32",
    ParamValidators.inArray(NamedImageModels.Precisions.toArray))

  setDefault(inputCol -> "image", precision -> NamedImageModels.Fp32)

  def exportFiles: Seq[String] = Seq(ExportFolder.Files.ModelJson, ExportFolder.Files.Graph)
  override def optionalExportFiles: Seq[String] =
    Seq(ExportFolder.Files.Onnx, ExportFolder.Files.Int8Onnx)
  def exportDir: String = NamedImageModels.resolveDir($(modelName), get(modelDir))
  def getModelDir: String = $(modelDir)
  def getWeightsPath: String = $(weightsPath)

  def setModelName(value: String): this.type = {
    NamedImageModels.checkName(value)
    set(modelName, value)
  }
  def setModelDir(value: String): this.type = set(modelDir, value)
  def setWeightsPath(value: String): this.type = set(weightsPath, value)
  def setEngine(value: String): this.type = set(engine, value)
  def getPrecision: String = $(precision)
  def setPrecision(value: String): this.type = set(precision, value)

  /** The engine set, else the active session's conf [[Engines.Conf]], else `auto`. */
  def getEngine: String = get(engine).getOrElse(Engines.fromConf())

  /**
   * Checks the input column and params on the driver; returns the schema with `outputType`
   * appended.
   */
  protected def validateAndTransformSchema(schema: StructType, outputType: DataType): StructType = {
    if (!isDefined(modelName)) {
      throw new IllegalArgumentException(
        s"$uid: param 'modelName' is not set. Valid " +
          s"names: ${NamedImageModels.names.mkString(", ")}")
    }
    NamedImageModels.checkName($(modelName))
    val out = StageSchema.required(this, outputCol)
    StageSchema.validateAndTransformSchema(
      schema, Seq(StageSchema.imageInput($(inputCol))), Seq(out -> outputType))
  }

  /**
   * Runs the exported graph over `dataset`, fetching `tensor(model)` and formatting it as `format`.
   */
  protected def runExported(dataset: Dataset[_], tensor: ExportedModel => String,
                            format: OutputFormat): DataFrame = {
    val model = NamedImageModels.load($(modelName), get(modelDir))
    val input = ImageInput(
      $(inputCol), model.inputTensor, ImageInputSpec(model.height, model.width, 3, "RGB"),
      imageDecoding)
    val label = if ($(precision) == NamedImageModels.Fp32) $(modelName)
    else s"${$(modelName)} (${$(precision)})"
    BatchTransform(dataset.toDF(), getClass.getSimpleName, label,
      model.forEngine(getEngine, $(precision)),
      Seq(input),
      Seq(BatchOutput(tensor(model), format)), Seq($(outputCol)), $(batchSize), $(handleInvalid),
      BatchTransform.InvalidImageHint)
  }
}
