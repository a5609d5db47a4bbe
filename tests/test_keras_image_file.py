"""KerasImageFileTransformer: image URIs -> (Python loader | JVM decode) -> Keras model in the JVM."""
import os

import numpy as np
import pytest

from sparkdl import KerasImageFileTransformer, readImages
from tests.support import fixtures
from tests.support.fixtures import keras_inputs, pil_loader


@pytest.fixture(scope="module")
def uris(spark, image_dir):
    paths = sorted("file:" + os.path.join(image_dir, n) for n in fixtures.GOOD)
    return spark.createDataFrame([(p,) for p in paths], ["uri"]).repartition(2)


@pytest.fixture(scope="module")
def model_file(cnn, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("kift") / "cnn.keras")
    cnn.save(path)
    return path


def test_custom_image_loader_matches_keras_predict(uris, model_file, cnn):
    t = KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=model_file, imageLoader=pil_loader,
                                  outputMode="array")
    rows = t.transform(uris).orderBy("uri").collect()
    assert t.getImageLoader() is not None and len(rows) == len(fixtures.GOOD)
    expected = cnn.predict(np.concatenate([pil_loader(r.uri) for r in rows]), verbose=0)
    np.testing.assert_allclose(np.array([r.preds for r in rows]), expected, atol=1e-5, rtol=0)


def test_jvm_loading_matches_keras_on_the_same_pixels(spark, uris, model_file, cnn, image_dir):
    t = KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=model_file)
    rows = t.transform(uris.union(spark.createDataFrame([("file:/no/such/file.png",)], ["uri"]))) \
        .orderBy("uri").collect()
    missing = [r for r in rows if r.uri == "file:/no/such/file.png"]
    assert len(missing) == 1 and missing[0].preds is None
    images = {r.filePath: r.image for r in readImages(image_dir).collect()}
    found = [r for r in rows if r.preds is not None]
    expected = cnn.predict(keras_inputs([images[r.uri] for r in found], 48, 64), verbose=0)
    np.testing.assert_allclose(np.array([r.preds.toArray() for r in found]), expected, atol=1e-4, rtol=0)


def test_jvm_loading_gives_null_for_uris_it_cannot_read_never_fails_the_job(spark, uris, model_file):
    """Empty, scheme-less-looking and unreachable URIs (a file system without its jar or credentials)."""
    t = KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=model_file)
    bad = spark.createDataFrame([("",), ("a:b.jpg",), ("s3a://bucket/x.jpg",), (None,)], "uri string")
    rows = t.transform(uris.limit(1).union(bad)).collect()
    assert len(rows) == 5
    assert sum(r.preds is not None for r in rows) == 1 and [r.preds for r in rows if r.uri in ("", "a:b.jpg",
                                                           "s3a://bucket/x.jpg", None)] == [None] * 4


def test_persistence_keeps_the_loader(uris, model_file, tmp_path):
    t = KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=model_file, imageLoader=pil_loader)
    expected = [r.preds for r in t.transform(uris).orderBy("uri").collect()]
    t.save(str(tmp_path / "stage"))
    loaded = KerasImageFileTransformer.load(str(tmp_path / "stage"), allowUnsafeDeserialization=True)
    assert loaded.getImageLoader() is not None and loaded.getModelFile() == model_file
    assert [r.preds for r in loaded.transform(uris).orderBy("uri").collect()] == expected


class _Payload:
    """What a planted pickle does: create a file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_loaded_stage_never_runs_its_pickled_loader_without_an_opt_in(spark, uris, model_file, tmp_path):
    """A saved stage (alone, and inside a PipelineModel) from an untrusted folder, its loader replaced
    by a payload: transform refuses to unpickle it, the error says how to opt in; the payload never runs."""
    import base64
    import glob
    import json
    import pickle

    from pyspark.ml import PipelineModel

    t = KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=model_file, imageLoader=pil_loader)
    marker = str(tmp_path / "pwned")
    payload = base64.b64encode(pickle.dumps(_Payload(marker))).decode("ascii")
    alone, pipeline = str(tmp_path / "stage"), str(tmp_path / "pipeline")
    t.save(alone)
    PipelineModel([t]).save(pipeline)
    for meta_file in glob.glob(os.path.join(alone, "metadata", "part-*")) + \
            glob.glob(os.path.join(pipeline, "stages", "*", "metadata", "part-*")):
        meta = json.loads(open(meta_file).read())
        meta["paramMap"]["imageLoaderPickle"] = payload
        open(meta_file, "w").write(json.dumps(meta))
        crc = os.path.join(os.path.dirname(meta_file), "." + os.path.basename(meta_file) + ".crc")
        if os.path.exists(crc):
            os.remove(crc)  # as whoever planted it would
    for loaded in (KerasImageFileTransformer.load(alone), PipelineModel.load(pipeline)):
        with pytest.raises(PermissionError) as e:
            loaded.transform(uris).collect()
        assert "allowUnsafeDeserialization=True" in str(e.value)
        assert "spark.sparkdl.allowUnsafeDeserialization=true" in str(e.value)
    assert not os.path.exists(marker)
    # the conf opts in for PipelineModel.load: the pickle is then unpickled (here, the payload runs)
    spark.conf.set("spark.sparkdl.allowUnsafeDeserialization", "true")
    try:
        try:
            PipelineModel.load(pipeline).transform(uris).collect()
        except Exception:  # the payload is no image loader
            pass
        assert os.path.exists(marker)
    finally:
        spark.conf.unset("spark.sparkdl.allowUnsafeDeserialization")
