"""The first hour of a new user: every public entry point as the first sparkdl call of a session that
started without sparkdl (a notebook's `getOrCreate()`, `spark-submit app.py` with no sparkdl arguments)
attaches sparkdl and gives the numbers Keras gives; SQL functions find what Python exported."""
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.support import fixtures
from tests.support.fixtures import keras_inputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRST_CALL = os.path.join(ROOT, "tests", "support", "first_call.py")

# every public entry point that needs the JVM; those run under spark-submit too
ENTRIES = ["readImages", "data source", "registerKerasImageUDF", "registerKerasUDF", "stage", "load",
           "PipelineModel.load", "spark_session"]
SUBMITTED = ["readImages", "registerKerasImageUDF", "stage", "load"]


def _run(how, entry, args):
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_SUBMIT_ARGS", "PYSPARK_PYTHON")}
    env.update(PYTHONPATH=ROOT, SPARKDL_VERBOSE="1")  # the attach says so
    if how == "python":
        cmd = [sys.executable, FIRST_CALL, entry, json.dumps(args)]
    else:  # spark-submit of the pinned pyspark, no --jars / --packages
        bin_dir = os.path.dirname(sys.executable)
        env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
        env["PYSPARK_PYTHON"] = sys.executable
        cmd = [os.path.join(bin_dir, "spark-submit"), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
               FIRST_CALL, entry, json.dumps(dict(args, master="local[2]"))]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env, cwd=ROOT)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT:")]
    # spark-submit merges the Python driver's stderr into its stdout
    return (json.loads(lines[-1][len("RESULT:"):]) if lines else None), out.stderr + out.stdout


@pytest.fixture(scope="module")
def first_calls(spark, image_dir, cnn, tmp_path_factory):
    """Each entry point run in a fresh process (two at a time): {(how, entry): (result, stderr)}."""
    import tensorflow as tf
    from pyspark.ml import PipelineModel

    from sparkdl import TFImageTransformer
    from sparkdl.graph import freeze_function

    work = tmp_path_factory.mktemp("first-call")
    keras_file = str(work / "cnn.keras")
    cnn.save(keras_file)
    freeze_function(lambda x: x * 2.0 + 1.0, [tf.TensorSpec([None, 3], tf.float32, name="input")]).save(
        str(work / "g"))
    stage = TFImageTransformer(inputCol="image", outputCol="probs", graph=cnn, outputMode="array")
    stage.save(str(work / "stage"))
    PipelineModel(stages=[stage]).save(str(work / "pipeline"))
    args = {"images": image_dir, "keras": keras_file, "graph": str(work / "g"), "saved": str(work / "stage"),
            "pipeline": str(work / "pipeline")}
    runs = [("python", e) for e in ENTRIES] + [("spark-submit", e) for e in SUBMITTED]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda r: _run(r[0], r[1], args), runs))
    return dict(zip(runs, results))


@pytest.fixture(scope="module")
def keras_probs(spark, image_dir, cnn):
    import sparkdl

    rows = sparkdl.readImages(image_dir).filter("image IS NOT NULL").orderBy("filePath").collect()
    return cnn.predict(keras_inputs([r.image for r in rows], 48, 64), verbose=0)


@pytest.mark.parametrize("how,entry", [("python", e) for e in ENTRIES] + [("spark-submit", e) for e in SUBMITTED])
def test_each_entry_point_as_the_first_sparkdl_call_attaches_sparkdl(first_calls, keras_probs, image_dir, spark,
                                                                      how, entry):
    import sparkdl

    got, stderr = first_calls[(how, entry)]
    assert got is not None, "%s %s failed:\n%s" % (how, entry, stderr[-4000:])
    assert "sparkdl: attached" in stderr, "the session had no sparkdl before the call"
    if entry == "readImages":
        want = sorted([r.filePath.rsplit("/", 1)[-1], r.image is None] for r in sparkdl.readImages(image_dir).collect())
        assert got == [list(w) for w in want] and len(got) == len(fixtures.GOOD) + len(fixtures.BAD)
    elif entry == "data source":
        assert got == len(fixtures.GOOD) + len(fixtures.BAD)
    elif entry == "stage":
        assert got == [[3.0, 5.0, 7.0]]
    elif entry == "spark_session":
        assert got == [True, 1]  # the running session, with sparkdl's SQL functions installed
    else:  # a Keras model through a SQL function or a saved stage: Keras' numbers
        np.testing.assert_allclose(np.array(got), keras_probs, atol=1e-5, rtol=0)


