package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param.{BooleanParam, IntParam, ParamMap, ParamValidators}
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.inference.OutputFormat
import sparkdl.models.ImageNetLabels

/**
 * Classifies images into the 1000 ImageNet classes with a pre-trained model. Output: an MLlib
 * Vector of the 1000 probabilities, or with `decodePredictions` the `topK` most probable classes,
 * highest first, as `array<struct<class: string, description: string, probability: float>>`
 * (`class` is the WordNet id, e.g. `n02124075`, `description` e.g. `Egyptian cat`).
 */
class DeepImagePredictor(override val uid: String)
  extends Transformer with NamedImageModelParams with MLWritable {

  def this() = this(Identifiable.randomUID("DeepImagePredictor"))

  final val decodePredictions: BooleanParam = new BooleanParam(this, "decodePredictions",
    "output the topK classes with labels instead of the probability vector. Default: false")

  final val topK: IntParam = new IntParam(this, "topK",
    "how many classes decodePredictions keeps. Default: 5", ParamValidators.inRange(1, 1000))

  setDefault(decodePredictions -> false, topK -> 5)

  def getDecodePredictions: Boolean = $(decodePredictions)
  def getTopK: Int = $(topK)

  def setDecodePredictions(value: Boolean): this.type = set(decodePredictions, value)
  def setTopK(value: Int): this.type = set(topK, value)

  private def format: OutputFormat =
    if ($(decodePredictions))
      OutputFormat.TopKOutput(
        $(topK), ImageNetLabels.imagenet1k.ids, ImageNetLabels.imagenet1k.descriptions)
    else OutputFormat.VectorOutput

  override def transformSchema(schema: StructType): StructType =
    validateAndTransformSchema(schema, format.dataType)

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      transformSchema(dataset.schema, logging = true)
      runExported(dataset, _.predictionsTensor, format)
    }

  override def copy(extra: ParamMap): DeepImagePredictor = defaultCopy(extra)

  override def write: MLWriter = new NamedModelWriter(this)
}

object DeepImagePredictor extends MLReadable[DeepImagePredictor] {
  override def read: MLReader[DeepImagePredictor] =
    new NamedModelReader(classOf[DeepImagePredictor].getName, new DeepImagePredictor(_))
  override def load(path: String): DeepImagePredictor = super.load(path)
}
