"""KerasTransformer: saved Keras files applied to a column, against Keras predict."""
import numpy as np
import pytest
from pyspark.sql import Row

from sparkdl import KerasTransformer


@pytest.fixture(scope="module")
def vectors(spark):
    rng = np.random.default_rng(4)
    return spark.createDataFrame([Row(id=i, x=[float(v) for v in rng.normal(size=10)]) for i in range(37)]) \
        .repartition(2)


def sequential(tmp_path, suffix=".keras"):
    import keras

    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    path = str(tmp_path / ("model" + suffix))
    model.save(path)
    return model, path


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_sequential_model_file_matches_predict(vectors, tmp_path, suffix):
    model, path = sequential(tmp_path, suffix)
    t = KerasTransformer(inputCol="x", outputCol="y", modelFile=path, batchSize=8)
    rows = t.transform(vectors).orderBy("id").collect()
    expected = model.predict(np.array([r.x for r in rows], np.float32), verbose=0)
    np.testing.assert_allclose(np.array([r.y for r in rows]), expected, atol=1e-5, rtol=0)


def test_recurrent_model_matches_predict(vectors, tmp_path):
    """Recurrent layers become TensorFlow loops, which sparkdl guards so a run can be stopped; the guard
    leaves the answers exact."""
    import keras

    keras.utils.set_random_seed(9)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Reshape((5, 2)), keras.layers.LSTM(6),
                              keras.layers.Dense(3)])
    path = str(tmp_path / "lstm.keras")
    model.save(path)
    rows = KerasTransformer(inputCol="x", outputCol="y", modelFile=path, batchSize=8).transform(vectors) \
        .orderBy("id").collect()
    expected = model.predict_on_batch(np.array([r.x for r in rows], np.float32))
    np.testing.assert_allclose(np.array([r.y for r in rows]), expected, atol=1e-5, rtol=0)


def test_a_recurrent_model_run_is_stopped_by_the_run_timeout(spark, tmp_path):
    """A Keras LSTM over 200,000 steps: its loop is guarded like any other, so spark.sparkdl.runTimeout stops it."""
    import keras

    steps = 200000
    model = keras.Sequential([keras.Input((steps,)), keras.layers.Reshape((steps, 1)), keras.layers.LSTM(4)])
    path = str(tmp_path / "long.keras")
    model.save(path)
    values = spark.createDataFrame([([0.5] * steps,)], "x array<float>")
    spark.conf.set("spark.sparkdl.runTimeout", "1s")
    try:
        with pytest.raises(Exception, match=r"The model run was stopped: it ran longer than "
                                            r"spark.sparkdl.runTimeout=1000ms"):
            KerasTransformer(inputCol="x", outputCol="y", modelFile=path).transform(values).collect()
    finally:
        spark.conf.unset("spark.sparkdl.runTimeout")


def test_lambda_models_are_refused_unless_allowed(vectors, tmp_path):
    import keras

    from sparkdl.graph.keras_io import UnsafeKerasModelError

    model = keras.Sequential([keras.Input((10,)), keras.layers.Lambda(lambda v: v * 3.0),
                              keras.layers.Dense(2)])
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(UnsafeKerasModelError, match="allowUnsafeDeserialization=True"):
        KerasTransformer(inputCol="x", outputCol="y", modelFile=path)
    t = KerasTransformer(inputCol="x", outputCol="y", modelFile=path, allowUnsafeDeserialization=True)
    rows = t.transform(vectors).orderBy("id").collect()
    np.testing.assert_allclose(np.array([r.y for r in rows]),
                               model.predict(np.array([r.x for r in rows], np.float32), verbose=0), atol=1e-5)


def test_custom_layers_resolve_on_the_driver(vectors, tmp_path):
    import keras

    @keras.saving.register_keras_serializable(package="sparkdl_test")
    class Scale(keras.layers.Layer):
        def __init__(self, factor=2.0, **kw):
            super().__init__(**kw)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return dict(super().get_config(), factor=self.factor)

    model = keras.Sequential([keras.Input((10,)), Scale(0.5), keras.layers.Dense(4)])
    path = str(tmp_path / "custom.keras")
    model.save(path)
    t = KerasTransformer(inputCol="x", outputCol="y", modelFile=path,
                         kerasCustomObjects={"sparkdl_test>Scale": Scale})
    rows = t.transform(vectors).orderBy("id").collect()
    np.testing.assert_allclose(np.array([r.y for r in rows]),
                               model.predict(np.array([r.x for r in rows], np.float32), verbose=0), atol=1e-5)


def test_persistence_needs_no_model_file(vectors, tmp_path):
    import os

    _, path = sequential(tmp_path)
    t = KerasTransformer(inputCol="x", outputCol="y", modelFile=path)
    expected = [r.y for r in t.transform(vectors).orderBy("id").collect()]
    t.save(str(tmp_path / "stage"))
    os.remove(path)
    loaded = KerasTransformer.load(str(tmp_path / "stage"))
    assert loaded.getModelFile() == path
    assert [r.y for r in loaded.transform(vectors).orderBy("id").collect()] == expected