def test_sql_functions_find_the_export_python_made_with_no_conf(spark, image_dir):
    """A named model exported by a Python stage (into the export cache) is what `sparkdl_features`
    and `sparkdl_predict` read, with no `spark.sparkdl.modelDir`; equal to the stages."""
    from sparkdl import DeepImageFeaturizer, DeepImagePredictor, readImages

    assert spark.conf.get("spark.sparkdl.modelDir", None) is None
    images = readImages(image_dir).filter("image IS NOT NULL")
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
    by_stage = {r.filePath: r.f.toArray() for r in featurizer.transform(images).collect()}  # exports it
    images.createOrReplaceTempView("first_contact_images")
    rows = spark.sql("SELECT filePath, sparkdl_features('EfficientNetLite0', image) AS f, "
                     "sparkdl_predict('EfficientNetLite0', image, 3) AS top FROM first_contact_images").collect()
    assert len(rows) == len(by_stage) == len(fixtures.GOOD)
    for r in rows:  # within what two engines agree on: engine auto, the default, may run either while it measures
        want = by_stage[r.filePath]
        np.testing.assert_allclose(r.f, want, rtol=0, atol=1e-4 * np.abs(want).max())
    top = DeepImagePredictor(inputCol="image", outputCol="top", modelName="EfficientNetLite0",
                             decodePredictions=True, topK=3).transform(images).collect()
    want = {r.filePath: [d["class"] for d in r.top] for r in top}
    assert {r.filePath: [d["class"] for d in r.top] for r in rows} == want


def test_a_model_dir_conf_adds_a_place_to_look_and_never_turns_the_export_off(spark, image_dir, tmp_path):
    """`spark.sparkdl.modelDir` naming a folder without this model: Python still exports it (image and
    text), and the SQL function still finds it; a typo lists the valid names, not advice to export it."""
    from sparkdl import DeepImageFeaturizer, DeepTextFeaturizer, readImages

    images = readImages(image_dir).filter("image IS NOT NULL")
    texts = spark.createDataFrame([("a cat sat on the mat",)], ["text"])
    spark.conf.set("spark.sparkdl.modelDir", str(tmp_path))  # holds no export
    try:
        f = DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0").transform(images)
        assert f.filter("f IS NOT NULL").count() == len(fixtures.GOOD)
        e = DeepTextFeaturizer(outputCol="e", modelName="all-MiniLM-L6-v2-int8").transform(texts).first().e
        assert len(e) == 384 and abs(np.linalg.norm(e.toArray()) - 1) < 1e-4
        embedded = spark.sql("SELECT sparkdl_embed('all-MiniLM-L6-v2-int8', 'a cat sat on the mat') AS e").first().e
        np.testing.assert_allclose(embedded, e.toArray(), atol=1e-5)
        with pytest.raises(ValueError, match=r"'all-MiniLM-L6-v3'.*did you mean 'all-MiniLM-L6-v2'.*all-MiniLM-L6-v2, "
                                             r"all-MiniLM-L6-v2-int8"):
            DeepTextFeaturizer(outputCol="e", modelName="all-MiniLM-L6-v3").transform(texts)
        with pytest.raises(Exception, match=r"Unknown text model 'all-MiniLM-L6-v3' \(did you mean 'all-MiniLM-L6-v2'"):
            spark.sql("SELECT sparkdl_embed('all-MiniLM-L6-v3', 'x')").collect()
    finally:
        spark.conf.unset("spark.sparkdl.modelDir")


