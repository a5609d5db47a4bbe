package sparkdl.ml

import org.apache.spark.ml.param._

import sparkdl.image.{ImageDecoder, ImageDecoding}
import sparkdl.inference.{Model, OutputFormat}
import sparkdl.onnx.{OnnxFiles, OnnxModel}
import sparkdl.tf.{FrozenGraph, GraphFiles}

// One trait per param shared by several stages (Spark's `sharedParams` shape), each with its
// getter and setter; stage-specific defaults are set by the stage. Python's
// `sparkdl.ml._shared` mirrors them name for name.

/** The input column. */
trait HasInputCol extends Params {
  final val inputCol: Param[String] = new Param[String](this, "inputCol", "input column name")
  final def getInputCol: String = $(inputCol)
  def setInputCol(value: String): this.type = set(inputCol, value)
}

/** The output column: no default, it must be set. */
trait HasOutputCol extends Params {
  final val outputCol: Param[String] = new Param[String](this, "outputCol", "output column name")
  final def getOutputCol: String = $(outputCol)
  def setOutputCol(value: String): this.type = set(outputCol, value)
}

/** Rows per model run; memory per task is bounded by one batch. */
trait HasBatchSize extends Params {
  final val batchSize: IntParam = new IntParam(this, "batchSize",
    "rows fed to the model per run; memory per task is bounded by one batch. 0 (the default): " +
      "auto, the fastest size measured on the first batches, per model and executor JVM",
    ParamValidators.gtEq(0))
  setDefault(batchSize -> 0)
  final def getBatchSize: Int = $(batchSize)
  def setBatchSize(value: Int): this.type = set(batchSize, value)
}

/**
 * What to do with an input the model cannot take (an image without pixels or with unsupported
 * channels, a wrong number of values): error (fail), keep (null output) or skip (drop the row).
 * Null inputs give null, or are dropped by skip.
 */
trait HasHandleInvalid extends Params {
  final val handleInvalid: Param[String] = new Param[String](this, "handleInvalid",
    "what to do with an input the model cannot take (an image without pixels or with " +
      "unsupported channels, a wrong number of values): error (fail), keep (null output) " +
      "or skip (drop the row). Null inputs give null, or are dropped by skip. Default: error",
    ParamValidators.inArray(Array("error", "keep", "skip")))
  setDefault(handleInvalid -> "error")
  final def getHandleInvalid: String = $(handleInvalid)
  def setHandleInvalid(value: String): this.type = set(handleInvalid, value)
}

/**
 * Output column type: an MLlib DenseVector or array<float> (and for some stages more,
 * [[outputModes]]).
 */
trait HasOutputMode extends Params {

  /** The values `outputMode` takes for this stage. */
  protected def outputModes: Seq[String] = OutputFormat.Modes.keys.toSeq.sorted

  final val outputMode: Param[String] = new Param[String](this, "outputMode",
    "output column type: vector (MLlib DenseVector) or array " +
      "(array<float>); the image model stages also take image (an image " +
      "struct of float32 pixels, for image outputs). Default: vector",
    (value: String) => outputModes.contains(value))
  setDefault(outputMode -> "vector")
  final def getOutputMode: String = $(outputMode)
  def setOutputMode(value: String): this.type = set(outputMode, value)
}

/** Encoded image input (bytes): images declaring more pixels are not decoded. */
trait HasMaxPixels extends Params {
  final val maxPixels: LongParam = new LongParam(this, "maxPixels",
    "for an input column of encoded image bytes: images declaring more pixels are not decoded " +
      "(a row the model cannot take: handleInvalid). Default: 100000000", ParamValidators.gt(0))
  setDefault(maxPixels -> ImageDecoder.DefaultMaxPixels)
  final def getMaxPixels: Long = $(maxPixels)
  def setMaxPixels(value: Long): this.type = set(maxPixels, value)
}

/** Encoded image input (bytes): JPEGs turned upright as their EXIF orientation says. */
trait HasApplyExifOrientation extends Params {
  final val applyExifOrientation: BooleanParam = new BooleanParam(this, "applyExifOrientation",
    "for an input column of encoded image bytes: turn JPEGs upright as " +
      "their EXIF orientation says (as readImages' option). Default: " +
      "false, the pixels as stored, as Keras and Pillow load them")
  setDefault(applyExifOrientation -> false)
  final def getApplyExifOrientation: Boolean = $(applyExifOrientation)
  def setApplyExifOrientation(value: Boolean): this.type = set(applyExifOrientation, value)
}

/** Encoded image input (bytes): JPEGs decoded at a DCT scale near the model's input size. */
trait HasDraftDecode extends Params {
  final val draftDecode: BooleanParam = new BooleanParam(this, "draftDecode",
    "for an input column of encoded image bytes: decode each JPEG at the smallest " +
      "DCT scale (1/2, 1/4, 1/8) that keeps it at least the model's input size, as " +
      "readImages' draftSize: faster, not equal to the exact decode. Default: false")
  setDefault(draftDecode -> false)
  final def getDraftDecode: Boolean = $(draftDecode)
  def setDraftDecode(value: Boolean): this.type = set(draftDecode, value)
}

