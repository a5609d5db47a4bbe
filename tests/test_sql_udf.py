"""Keras models as SQL functions over image tables, batch and streaming."""
import os
import shutil
import time

import numpy as np

from sparkdl import readImages, registerKerasImageUDF, registerKerasUDF
from sparkdl.image.imageIO import imageStructToArray
from tests.support import fixtures
from tests.support.fixtures import keras_inputs


def test_sql_function_matches_keras_on_a_mixed_image_table(spark, image_dir, cnn):
    registerKerasImageUDF("cnn_probs", cnn)
    readImages(image_dir).createOrReplaceTempView("mixed_imgs")
    rows = spark.sql("SELECT filePath, image, cnn_probs(image) AS objects FROM mixed_imgs ORDER BY filePath").collect()
    assert len(rows) == len(fixtures.GOOD) + len(fixtures.BAD)
    good = [r for r in rows if r.image is not None]
    assert all(r.objects is None for r in rows if r.image is None)  # null image -> null
    assert {r.image.nChannels for r in good} == {1, 3, 4}
    expected = cnn.predict(keras_inputs([r.image for r in good], 48, 64), verbose=0)
    np.testing.assert_allclose(np.array([r.objects for r in good]), expected, atol=1e-5, rtol=0)


def test_talk_spelling_with_a_model_file(spark, image_dir, cnn, tmp_path):
    path = str(tmp_path / "007model.h5")
    cnn.save(path)
    registerKerasUDF("my_object_recognition_function", keras_model_file=path)
    readImages(image_dir).filter("image IS NOT NULL").createOrReplaceTempView("traffic_imgs")
    rows = spark.sql("select image, my_object_recognition_function(image) as objects from traffic_imgs").collect()
    expected = cnn.predict(keras_inputs([r.image for r in rows], 48, 64), verbose=0)
    np.testing.assert_allclose(np.array([r.objects for r in rows]), expected, atol=1e-5, rtol=0)


def test_python_preprocessor_then_model_in_the_jvm(spark, image_dir, cnn):
    from PIL import Image

    def preprocessor(rgb):  # nearest-neighbour resize with PIL, as a user might
        img = Image.fromarray(rgb[:, :, 0] if rgb.shape[2] == 1 else rgb[:, :, :3])
        return np.asarray(img.convert("RGB").resize((64, 48), Image.NEAREST), np.float32)

    registerKerasImageUDF("cnn_custom", cnn, preprocessor=preprocessor)
    readImages(image_dir).filter("image IS NOT NULL").createOrReplaceTempView("imgs_pre")
    rows = spark.sql("SELECT image, cnn_custom(image) AS out FROM imgs_pre").collect()
    batch = []
    for r in rows:
        arr = imageStructToArray(r.image)
        rgb = arr if arr.shape[2] == 1 else arr[:, :, [2, 1, 0]]
        batch.append(preprocessor(rgb))
    np.testing.assert_allclose(np.array([r.out for r in rows]), cnn.predict(np.stack(batch), verbose=0), atol=1e-5)


def test_structured_streaming_scores_every_image_once(spark, image_dir, cnn, tmp_path):
    from pyspark.ml.image import ImageSchema

    registerKerasImageUDF("stream_probs", cnn)
    watched, out, checkpoint = (str(tmp_path / d) for d in ("watched", "out", "checkpoint"))
    os.makedirs(watched)
    stream = spark.readStream.format("image").schema(ImageSchema.imageSchema).load(watched)
    query = (stream.selectExpr("image.origin AS origin", "image", "stream_probs(image) AS probs")
             .writeStream.format("parquet").option("path", out).option("checkpointLocation", checkpoint)
             .trigger(processingTime="1 second").start())
    try:
        names = sorted(fixtures.GOOD)
        for batch in (names[:4], names[4:]):
            for name in batch:  # copy, then rename into place: the source must not see half a file
                shutil.copy(os.path.join(image_dir, name), os.path.join(watched, "." + name))
                os.rename(os.path.join(watched, "." + name), os.path.join(watched, name))
            query.processAllAvailable()
            time.sleep(1)
        query.processAllAvailable()
    finally:
        query.stop()
    rows = spark.read.parquet(out).collect()
    assert sorted(os.path.basename(r.origin) for r in rows) == names  # none lost, none twice
    # Spark's image source decoded these: Keras gets the very same pixels
    expected = cnn.predict(keras_inputs([r.image for r in rows], 48, 64), verbose=0)
    np.testing.assert_allclose(np.array([r.probs for r in rows]), expected, atol=1e-5)


def test_registered_functions_run_in_batches(spark, image_dir, cnn):
    """registerKerasImageUDF is a temporary SQL function over sparkdl_predict: its model calls are
    evaluated by the batched SparkdlModelEval node (spark.sparkdl.sql.batchSize rows per run)."""
    registerKerasImageUDF("cnn_batched", cnn)
    readImages(image_dir, numPartitions=1).createOrReplaceTempView("batched_imgs")
    spark.conf.set("spark.sparkdl.sql.batchSize", "3")
    try:
        df = spark.sql("SELECT filePath, cnn_batched(image) AS p FROM batched_imgs")
        plan = df._jdf.queryExecution().executedPlan().toString()
        assert "SparkdlModelEval" in plan and "batchSize=3" in plan, plan
        rows = df.collect()
    finally:
        spark.conf.unset("spark.sparkdl.sql.batchSize")
    good = [r for r in rows if r.p is not None]
    assert len(rows) == len(fixtures.GOOD) + len(fixtures.BAD) and len(good) == len(fixtures.GOOD)
    images = {r.filePath: r.image for r in readImages(image_dir).collect()}
    expected = cnn.predict(keras_inputs([images[r.filePath] for r in good], 48, 64), verbose=0)
    np.testing.assert_allclose(np.array([r.p for r in good]), expected, atol=1e-5, rtol=0)