def test_wrong_arguments_say_what_was_expected(spark, image_dir):
    from sparkdl import DeepImageFeaturizer, readImages

    images = readImages(image_dir)
    with pytest.raises(TypeError, match="readImages: path must be a file, folder or glob .* got DataFrame"):
        readImages(images)
    with pytest.raises(TypeError, match=r"transform\(\) takes a DataFrame, got str"):
        DeepImageFeaturizer(modelName="EfficientNetLite0", outputCol="f").transform(image_dir)


def test_the_readme_scala_block_pastes_line_by_line_into_spark_shell():
    """The Scala REPL runs a line as soon as it is complete: a continuation must end the line before
    (a trailing dot), never start the next one (a leading dot is a syntax error when pasted)."""
    import re

    with open(os.path.join(ROOT, "README.md")) as f:
        block = re.search(r"```scala\n(.*?)```", f.read(), re.S).group(1)
    starts = [line for line in block.splitlines() if line.strip().startswith(".")]
    assert not starts, starts


def test_stages_are_pyspark_shared_param_mixins(spark):
    """Code written against pyspark's own mixins (`isinstance(stage, HasInputCol)`) sees sparkdl's stages."""
    from pyspark.ml.param.shared import HasHandleInvalid, HasInputCol, HasOutputCol

    from sparkdl import DeepImageFeaturizer, DeepTextFeaturizer, TFImageTransformer

    for stage in (DeepImageFeaturizer(), DeepTextFeaturizer(), TFImageTransformer()):
        assert isinstance(stage, HasInputCol) and isinstance(stage, HasOutputCol), type(stage)
        assert isinstance(stage, HasHandleInvalid), type(stage)
    assert not DeepTextFeaturizer().hasDefault("outputCol")  # pyspark's default ("<uid>__output") is not taken


def test_help_lists_the_params_and_the_getters_are_typed():
    import inspect

    from sparkdl import DeepImageFeaturizer, DeepTextFeaturizer

    doc = DeepImageFeaturizer.__doc__
    assert "Params:" in doc and "- ``modelName``: pre-trained model, one of InceptionV3" in doc
    assert "- ``handleInvalid``: what to do with an input the model cannot take" in DeepTextFeaturizer.__doc__
    assert "an image the model" not in DeepTextFeaturizer.__doc__  # the text stage takes no image
    assert inspect.signature(DeepImageFeaturizer.getBatchSize).return_annotation == "int"
    assert inspect.signature(DeepImageFeaturizer.getModelName).return_annotation == "str"


def test_a_named_model_without_tensorflow_says_how_to_get_an_export(monkeypatch, tmp_path):
    import sys

    from sparkdl.models.export import cached_model_dir

    monkeypatch.setenv("SPARKDL_MODEL_CACHE", str(tmp_path))  # nothing exported yet
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # importing TensorFlow fails
    with pytest.raises(ModuleNotFoundError, match=r"Exporting MobileNetV2 needs TensorFlow.*\[spark,tf\].*"
                                                  r"python -m sparkdl.models export --model MobileNetV2"):
        cached_model_dir("MobileNetV2")


def test_a_row_error_reads_first_not_inside_a_job_aborted_trace(spark, cnn):
    """An image the model cannot take, under handleInvalid=error: PySpark raises an IllegalArgumentException
    whose first line is sparkdl's message (the stage, the row's problem, the way out), not Py4J's
    "An error occurred while calling ...collectToPython" with the reason inside a task trace."""
    from pyspark.errors import IllegalArgumentException
    from pyspark.sql import Row
    from pyspark.sql.types import StructField, StructType

    from sparkdl import TFImageTransformer
    from sparkdl.image.imageIO import imageSchema

    bad = spark.createDataFrame([Row(image=Row(origin="two.png", height=2, width=2, nChannels=2, mode=0,
                                               data=bytearray(8)))], StructType([StructField("image", imageSchema)]))
    stage = TFImageTransformer(inputCol="image", outputCol="p", graph=cnn, outputMode="array")
    with pytest.raises(IllegalArgumentException) as e:
        stage.transform(bad).collect()
    first = str(e.value).strip().splitlines()[0]
    assert "unsupported channel count 2" in first and "handleInvalid" in first, first
    assert "Job aborted" not in first and "collectToPython" not in first, first
