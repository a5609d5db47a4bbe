"""precision="int8": a named image model's int8 form, made from its ONNX form and run by ONNX Runtime, against
ONNX Runtime Python on the same pixels and against the float model's classes on real photos."""
import hashlib
import json
import os
import shutil

import numpy as np
import pytest

from sparkdl import DeepImageFeaturizer, DeepImagePredictor, readImages
from tests.support.fixtures import assert_close_relative, keras_inputs, runs_by_engine

NAME = "EfficientNetLite0"  # the named model with real ImageNet weights installable here


@pytest.fixture(scope="module")
def int8_cache(tmp_path_factory):
    """An export cache holding a copy of EfficientNet-Lite0's export (ImageNet weights), without an int8 form."""
    from sparkdl.models.export import cached_model_dir

    root = tmp_path_factory.mktemp("int8-cache")
    shutil.copytree(os.path.join(cached_model_dir(NAME), NAME), str(root / "imagenet" / NAME))
    assert not (root / "imagenet" / NAME / "model.int8.onnx").exists()
    return root


@pytest.fixture
def in_int8_cache(int8_cache, monkeypatch):
    monkeypatch.setenv("SPARKDL_MODEL_CACHE", str(int8_cache))
    return int8_cache / "imagenet" / NAME


@pytest.fixture(scope="module")
def photos(spark, image_dir):
    return readImages(image_dir, numPartitions=2).filter("image IS NOT NULL").orderBy("filePath").cache()


def test_precision_int8_adds_the_form_to_the_export_once_and_keeps_the_class_of_photos(spark, in_int8_cache,
                                                                                      tmp_path, capfd):
    import skimage.data as data
    from PIL import Image

    for name in ["chelsea", "coffee"]:
        Image.fromarray(getattr(data, name)()).save(str(tmp_path / (name + ".png")))
    images = readImages(str(tmp_path)).orderBy("filePath")
    predictor = DeepImagePredictor(outputCol="labels", modelName=NAME, precision="int8", decodePredictions=True,
                                   topK=1)
    rows = predictor.transform(images).collect()
    err = capfd.readouterr().err
    assert "sparkdl: adding the int8 form of %s" % NAME in err and "int8: features at cosine" in err, err
    assert [r.labels[0].description for r in rows] == ["Egyptian cat", "espresso"]

    meta = json.loads((in_int8_cache / "model.json").read_text())
    int8 = (in_int8_cache / "model.int8.onnx").read_bytes()
    assert meta["int8Sha256"] == hashlib.sha256(int8).hexdigest()
    assert len(int8) < os.path.getsize(in_int8_cache / "model.onnx") / 2  # int8 weights
    assert 0.9 <= meta["int8CosineMin"] <= meta["int8CosineMean"] <= 1, meta
    assert 0.5 <= meta["int8Top1Agreement"] <= 1 and meta["int8Speedup"] > 0, meta
    # where the float model is sure of a class (>= 30%), the int8 form names the same one
    assert meta["int8SureCrops"] >= 8 and meta["int8Top1AgreementSure"] >= 0.9, meta
    assert "photos of skimage.data" in meta["int8Calibration"], meta
    predictor.transform(images).collect()
    assert "adding the int8 form" not in capfd.readouterr().err  # once per export


def test_a_first_export_with_precision_int8_shows_its_quantizing_step(tmp_path, monkeypatch, capfd):
    from sparkdl.models.export import cached_model_dir

    monkeypatch.setenv("SPARKDL_MODEL_CACHE", str(tmp_path))
    monkeypatch.setenv("SPARKDL_PROGRESS", "lines")
    root = cached_model_dir(NAME, precision="int8")
    err = capfd.readouterr().err
    steps = [line.strip() for line in err.splitlines() if line.strip().startswith("[")]
    assert steps == ["[1/5] reading the weights...", "[2/5] freezing the graph...", "[3/5] converting it to ONNX...",
                     "[4/5] quantizing it to int8...", "[5/5] writing the export..."], err
    meta = json.loads(open(os.path.join(root, NAME, "model.json")).read())
    assert meta["int8Sha256"] == hashlib.sha256(open(os.path.join(root, NAME, "model.int8.onnx"), "rb").read()
                                                ).hexdigest()
    assert cached_model_dir(NAME, precision="int8") == root and "exporting" not in capfd.readouterr().err


