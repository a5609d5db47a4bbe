"""TFImageTransformer end to end: real image files -> readImages -> JVM TensorFlow, against
Keras predict on the same pixels (same resize, same channel order)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sparkdl import TFImageTransformer, readImages
from sparkdl.image.imageIO import imageStructToArray
from tests.support import fixtures
from tests.support.fixtures import keras_inputs


@pytest.mark.local_cluster
def test_parity_with_keras_predict_on_real_images(spark, image_dir, cnn):
    images = readImages(image_dir, numPartitions=3).filter("image IS NOT NULL")
    t = TFImageTransformer(inputCol="image", outputCol="probs", graph=cnn, batchSize=3)
    rows = t.transform(images).orderBy("filePath").collect()
    assert len(rows) == len(fixtures.GOOD)
    assert {r.image.nChannels for r in rows} == {1, 3, 4}
    got = np.array([r.probs.toArray() for r in rows])
    expected = cnn.predict(keras_inputs([r.image for r in rows], 48, 64), verbose=0)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
    assert np.abs(expected - expected.mean(axis=0)).max() > 1e-3, "inputs too alike to test anything"


@pytest.mark.local_cluster
def test_resize_matches_tf_image_resize(spark, image_dir):
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    identity = freeze_function(lambda x: tf.identity(x), [tf.TensorSpec([None, 37, 53, 3], tf.float32,
                                                                         name="input")])
    t = TFImageTransformer(outputCol="pixels", graph=identity, outputMode="array", channelOrder="BGR")
    rows = t.transform(readImages(image_dir).filter("image IS NOT NULL")).collect()
    for r in rows:
        arr = imageStructToArray(r.image).astype(np.float32)
        bgr = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[:, :, :3]
        expected = tf.image.resize(bgr, (37, 53), method="bilinear", antialias=False).numpy()
        got = np.array(r.pixels, dtype=np.float32).reshape(37, 53, 3)
        assert np.abs(got - expected).max() < 1e-3, r.filePath  # spec: within 1/255 per channel


def test_null_images_give_null_outputs_and_rows_survive(spark, image_dir, cnn):
    t = TFImageTransformer(outputCol="probs", graph=cnn)
    rows = t.transform(readImages(image_dir)).collect()
    assert len(rows) == len(fixtures.GOOD) + len(fixtures.BAD)
    for r in rows:
        assert (r.probs is None) == (r.image is None), r.filePath


def test_python_save_load_and_pipeline_round_trip(spark, image_dir, cnn, tmp_path):
    from pyspark.ml import Pipeline, PipelineModel

    images = readImages(image_dir).filter("image IS NOT NULL")
    t = TFImageTransformer(outputCol="probs", graph=cnn, outputMode="array", batchSize=5)
    path = str(tmp_path / "stage")
    t.save(path)
    loaded = TFImageTransformer.load(path)
    assert isinstance(loaded, TFImageTransformer)
    assert loaded.getBatchSize() == 5 and loaded.getOutputMode() == "array"
    assert loaded.getGraph() == t.getGraph()
    expected = [r.probs for r in t.transform(images).orderBy("filePath").collect()]
    assert [r.probs for r in loaded.transform(images).orderBy("filePath").collect()] == expected

    model = Pipeline(stages=[t]).fit(images)
    model.write().overwrite().save(str(tmp_path / "pipeline"))
    reloaded = PipelineModel.load(str(tmp_path / "pipeline"))
    assert type(reloaded.stages[0]) is TFImageTransformer
    assert [r.probs for r in reloaded.transform(images).orderBy("filePath").collect()] == expected


def test_wrong_input_tensor_names_it_and_lists_placeholders(spark, image_dir, cnn):
    t = TFImageTransformer(outputCol="probs", graph=cnn, inputTensor="images:0")
    with pytest.raises(Exception) as e:
        t.transform(readImages(image_dir))
    assert "'images:0'" in str(e.value) and "input:0 float [?,48,64,3]" in str(e.value)


def test_non_image_input_column_is_rejected_before_any_job(spark, cnn):
    df = spark.createDataFrame([("a",)], ["image"])
    t = TFImageTransformer(outputCol="probs", graph=cnn)
    with pytest.raises(Exception) as e:
        t.transform(df)
    msg = str(e.value)
    assert "'image'" in msg and "string" in msg and "struct<origin:string" in msg


EXISTING_SESSION = """
import json, sys
from pyspark.sql import SparkSession

# a session started before sparkdl, without its jar (a notebook's, the pyspark shell's)
spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
import sparkdl
from sparkdl.graph import FrozenGraph

def run():
    df = sparkdl.spark_session().createDataFrame([(1, [1.0, 2.0, 3.0])], ["id", "a"]).repartition(2)
    t = sparkdl.TFTransformer(graph=FrozenGraph.load(sys.argv[1]), inputMapping={"a": "input:0"},
                              outputMapping={"output:0": "out"})
    out = t.transform(df)
    return [list(r.out) for r in out.collect()], out._jdf.queryExecution().executedPlan().toString()

