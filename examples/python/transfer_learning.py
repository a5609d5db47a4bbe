"""Transfer learning on a cluster: readImages -> DeepImageFeaturizer + LogisticRegression.

    spark-submit --master spark://HOST:7077 --jars sparkdl-assembly-0.1.0.jar \\
        examples/python/transfer_learning.py IMAGES_DIR MODEL_OUT PREDICTIONS_OUT [MODEL_NAME]

IMAGES_DIR holds one sub-folder per class. The fitted PipelineModel is saved to MODEL_OUT,
loaded back and used to score every image; predictions (filePath, label, prediction) go to
PREDICTIONS_OUT as JSON lines, and the accuracy is printed.
"""
import sys

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from sparkdl import DeepImageFeaturizer, readImages


def main(images_dir, model_out, predictions_out, model_name="EfficientNetLite0"):
    spark = SparkSession.builder.appName("sparkdl-transfer-learning-python").getOrCreate()
    images = readImages(images_dir, recursive=True).filter("image IS NOT NULL")
    classes = sorted(r.c for r in images.select(F.element_at(F.split("filePath", "/"), -2).alias("c"))
                     .distinct().collect())
    label = F.array_position(F.array(*[F.lit(c) for c in classes]),
                             F.element_at(F.split("filePath", "/"), -2)).cast("double") - 1
    data = images.withColumn("label", label)

    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=model_name)
    pipeline = Pipeline(stages=[featurizer, LogisticRegression(labelCol="label", maxIter=50, regParam=0.05)])
    pipeline.fit(data).write().overwrite().save(model_out)

    predictions = PipelineModel.load(model_out).transform(data)
    predictions.select("filePath", "label", "prediction").write.mode("overwrite").json(predictions_out)
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(predictions)
    print("classes=%s images=%d accuracy=%.4f" % (",".join(classes), data.count(), accuracy))
    spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:])
