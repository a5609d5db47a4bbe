import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator
import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.functions.{array, array_position, col, element_at, lit, split}

import sparkdl.image.ImageReader
import sparkdl.ml.DeepImageFeaturizer

/**
 * Transfer learning on a cluster, from Scala:
 * {{{
 * spark-submit --master spark://HOST:7077 --class TransferLearning \
 *   --jars sparkdl-assembly-0.1.0.jar sparkdl-examples_2.13-0.1.0.jar \
 *   IMAGES_DIR MODEL_DIR MODEL_OUT PREDICTIONS_OUT [MODEL_NAME]
 * }}}
 * IMAGES_DIR holds one sub-folder per class; MODEL_DIR is an export written by
 * `python -m sparkdl.models export --model MODEL_NAME --out MODEL_DIR`.
 */
object TransferLearning {
  def main(args: Array[String]): Unit = {
    val Array(imagesDir, modelDir, modelOut, predictionsOut) = args.take(4)
    val modelName = if (args.length > 4) args(4) else "EfficientNetLite0"
    val spark = SparkSession.builder().appName("sparkdl-transfer-learning-scala").getOrCreate()

    val images = ImageReader.readImages(spark, imagesDir, true, 0).filter("image IS NOT NULL")
    val classDir = element_at(split(col("filePath"), "/"), -2)
    val classes = images.select(classDir.as("c")).distinct().collect().map(_.getString(0)).sorted
    val data = images.withColumn("label",
      (array_position(array(classes.map(lit): _*), classDir) - 1).cast("double"))

    val featurizer = new DeepImageFeaturizer().setInputCol("image").setOutputCol("features")
      .setModelName(modelName).setModelDir(modelDir)
    val lr = new LogisticRegression().setLabelCol("label").setMaxIter(50).setRegParam(0.05)
    new Pipeline().setStages(Array(featurizer, lr)).fit(data).write.overwrite().save(modelOut)

    val predictions = PipelineModel.load(modelOut).transform(data)
    predictions.select("filePath", "label", "prediction")
      .write.mode("overwrite").json(predictionsOut)
    val accuracy =
      new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predictions)
    println(f"classes=${classes.mkString(",")} images=${data.count()} accuracy=$accuracy%.4f")
    spark.stop()
  }
}
