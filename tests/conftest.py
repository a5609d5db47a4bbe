"""Shared fixtures: one SparkSession with the sparkdl jar, real sample images on disk."""
import os

import numpy as np
import pytest

from tests.support import fixtures

MASTER = os.environ.get("SPARKDL_TEST_MASTER", "local[2]")


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory):
    """Named-model exports of this test run go to a temporary cache, not ~/.cache."""
    path = str(tmp_path_factory.mktemp("sparkdl-models"))
    old = os.environ.get("SPARKDL_MODEL_CACHE")
    os.environ["SPARKDL_MODEL_CACHE"] = path
    yield path
    if old is None:
        os.environ.pop("SPARKDL_MODEL_CACHE", None)
    else:
        os.environ["SPARKDL_MODEL_CACHE"] = old


@pytest.fixture(scope="session")
def spark():
    import sparkdl

    session = sparkdl.spark_session(
        MASTER, app_name="sparkdl-tests",
        **{"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4", "spark.driver.memory": "4g",
           "spark.executor.memory": "1g"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def one_engine(spark):
    """Named image models on one engine (ONNX Runtime) for the test: engine auto, the default, may run
    some batches on each engine while it measures, and the two agree within 1e-4 of scale only; tests
    that compare two paths to the same features more tightly than that pin one (``spark.sparkdl.engine``,
    which stages without an engine of their own and the SQL functions follow)."""
    from sparkdl.models.contract import Conf

    spark.conf.set(Conf.ENGINE, "onnx")
    yield "onnx"
    spark.conf.unset(Conf.ENGINE)


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory):
    """Real photos as JPEG and PNG (RGB, gray, RGBA; several sizes) plus broken files."""
    return fixtures.write_sample_images(str(tmp_path_factory.mktemp("images")))


@pytest.fixture(scope="session")
def cnn():
    """A small Keras CNN with random (seeded) weights, input 48x64x3."""
    import keras

    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input((48, 64, 3)),
        keras.layers.Rescaling(1.0 / 255),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    # Non-trivial BatchNorm statistics, so training=False matters.
    bn = model.layers[2]
    bn.moving_mean.assign(np.linspace(-0.2, 0.3, 8).astype("float32"))
    bn.moving_variance.assign(np.linspace(0.5, 2.0, 8).astype("float32"))
    return model
