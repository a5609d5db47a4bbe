"""Keras / tf.function -> frozen GraphDef export: the frozen graph computes what Keras does."""
import numpy as np
import pytest


def _run_frozen(graph, feeds):
    """Runs a FrozenGraph with TensorFlow Python (independent of the JVM)."""
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef.FromString(graph.graph_def)
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    fn = wrapped.prune([wrapped.graph.get_tensor_by_name(n) for n in graph.inputs],
                       [wrapped.graph.get_tensor_by_name(n) for n in graph.outputs])
    return [t.numpy() for t in fn(*[tf.constant(x) for x in feeds])]


def test_keras_model_freezes_to_a_graph_matching_predict(cnn, tmp_path):
    from sparkdl.graph import FrozenGraph, freeze_keras

    graph = freeze_keras(cnn)
    assert graph.inputs == ["input:0"] and graph.outputs == ["output:0"]
    x = np.random.default_rng(3).uniform(0, 255, size=(5, 48, 64, 3)).astype("float32")
    (got,) = _run_frozen(graph, [x])
    np.testing.assert_allclose(got, cnn.predict(x, verbose=0), atol=1e-5)
    graph.save(str(tmp_path / "g"))
    assert FrozenGraph.load(str(tmp_path / "g")) == graph


def test_multi_input_multi_output_function():
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])

    def fn(a, b):
        return {"sum": a + b, "proj": tf.matmul(a, w)}

    graph = freeze_function(fn, [tf.TensorSpec([None, 2], tf.float32, name="a"),
                                 tf.TensorSpec([None, 2], tf.float32, name="b")])
    assert graph.inputs == ["a:0", "b:0"] and graph.outputs == ["sum:0", "proj:0"]
    a = np.array([[1, 0], [0, 1]], np.float32)
    b = np.ones((2, 2), np.float32)
    s, p = _run_frozen(graph, [a, b])
    np.testing.assert_array_equal(s, a + b)
    np.testing.assert_array_equal(p, a @ w.numpy())


def test_unnamed_inputs_are_refused():
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    with pytest.raises(ValueError, match="no name"):
        freeze_function(lambda x: x, [tf.TensorSpec([None, 2], tf.float32)])
