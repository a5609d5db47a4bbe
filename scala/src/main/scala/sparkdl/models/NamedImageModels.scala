package sparkdl.models

import org.apache.hadoop.fs.Path
import org.apache.spark.sql.SparkSession
import org.json4s.{DefaultFormats, Formats}

import sparkdl.inference.{EngineChoice, Engines, Model}
import sparkdl.io.{FileCache, ModelFiles}
import sparkdl.models.ExportFolder.{Files, Key, Kind}
import sparkdl.onnx.OnnxModel
import sparkdl.tf.FrozenGraph

/**
 * A named model as exported by `python -m sparkdl.models export`: one frozen graph taking RGB
 * pixels 0-255 (`inputTensor`, Keras preprocessing inside) with two outputs, the featurizer cut and
 * the 1000 ImageNet probabilities; where its conversion held to Keras' outputs, the same model as
 * ONNX for ONNX Runtime, with the same tensor names; and, when an export asked for it, that ONNX
 * form computed in int8 (`model.int8.onnx`, Python's `sparkdl.models.image_int8`).
 */
final case class ExportedModel(
    modelName: String,
    height: Int,
    width: Int,
    inputTensor: String,
    featuresTensor: String,
    predictionsTensor: String,
    graph: FrozenGraph,
    onnxForm: Either[String, () => OnnxModel],
    int8Form: Either[String, () => OnnxModel]) {

  /**
   * The ONNX form (`model.onnx`, the same tensors, checked equal to Keras at export), read on first
   * use; or why the export has none.
   */
  lazy val onnx: Either[String, OnnxModel] = onnxForm.map(_())

  /** The int8 form (read on first use), or why the export has none. */
  lazy val int8: Either[String, OnnxModel] = int8Form.map(_())

  /**
   * The model `engine` runs ([[Engines.Values]]): the frozen graph (`tf`), the ONNX form (`onnx`),
   * or with `auto` both, the faster measured per JVM ([[EngineChoice]]; the graph alone when the
   * export has no ONNX form).
   */
  def forEngine(engine: String): Model = engine match {
    case Engines.TensorFlow => graph
    case Engines.Onnx => onnx.fold(why =>
          throw new IllegalArgumentException(
            s"engine 'onnx': the export of $modelName has no ONNX form ($why). Use engine " +
              s"'tf' or 'auto', or export the model again with a sparkdl that writes one."),
        identity)
    case _ => onnx.fold[Model](_ => graph, o => new EngineChoice(Seq(graph, o)))
  }

  /**
   * The model `engine` runs in `precision` ([[NamedImageModels.Precisions]]): `fp32` as
   * [[forEngine]]; `int8` the int8 form, on ONNX Runtime (engine `onnx` or `auto`).
   */
  def forEngine(engine: String, precision: String): Model = precision match {
    case NamedImageModels.Fp32 => forEngine(engine)
    case NamedImageModels.Int8 =>
      if (engine == Engines.TensorFlow) {
        throw new IllegalArgumentException(
          s"precision 'int8' runs $modelName's int8 form on ONNX Runtime, not engine 'tf': set " +
            "engine to 'onnx' or 'auto' (or precision to 'fp32').")
      }
      int8.fold(why =>
          throw new IllegalArgumentException(
            s"precision 'int8': the export of $modelName has no int8 form ($why). From Python a " +
              "stage with precision='int8' adds it to its cached export; else write one with " +
              s"`python -m sparkdl.models export --model $modelName --precision int8 --out DIR`."),
        identity)
    case other => throw new IllegalArgumentException(
        s"precision must be one of ${NamedImageModels.Precisions.mkString(", ")}, got '$other'")
  }
}

/** The model names sparkdl knows, and loading their exports from a `modelDir`. */
object NamedImageModels {

