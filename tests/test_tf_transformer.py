"""TFTransformer on non-image columns, against Keras predict on the same values."""
import numpy as np
import pytest
from pyspark.ml.linalg import Vectors
from pyspark.sql import Row

from sparkdl import TFTransformer


@pytest.fixture(scope="module")
def two_in_two_out():
    """Functional model: a (2x3 matrix) and b (4 values) in; 'scores' (3) and 'total' (1) out."""
    import keras

    keras.utils.set_random_seed(5)
    a = keras.Input((2, 3), name="a")
    b = keras.Input((4,), name="b")
    h = keras.layers.Concatenate()([keras.layers.Flatten()(a), b])
    h = keras.layers.Dense(8, activation="tanh")(h)
    scores = keras.layers.Dense(3, activation="softmax", name="scores")(h)
    total = keras.layers.Dense(1, name="total")(h)
    return keras.Model([a, b], [scores, total])


@pytest.fixture(scope="module")
def table(spark):
    rng = np.random.default_rng(9)
    rows = []
    for i in range(23):
        a = rng.normal(size=6)
        b = rng.normal(size=4)
        rows.append(Row(id=i, a=[float(x) for x in a], b=Vectors.dense(b)))
    return spark.createDataFrame(rows).repartition(3)


def test_two_inputs_two_outputs_match_keras(table, two_in_two_out):
    t = TFTransformer(graph=two_in_two_out, inputMapping={"a": "a", "b": "b:0"},
                      outputMapping={"scores": "scores", "total:0": "total"}, batchSize=5)
    rows = t.transform(table).orderBy("id").collect()
    a = np.array([r.a for r in rows], np.float32).reshape(-1, 2, 3)
    b = np.array([r.b.toArray() for r in rows], np.float32)
    scores, total = two_in_two_out.predict([a, b], verbose=0)
    np.testing.assert_allclose(np.array([r.scores for r in rows]), scores, atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.array([r.total for r in rows]), total, atol=1e-5, rtol=0)


def test_scalar_and_double_columns_and_nulls(spark):
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    graph = freeze_function(lambda x, s: {"y": x * 2.0 + tf.expand_dims(s, 1), "n": tf.reduce_sum(x, axis=1)},
                            [tf.TensorSpec([None, 3], tf.float32, name="x"),
                             tf.TensorSpec([None], tf.float32, name="s")])
    df = spark.createDataFrame([(1, [1.0, 2.0, 3.0], 10), (2, None, 1), (3, [0.5, 0.5, 0.5], 2)],
                               "id int, x array<double>, s int")
    t = TFTransformer(graph=graph, inputMapping={"x": "x", "s": "s"}, outputMapping={"y": "y", "n": "n"})
    rows = t.transform(df).orderBy("id").collect()
    assert rows[0].y == [12.0, 14.0, 16.0] and rows[0].n == 6.0
    assert rows[1].y is None and rows[1].n is None  # null input -> null outputs, row kept
    assert rows[2].y == [3.0, 3.0, 3.0] and rows[2].n == 1.5


def test_size_mismatch_names_both_shapes(spark, two_in_two_out):
    df = spark.createDataFrame([([1.0] * 5, [1.0] * 4)], "a array<float>, b array<float>")
    t = TFTransformer(graph=two_in_two_out, inputMapping={"a": "a", "b": "b"}, outputMapping={"total": "t"})
    with pytest.raises(Exception) as e:
        t.transform(df).collect()
    assert "Column 'a' has a row of 5 values" in str(e.value) and "[?,2,3] takes 6" in str(e.value)


def test_unknown_tensors_list_the_graph(spark, table, two_in_two_out):
    t = TFTransformer(graph=two_in_two_out, inputMapping={"a": "aa", "b": "b"}, outputMapping={"total": "t"})
    with pytest.raises(Exception) as e:
        t.transform(table)
    assert "'aa:0'" in str(e.value) and "a:0 float [?,2,3]" in str(e.value) and "b:0 float [?,4]" in str(e.value)
    t = TFTransformer(graph=two_in_two_out, inputMapping={"a": "a", "b": "b"}, outputMapping={"totl": "t"})
    with pytest.raises(Exception) as e:
        t.transform(table)
    assert "'totl:0'" in str(e.value) and "total:0" in str(e.value)


def test_persistence(table, two_in_two_out, tmp_path):
    t = TFTransformer(graph=two_in_two_out, inputMapping={"a": "a", "b": "b"}, outputMapping={"scores": "s"})
    t.save(str(tmp_path / "t"))
    loaded = TFTransformer.load(str(tmp_path / "t"))
    assert loaded.getInputMapping() == {"a": "a:0", "b": "b:0"} and loaded.getOutputMapping() == {"scores:0": "s"}
    assert [r.s for r in loaded.transform(table).orderBy("id").collect()] == \
        [r.s for r in t.transform(table).orderBy("id").collect()]