(first, plan) = run()
# the session got sparkdl's SQL functions and batched planning when the jar was attached
plan_ok = "SparkdlModelEval" in plan and spark.sql("SHOW FUNCTIONS LIKE 'sparkdl_tensor'").count() == 1
images = sparkdl.readImages(sys.argv[2]).filter("image IS NOT NULL").count()
spark.stop()  # and a new session in the same process
second = run()[0]
print("RESULT:" + json.dumps({"first": first, "second": second, "images": images, "plan_ok": plan_ok}))
"""


def test_a_session_started_without_the_jar_gets_it_attached(tmp_path, image_dir):
    """A SparkSession created before sparkdl (no jar): sparkdl attaches its jar to the running driver
    and executors and works, on the batched plan (the SQL extension installed into the running
    session); after spark.stop(), sparkdl.spark_session() works in the same process."""
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    freeze_function(lambda x: x * 2.0 + 1.0, [tf.TensorSpec([None, 3], tf.float32, name="input")]).save(
        str(tmp_path / "g"))
    script = tmp_path / "existing_session.py"
    script.write_text(EXISTING_SESSION)
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "g"), image_dir], capture_output=True,
                         text=True, env=dict(os.environ, SPARKDL_VERBOSE="1"), timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT:")]
    assert lines, out.stderr[-3000:]
    result = json.loads(lines[0][len("RESULT:"):])
    assert result == {"first": [[3.0, 5.0, 7.0]], "second": [[3.0, 5.0, 7.0]], "images": len(fixtures.GOOD),
                      "plan_ok": True}
    assert "sparkdl: attached" in out.stderr


def test_the_missing_jar_error_gives_a_fix_that_works_in_that_situation():
    from sparkdl._session import missing_jar_error

    message = str(missing_jar_error(None, "the driver's class loader (X) cannot take jars at run time"))
    assert "sparkdl.spark_session" not in message  # the function that just failed is no fix
    assert "PYSPARK_SUBMIT_ARGS='--jars " in message and "pyspark --jars " in message and ".jar" in message
    assert "cannot take jars at run time" in message


@pytest.mark.local_cluster
def test_cluster_master_really_has_separate_executors(spark):
    """Under `make test-cluster` the parity tests above ran in two executor JVMs."""
    master = spark.sparkContext.master
    if not master.startswith("local-cluster"):
        pytest.skip("runs under local-cluster only (make test-cluster)")
    status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus()
    assert status.size() == 3, "expected the driver and 2 executors, got %d" % status.size()


def test_output_mode_image_gives_float_image_structs_in_spark_channel_order(spark, image_dir, cnn, tmp_path):
    """The original library's outputMode="image": a graph whose output is an image gives Spark image
    structs of float32 pixels (CV_32FC3, CV_32FC1), channels put back in Spark's BGR order; against
    numpy on the pixels Keras would be fed."""
    import tensorflow as tf
    from pyspark.ml.image import ImageSchema

    from sparkdl.graph import freeze_function
    from sparkdl.image.imageIO import imageStructToPIL

    scale = np.array([0.5, 1.0, 2.0], np.float32)  # per RGB channel: a swapped order would show
    spec = [tf.TensorSpec([None, 32, 48, 3], tf.float32, name="input")]
    color = freeze_function(lambda x: tf.nn.avg_pool2d(x, 2, 2, "VALID") * scale, spec)
    gray = freeze_function(lambda x: tf.reduce_mean(x, axis=3, keepdims=True), spec)
    images = readImages(image_dir).filter("image IS NOT NULL").orderBy("filePath")
    sources = images.collect()
    pixels = keras_inputs([r.image for r in sources], 32, 48)  # RGB
    pooled = pixels.reshape(-1, 16, 2, 24, 2, 3).mean(axis=(2, 4)) * scale

    stage = TFImageTransformer(outputCol="out", graph=color, outputMode="image")
    out = stage.transform(images)
    assert out.schema["out"].dataType == ImageSchema.columnSchema
    rows = out.collect()
    assert len(rows) == len(sources) >= 8
    for r, want in zip(rows, pooled):
        assert (r.out.origin, r.out.height, r.out.width, r.out.nChannels, r.out.mode) == ("", 16, 24, 3, 21)
        got = imageStructToArray(r.out)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want[:, :, ::-1], atol=1e-3, err_msg=r.filePath)  # BGR
    assert imageStructToPIL(rows[0].out).size == (24, 16)

    saved = str(tmp_path / "stage")
    stage.save(saved)
    again = TFImageTransformer.load(saved)
    assert again.getOutputMode() == "image"
    assert [bytes(r.out.data) for r in again.transform(images).collect()] == [bytes(r.out.data) for r in rows]

    rows = TFImageTransformer(outputCol="out", graph=gray, outputMode="image").transform(images).collect()
    for r, want in zip(rows, pixels.mean(axis=3, keepdims=True)):
        assert (r.out.height, r.out.width, r.out.nChannels, r.out.mode) == (32, 48, 1, 5)
        np.testing.assert_allclose(imageStructToArray(r.out), want, atol=1e-3, err_msg=r.filePath)

    # not an image output: refused at transform, naming the output and its shape
    with pytest.raises(Exception, match=r"outputMode 'image' needs an image output.*float \[\?,\d+\]"):
        TFImageTransformer(outputCol="out", graph=cnn, outputMode="image").transform(images)
    with pytest.raises(ValueError, match="outputMode.*vector, array, image"):
        TFImageTransformer(outputCol="out", graph=cnn, outputMode="images")