def test_int8_features_equal_onnx_runtime_python_on_the_same_pixels(spark, photos, in_int8_cache):
    """The stage runs the int8 form on ONNX Runtime only; its features are ONNX Runtime Python's on the
    pixels the JVM feeds (static scales: a row's output does not depend on its batch), and near the float
    model's."""
    import onnxruntime as ort

    featurizer = DeepImageFeaturizer(outputCol="f", modelName=NAME, precision="int8", batchSize=3)
    scored = featurizer.transform(photos)
    rows = scored.collect()
    got = np.array([r.f.toArray() for r in rows])
    runs = runs_by_engine(scored)
    assert runs["onnx"] > 0 and runs["tf"] == 0, runs

    x = keras_inputs([r.image for r in rows], 224, 224)
    int8, fp32 = (ort.InferenceSession(str(in_int8_cache / f), providers=["CPUExecutionProvider"])
                  for f in ("model.int8.onnx", "model.onnx"))
    assert_close_relative(got, int8.run(["features:0"], {"input:0": x})[0], rel=1e-4)
    want = fp32.run(["features:0"], {"input:0": x})[0]
    cosine = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cosine.min() >= 0.85 and cosine.mean() >= 0.95, cosine

    with pytest.raises(Exception, match="precision 'int8' runs EfficientNetLite0's int8 form on ONNX Runtime, "
                                        "not engine 'tf'"):
        featurizer.copy({featurizer.engine: "tf"}).transform(photos).collect()
    with pytest.raises(ValueError, match="precision must be one of fp32, int8, got 'bf16'"):
        featurizer.setPrecision("bf16")


def test_an_export_without_int8_form_says_how_to_make_one(spark, photos, in_int8_cache, tmp_path):
    export = tmp_path / "exports"
    shutil.copytree(str(in_int8_cache), str(export / NAME), ignore=shutil.ignore_patterns("model.int8.onnx"))
    meta = json.loads((export / NAME / "model.json").read_text())
    for key in [k for k in meta if k.startswith("int8")]:
        del meta[key]
    (export / NAME / "model.json").write_text(json.dumps(meta))
    featurizer = DeepImageFeaturizer(outputCol="f", modelName=NAME, modelDir=str(export), precision="int8")
    with pytest.raises(Exception, match=r"no int8 form \(not asked for at export\).*--precision int8"):
        featurizer.transform(photos).collect()


def test_a_saved_int8_stage_loads_with_its_form(spark, photos, in_int8_cache, tmp_path, monkeypatch):
    from pyspark.ml import Pipeline, PipelineModel

    featurizer = DeepImageFeaturizer(outputCol="f", modelName=NAME, precision="int8", engine="onnx")
    model = Pipeline(stages=[featurizer]).fit(photos)
    before = [r.f for r in model.transform(photos).collect()]
    model.write().overwrite().save(str(tmp_path / "saved"))
    saved = [os.path.join(d, f) for d, _, files in os.walk(str(tmp_path / "saved")) for f in files]
    assert any(p.endswith(os.path.join(NAME, "model.int8.onnx")) for p in saved), saved
    monkeypatch.setenv("SPARKDL_MODEL_CACHE", str(tmp_path / "empty"))  # the saved stage needs no cache
    stage = PipelineModel.load(str(tmp_path / "saved")).stages[0]
    assert type(stage) is DeepImageFeaturizer and stage.getPrecision() == "int8"
    assert [r.f for r in stage.transform(photos).collect()] == before


def test_precisions_mirror_the_jvm(spark):
    from sparkdl.models.export import PRECISIONS

    jvm = spark.sparkContext._jvm
    assert jvm.sparkdl.models.NamedImageModels.Precisions().mkString(",") == ",".join(PRECISIONS)