  /** Same list, same order, as Python's `sparkdl.models.registry.MODELS`. */
  val names: Seq[String] =
    Seq("InceptionV3", "Xception", "ResNet50", "VGG16", "VGG19", "MobileNetV2",
      "EfficientNetB0", "EfficientNetLite0")

  /** What a named image model computes in: float32, or its int8 form (Python's `PRECISIONS`). */
  val Fp32 = "fp32"
  val Int8 = "int8"
  val Precisions: Seq[String] = Seq(Fp32, Int8)

  def checkName(name: String): Unit =
    if (!names.contains(name)) {
      throw new IllegalArgumentException(
        s"Unknown modelName '$name'${ExportFolder.didYouMean(name, names)}. " +
          s"Valid names: ${names.mkString(", ")}")
    }

  /**
   * The export directory: the stage's `modelDir`, else where [[ExportFolder.resolve]] finds one
   * (the Spark conf, a Spark Connect client's upload, Python's export cache), else an error saying
   * what to do. A directory is a path on any Hadoop file system, or the name of an archive a Spark
   * Connect client uploaded (unpacked where the session reads its artifacts).
   */
  def resolveDir(modelName: String, modelDir: Option[String]): String =
    ExportFolder.resolve(modelName, modelDir, ExportFolder.CacheKey.ImageNet)

  private val loaded = new FileCache[ExportedModel]

  /**
   * The export of `modelName` (a name [[checkName]] accepts), found by [[resolveDir]]: loads
   * `<dir>/<modelName>/{model.json, graph.pb}`; cached per JVM ([[FileCache]]) until model.json
   * changes.
   */
  def load(modelName: String, modelDir: Option[String]): ExportedModel = {
    val dir = resolveDir(modelName, modelDir)
    val spark = SparkSession.active
    val (metaPath, version) = ExportFolder.metadata(dir, modelName, spark)
    val base = metaPath.getParent
    loaded.getOrLoad(metaPath.toString, version)(ExportFolder.readMetadata(metaPath, spark) {
      json =>
        implicit val formats: Formats = DefaultFormats
        def str(f: String) = (json \ f).extract[String]
        def int(f: String) = (json \ f).extract[Int]
        if (str(Key.ModelName) != modelName) {
          throw new IllegalArgumentException(
            s"$metaPath describes ${str(Key.ModelName)}, not $modelName")
        }
        val kind = (json \ Key.Kind).extractOpt[String].getOrElse(Kind.Image)
        if (kind != Kind.Image) {
          throw new IllegalArgumentException(
            s"$metaPath is the export of a $kind model, not of a named image model")
        }
        val graph = FrozenGraph(ModelFiles.read(new Path(base, Files.Graph), spark),
          Seq(str(Key.InputTensor)), Seq(str(Key.FeaturesTensor), str(Key.PredictionsTensor)))
        // a form in ONNX (model.onnx, model.int8.onnx): read on first use; or why there is none
        def form(file: String, digest: String, refused: String, none: String)
            : Either[String, () => OnnxModel] = {
          val path = new Path(base, file)
          (json \ digest).extractOpt[String] match {
            case Some(_) if !sparkdl.io.HadoopFiles.exists(path, spark) =>
              Left(s"$path is missing: copied without it?")
            case Some(_) =>
              Right(() =>
                new OnnxModel(ModelFiles.read(path, spark), graph.inputs, graph.outputs,
                  path.toString))
            case None => Left((json \ refused).extractOpt[String].getOrElse(none))
          }
        }
        val onnxForm = form(Files.Onnx, Key.OnnxSha256, Key.OnnxRefused,
          "exported by a sparkdl that wrote none")
        val int8Form =
          form(Files.Int8Onnx, Key.Int8Sha256, Key.Int8Refused, "not asked for at export")
        ExportedModel(
          modelName, int(Key.Height), int(Key.Width), str(Key.InputTensor), str(Key.FeaturesTensor),
          str(Key.PredictionsTensor), graph, onnxForm, int8Form)
    })
  }
}
