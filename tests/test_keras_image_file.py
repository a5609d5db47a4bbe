"""KerasImageFileTransformer: image URIs -> (Python loader | JVM decode) -> Keras model in the JVM."""
import os

import numpy as np
import pytest

from sparkdl import KerasImageFileTransformer, readImages
from tests import fixtures
from tests.fixtures import keras_inputs


def pil_loader(uri):
    """A user's loader: Pillow decode, RGB, 64x48 with Pillow's bilinear, scaled to [0, 1] * 255."""
    from PIL import Image

    path = uri[len("file:"):] if uri.startswith("file:") else uri
    img = Image.open(path).convert("RGB").resize((64, 48), Image.BILINEAR)
    return np.asarray(img, np.float32)[None]  # with a batch dimension, as Keras users often return


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


def test_persistence_keeps_the_loader(uris, model_file, tmp_path):
    t = KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=model_file, imageLoader=pil_loader)
    expected = [r.preds for r in t.transform(uris).orderBy("uri").collect()]
    t.save(str(tmp_path / "stage"))
    loaded = KerasImageFileTransformer.load(str(tmp_path / "stage"))
    assert loaded.getImageLoader() is not None and loaded.getModelFile() == model_file
    assert [r.preds for r in loaded.transform(uris).orderBy("uri").collect()] == expected
