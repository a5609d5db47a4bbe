package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.functions.array_to_vector
import org.apache.spark.ml.param._
import org.apache.spark.ml.util._
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.api.java.UDF1
import org.apache.spark.sql.functions.{col, udf}
import org.apache.spark.sql.types.{ArrayType, BinaryType, NumericType, StringType, StructType}

import sparkdl.image.{ImageDecoder, ImageFields, ImageInput, ImageReader}
import sparkdl.inference.OutputFormat
import sparkdl.io.SerializableHadoopConf

/**
 * A Keras image model applied to a column of image URIs, or of encoded image files (`binary`, or
 * `struct<bytes, path>` as a Hugging Face dataset stores them). The model (frozen from `modelFile`
 * on the Python side) always runs here, in the JVM. How files become model inputs:
 *   - from Python with an `imageLoader` (a user function URI -> array of the model's input shape),
 *     the loader runs in Python workers and its arrays, in the column `loadedCol`, feed the graph;
 *     such a stage runs from Python only (Scala refuses it rather than decode differently);
 *   - otherwise the JVM reads each file (or takes the column's bytes), decodes it in the model's
 *     batch loop and resizes it bilinearly to the model's input, RGB float pixels 0-255 (what Keras
 *     users feed); unreadable files give null outputs.
 */
class KerasImageFileTransformer(override val uid: String)
  extends Transformer with HasFrozenGraph with HasInputCol with HasOutputCol with HasModelFile
  with HasOutputMode with HasBatchSize with MLWritable {

  def this() = this(Identifiable.randomUID("KerasImageFileTransformer"))

  final val imageLoaderPickle: Param[String] = new Param[String](this, "imageLoaderPickle",
    "the Python imageLoader, pickled and base64-encoded (used from Python only)")
  final val loadedCol: Param[String] = new Param[String](this, "loadedCol",
    "column of images already loaded (each the model's input, flattened, " +
      "e.g. by a Python imageLoader): when set, it feeds the graph " +
      "instead of the files of inputCol, and is dropped from the output")

  def setImageLoaderPickle(value: String): this.type = set(imageLoaderPickle, value)
  final def getLoadedCol: String = $(loadedCol)
  def setLoadedCol(value: String): this.type = set(loadedCol, value)

  override def transformSchema(schema: StructType): StructType = {
    val input =
      if (isDefined(loadedCol)) {
        StageSchema.InputCheck($(loadedCol), "must hold the loaded images (array<float>)",
          { case ArrayType(_: NumericType, _) => true; case _ => false })
      } else {
        StageSchema.InputCheck($(inputCol),
          "must hold image URIs (string), encoded image bytes " +
            s"(binary) or ${ImageFields.EncodedSchema.simpleString}",
          dt => dt == StringType || ImageFields.isEncodedLike(dt))
      }
    val result = StageSchema.validateAndTransformSchema(schema, Seq(input),
      Seq($(outputCol) -> OutputFormat.forMode($(outputMode)).dataType))
    val g = KerasTransformer.frozenModel(this)
    if (isDefined(loadedCol)) g.checkOutput(g.outputs.head)
    else ImageInput.spec(g, g.inputs.head, g.outputs.head, "RGB")
    StructType(result.fields.filterNot(f => isDefined(loadedCol) && f.name == $(loadedCol)))
  }

  /**
   * JVM loading: read, decode, resize (RGB, 0-255); then the graph. With `loadedCol`: the graph
   * only.
   */
  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      if (isDefined(loadedCol)) transformLoaded(dataset, $(loadedCol)) else transformFiles(dataset)
    }

  private def transformFiles(dataset: Dataset[_]): DataFrame = {
    if (isDefined(imageLoaderPickle)) {
      throw new UnsupportedOperationException(
        s"$uid was saved with a Python imageLoader, which only Python can run: " +
          "load and apply it with sparkdl.ml.KerasImageFileTransformer.load(path) " +
          "in PySpark. (A stage without imageLoader decodes in the JVM.)")
    }
    transformSchema(dataset.schema, logging = true)
    val df = dataset.toDF()
    def score(images: DataFrame, column: String): DataFrame =
      new TFImageTransformer(uid).setGraph(getGraph).setInputCol(column).setOutputCol($(outputCol))
        .setOutputMode($(outputMode)).setBatchSize($(batchSize)).setHandleInvalid("keep")
        .transform(images)
    if (df.schema($(inputCol)).dataType != StringType)
      score(df, $(inputCol)) // encoded files already
    else {
      // the files' bytes, decoded by the model's batch
      // loop (no full-size image row); unreadable: null
      val tmp = s"__${uid}_file"
      val sc = dataset.sparkSession.sparkContext
      val conf = sc.broadcast(new SerializableHadoopConf(sc.hadoopConfiguration))
      val read = udf(new UDF1[String, Array[Byte]] {
          override def call(uri: String): Array[Byte] =
            if (uri == null) null
            else ImageReader.readFile(
              uri, conf.value.value, ImageDecoder.DefaultMaxPixels).toOption.orNull
        }, BinaryType)
      score(df.withColumn(tmp, read(col($(inputCol)))), tmp).drop(tmp)
    }
  }

  /** Python loading: `loadedCol` holds the loader's arrays (the model's input, flattened). */
  private def transformLoaded(dataset: Dataset[_], loadedCol: String): DataFrame = {
    transformSchema(dataset.schema, logging = true)
    val g = getGraph
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
    new GraphStageReader(
      classOf[KerasImageFileTransformer].getName, new KerasImageFileTransformer(_))
  override def load(path: String): KerasImageFileTransformer = super.load(path)
}
