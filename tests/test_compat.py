"""The original library's import paths and constructors, kept as deprecated aliases."""
import importlib
import os
import sys

import numpy as np
import pytest

import sparkdl
from tests.support import fixtures


@pytest.mark.parametrize("module, names", [
    ("sparkdl.estimators.keras_image_file_estimator", ["KerasImageFileEstimator"]),
    ("sparkdl.transformers.named_image", ["DeepImageFeaturizer", "DeepImagePredictor"]),
    ("sparkdl.transformers.keras_image", ["KerasImageFileTransformer"]),
    ("sparkdl.transformers.tf_image", ["TFImageTransformer"]),
    ("sparkdl.transformers.tf_tensor", ["TFTransformer"]),
    ("sparkdl.transformers.keras_tensor", ["KerasTransformer"]),
    ("sparkdl.graph.utils", ["op_name", "tensor_name"]),
])
def test_old_import_paths_work_and_say_where_things_moved(module, names):
    sys.modules.pop(module, None)
    with pytest.warns(DeprecationWarning, match="is deprecated: use"):
        mod = importlib.import_module(module)
    for name in names:
        assert getattr(mod, name) is getattr(sparkdl.ml, name, None) or module == "sparkdl.graph.utils"


def test_graph_utils_names():
    from sparkdl.graph.utils import op_name, tensor_name

    assert tensor_name("x") == "x:0" and tensor_name("x:1") == "x:1" and op_name("x:0") == "x"


def run(spark, graph, inputs, outputs, rows):
    df = spark.createDataFrame([(i, r) for i, r in enumerate(rows)], ["id", "x"])
    t = sparkdl.TFTransformer(tfInputGraph=graph, inputMapping={"x": inputs}, outputMapping={outputs: "y"})
    return np.array([r.y for r in t.transform(df).orderBy("id").collect()])


def test_tf_input_graph_from_graph_def_graph_and_saved_model(spark, tmp_path):
    import tensorflow as tf

    from sparkdl.graph.input import TFInputGraph

    rows = [[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]]
    w = np.array([[1.0, -2.0], [0.5, 1.0], [2.0, 0.0]], np.float32)
    expected = np.array(rows, np.float32) @ w + 1.0

    g = tf.Graph()  # TensorFlow 1 style: a graph, a variable, a session
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        v = tf.compat.v1.get_variable("w", initializer=w)
        tf.identity(tf.matmul(x, v) + 1.0, name="y")
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            with pytest.warns(DeprecationWarning):
                from_graph = TFInputGraph.fromGraph(g, sess, ["x"], ["y"])
    np.testing.assert_allclose(run(spark, from_graph, "x:0", "y:0", rows), expected, rtol=1e-6)
    with pytest.warns(DeprecationWarning):
        from_def = TFInputGraph.fromGraphDef(from_graph.graph_def, ["x:0"], ["y"])
    np.testing.assert_allclose(run(spark, from_def, "x:0", "y:0", rows), expected, rtol=1e-6)

    class Affine(tf.Module):
        def __init__(self):
            self.w = tf.Variable(w)

        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def serve(self, features):
            return {"scores": tf.matmul(features, self.w) + 1.0}

    module = Affine()
    tf.saved_model.save(module, str(tmp_path / "saved"), signatures={"serving_default": module.serve})
    saved = TFInputGraph.fromSavedModel(str(tmp_path / "saved"), "serve", "serving_default")
    np.testing.assert_allclose(run(spark, saved, "features:0", "scores:0", rows), expected, rtol=1e-6)


def test_tf_input_graph_from_tensorflow_1_checkpoints(spark, tmp_path):
    """fromCheckpoint (names given) and fromCheckpointWithSignature (the meta graph's signature), on
    what tf.compat.v1.train.Saver writes, against the session's own numbers."""
    import tensorflow as tf

    from sparkdl.graph.input import TFInputGraph

    rows = [[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]]
    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [None, 3], name="x")
        v = tf.compat.v1.get_variable("w", [3, 2], initializer=tf.compat.v1.random_normal_initializer(seed=1))
        y = tf.nn.relu(tf.matmul(x, v) + 0.5, name="y")
        with tf.compat.v1.Session(graph=g) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            expected = sess.run(y, {x: rows})
            saver = tf.compat.v1.train.Saver()
            prefix = saver.save(sess, str(tmp_path / "ckpt" / "model"), global_step=7)
            meta = saver.export_meta_graph()  # the same graph, with a signature, written over the .meta
            meta.signature_def["serving_default"].CopyFrom(
                tf.compat.v1.saved_model.predict_signature_def(inputs={"features": x}, outputs={"scores": y}))
            open(prefix + ".meta", "wb").write(meta.SerializeToString())
    assert np.abs(expected).max() > 0.1

    graph = TFInputGraph.fromCheckpoint(str(tmp_path / "ckpt"), ["x"], ["y"])
    assert (graph.inputs, graph.outputs) == (["x:0"], ["y:0"])
    np.testing.assert_allclose(run(spark, graph, "x:0", "y:0", rows), expected, rtol=1e-6)
    signed = TFInputGraph.fromCheckpointWithSignature(str(tmp_path / "ckpt"), "serving_default")
    assert (signed.inputs, signed.outputs) == (["features:0"], ["scores:0"])
    np.testing.assert_allclose(run(spark, signed, "features:0", "scores:0", rows), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="has no signature 'predict'; its signatures: \\['serving_default'\\]"):
        TFInputGraph.fromCheckpointWithSignature(prefix, "predict")
    with pytest.raises(ValueError, match="holds no TensorFlow 1 checkpoint"):
        TFInputGraph.fromCheckpoint(str(tmp_path), ["x"], ["y"])


def test_read_images_with_custom_fn(spark, image_dir):
    from PIL import Image

    from sparkdl.image import imageIO

    def pil_bgr(data):
        import io

        arr = np.asarray(Image.open(io.BytesIO(data)))
        return arr[:, :, ::-1].copy() if arr.ndim == 3 and arr.shape[2] == 3 else None

    with pytest.warns(DeprecationWarning):
        df = imageIO.readImagesWithCustomFn(image_dir, decode_f=pil_bgr, numPartition=2)
    rows = {os.path.basename(r.filePath): r for r in df.collect()}
    assert set(rows) == set(fixtures.GOOD) | set(fixtures.BAD)
    reference = {os.path.basename(r.filePath): r.image for r in sparkdl.readImages(image_dir).collect()}
    for name, channels in fixtures.GOOD.items():
        if channels == 3 and name.endswith(".png"):  # lossless: Pillow and the JVM decode the same pixels
            assert np.array_equal(imageIO.imageStructToArray(rows[name].image),
                                  imageIO.imageStructToArray(reference[name])), name
    assert rows["notes.txt"].image is None and "decode_f failed: UnidentifiedImageError" in rows["notes.txt"].imageError
    assert rows["camera_gray.png"].image is None and rows["camera_gray.png"].imageError == "decode_f returned None"
