package sparkdl.ml

import org.apache.spark.ml.Transformer
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.{Identifiable, MLReadable, MLReader, MLWritable, MLWriter}
import org.apache.spark.sql.{DataFrame, Dataset}
import org.apache.spark.sql.types.StructType

import sparkdl.inference.OutputFormat

/**
 * Turns images into features with a pre-trained model: the values just before the model's ImageNet
 * classifier (e.g. 2048 pooled values for ResNet50 and InceptionV3, 1280 for MobileNetV2 and the
 * EfficientNets, fc2's 4096 for VGG), as an MLlib Vector. Any image size: images are resized
 * bilinearly to the model's input.
 *
 * {{{
 * val featurizer = new DeepImageFeaturizer().setInputCol("image").setOutputCol("features")
 *   .setModelName("ResNet50").setModelDir("/models/sparkdl")
 * new Pipeline().setStages(Array(featurizer, new LogisticRegression())).fit(train)
 * }}}
 */
class DeepImageFeaturizer(override val uid: String)
  extends Transformer with NamedImageModelParams with MLWritable {

  def this() = this(Identifiable.randomUID("DeepImageFeaturizer"))

  override def transformSchema(schema: StructType): StructType =
    validateAndTransformSchema(schema, OutputFormat.VectorOutput.dataType)

  override def transform(dataset: Dataset[_]): DataFrame =
    BatchTransform.withActive(dataset.sparkSession) {
      transformSchema(dataset.schema, logging = true)
      runExported(dataset, _.featuresTensor, OutputFormat.VectorOutput)
    }

  override def copy(extra: ParamMap): DeepImageFeaturizer = defaultCopy(extra)

  override def write: MLWriter = new NamedModelWriter(this)
}

object DeepImageFeaturizer extends MLReadable[DeepImageFeaturizer] {
  override def read: MLReader[DeepImageFeaturizer] =
    new NamedModelReader(classOf[DeepImageFeaturizer].getName, new DeepImageFeaturizer(_))
  override def load(path: String): DeepImageFeaturizer = super.load(path)
}