/** How an image stage decodes an input column of encoded bytes ([[sparkdl.image.ImageInput]]). */
trait ImageDecodingParams extends HasMaxPixels with HasApplyExifOrientation with HasDraftDecode {
  def imageDecoding: ImageDecoding =
    ImageDecoding(maxPixels = $(maxPixels), applyExifOrientation = $(applyExifOrientation),
      draft = $(draftDecode))
}

/** The Keras model file a stage's graph was frozen from (read and frozen by Python). */
trait HasModelFile extends Params {
  final val modelFile: Param[String] = new Param[String](this, "modelFile",
    "the Keras model file (.keras or .h5) the graph was frozen from (read from Python)")
  final def getModelFile: String = $(modelFile)
  def setModelFile(value: String): this.type = set(modelFile, value)
}

/**
 * A frozen graph, given as an object (`graph`) or as a file (`graphPath`: what Spark Connect
 * clients send, since an object cannot travel as a param). Persisted beside the stage's metadata as
 * `graph.pb` ([[GraphStageWriter]]).
 */
trait HasFrozenGraph extends Params {
  final val graph: Param[FrozenGraph] = new Param[FrozenGraph](this, "graph",
    "frozen TensorFlow graph (GraphDef bytes with its input and output tensor names); no default") {
    override def jsonEncode(value: FrozenGraph): String =
      throw new UnsupportedOperationException("graph is persisted as a separate file, not as JSON")
  }
  final val graphPath: Param[String] = new Param[String](this, "graphPath",
    "model file used when graph is not set: a frozen graph (graph.pb with graph.json, its " +
      "tensor names, beside it), or for TFImageTransformer an ONNX model (.onnx), named as a " +
      "Spark Connect artifact of the session or as a path on any Hadoop file system; no default")

  /** True when the stage has a graph, as `graph` or as `graphPath`. */
  final def hasGraph: Boolean = isDefined(graph) || isDefined(graphPath)

  /** The graph this stage runs: `graph`, else the file at `graphPath`. */
  final def getGraph: FrozenGraph = getModel match {
    case g: FrozenGraph => g
    case other => throw new IllegalArgumentException(
        s"$uid runs TensorFlow graphs; graphPath '${$(graphPath)}' " +
          s"is an ONNX model ($other): use ONNXTransformer")
  }

  /**
   * The model this stage runs: `graph`, else the file at `graphPath`: an ONNX model when its name
   * ends in `.onnx` (run by ONNX Runtime), a frozen graph otherwise.
   */
  final def getModel: Model = get(graph).orElse(get(graphPath).map(ModelFile.load))
    .getOrElse(throw new IllegalArgumentException(
        s"$uid: param 'graph' is not set (nor graphPath, a model file)"))
  final def getGraphPath: String = $(graphPath)
  def setGraph(value: FrozenGraph): this.type = set(graph, value)
  def setGraphPath(value: String): this.type = set(graphPath, value)
}

/**
 * A model file, of either engine: the engine is read from the file ([[ModelFile.load]]). Persisted
 * beside the stage's metadata ([[ModelPathPersistence]]).
 */
trait HasModelPath extends Params {
  final val modelPath: Param[String] = new Param[String](this, "modelPath",
    "the model file: an ONNX model (.onnx, run by ONNX Runtime) or, except for ONNXTransformer, " +
      "a frozen TensorFlow graph (graph.pb, its tensor names in graph.json beside it), a path on " +
      "any Hadoop file system or a Spark Connect artifact name; saved with the stage; no default")
  final def getModelPath: String = $(modelPath)
  def setModelPath(value: String): this.type = set(modelPath, value)

  /** The model at `modelPath`, read once per JVM while its file is unchanged. */
  def getModel: Model = ModelFile.load(StageSchema.required(this, modelPath))

  /** The model as saving needs it: the file's content, without loading it into an engine. */
  private[ml] def modelToSave: Model = ModelFile.read(StageSchema.required(this, modelPath))
}

/** Model files of either engine. */
object ModelFile {

  /**
   * The model at `path` (or Spark Connect artifact name): ONNX when its name ends in `.onnx`, else
   * a frozen graph.
   */
  def load(path: String): Model =
    if (OnnxFiles.isOnnx(path)) OnnxFiles.model(path) else GraphFiles.load(path)

  /**
   * [[load]] without opening an engine session: an ONNX model's bytes, its inputs and outputs not
   * read.
   */
  def read(path: String): Model =
    if (OnnxFiles.isOnnx(path)) new OnnxModel(OnnxFiles.read(path), Nil, Nil, path)
    else GraphFiles.load(path)
}
