"""sparkdl end to end on local Spark, offline: read images, featurize, train, predict, SQL.

Run with `make demo`. Images: real photos shipped inside scikit-image / scikit-learn,
and a generated, labelled set (red vs. blue shapes) for the training step.

The featurizer here is a small Keras CNN with fixed random weights, exported to a
frozen graph and run by TFImageTransformer in the JVM. It is honestly that: random
convolution features, good enough to separate colours, not a pre-trained model.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import sparkdl  # noqa: E402
from sparkdl import TFImageTransformer, readImages  # noqa: E402
from examples.sample_images import write_photos, write_shapes  # noqa: E402


def random_cnn():
    import keras

    keras.utils.set_random_seed(42)
    return keras.Sequential([
        keras.Input((64, 64, 3)),
        keras.layers.Rescaling(1.0 / 127.5, offset=-1),
        keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
        keras.layers.Conv2D(32, 3, strides=2, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
    ], name="random_features")


def main():
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator
    from pyspark.sql import functions as F

    t0 = time.time()
    spark = sparkdl.spark_session("local[2]", app_name="sparkdl-demo", **{"spark.ui.enabled": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    work = tempfile.mkdtemp(prefix="sparkdl-demo-")

    print("\n== 1. readImages over real photos (scikit-image, scikit-learn)")
    photos = readImages(write_photos(os.path.join(work, "photos")))
    photos.select("filePath", "image.height", "image.width", "image.nChannels", "imageError") \
        .show(truncate=60)

    print("== 2. a Keras model as a Spark ML transformer (runs in the JVM through TensorFlow Java)")
    print("   model: a small CNN with fixed RANDOM weights (not pre-trained) -> 32 features")
    featurizer = TFImageTransformer(inputCol="image", outputCol="features", graph=random_cnn())
    featurizer.transform(photos).select(F.element_at(F.split("filePath", "/"), -1).alias("file"),
                                        "features").show(truncate=70)

    print("== 3. transfer learning as a Pipeline: featurizer + LogisticRegression")
    shapes = write_shapes(os.path.join(work, "shapes"))
    labelled = readImages(shapes, recursive=True).withColumn(
        "label", F.when(F.col("filePath").contains("/red/"), 0.0).otherwise(1.0))
    train, test = labelled.randomSplit([0.7, 0.3], seed=1)
    model = Pipeline(stages=[featurizer, LogisticRegression(maxIter=50, regParam=0.01)]).fit(train)
    predictions = model.transform(test).cache()
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(predictions)
    print("   held-out accuracy: %.3f on %d images (chance: 0.5)" % (accuracy, predictions.count()))
    predictions.select(F.element_at(F.split("filePath", "/"), -1).alias("file"), "label", "prediction") \
        .show(8, truncate=False)

    print("== 4. save, reload, and query the predictions with SQL")
    path = os.path.join(work, "model")
    model.write().overwrite().save(path)
    from pyspark.ml import PipelineModel

    reloaded = PipelineModel.load(path)
    reloaded.transform(test).createOrReplaceTempView("predictions")
    spark.sql("""
        SELECT CASE WHEN label = 0 THEN 'red' ELSE 'blue' END AS true_class,
               COUNT(*) AS images,
               ROUND(AVG(CASE WHEN prediction = label THEN 1.0 ELSE 0.0 END), 3) AS accuracy
        FROM predictions GROUP BY label ORDER BY label
    """).show()
    print("demo finished in %.0f s; files under %s" % (time.time() - t0, work))
    spark.stop()


if __name__ == "__main__":
    main()
