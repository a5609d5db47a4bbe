"""The engine-neutral stages: ImageModelTransformer and TensorModelTransformer take a model file of
either engine (an ONNX model, or a frozen TensorFlow graph as FrozenGraph.save writes it), the engine read
from the file; each against an independent computation (ONNX Runtime Python, TensorFlow or NumPy), saved
and loaded with the model inside. The original names (TFImageTransformer, TFTransformer, ONNXTransformer)
keep their tests in their own modules."""
import os

import numpy as np
import pytest

from tests.support.fixtures import keras_inputs, mlp, small_onnx_cnn

ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def images(spark, image_dir):
    from sparkdl import readImages

    return readImages(image_dir).filter("image IS NOT NULL").orderBy("filePath").cache()


def _by_file(df, column):
    return {os.path.basename(r.filePath): r[column] for r in df.collect()}


def test_an_onnx_file_through_the_image_stage_equals_onnx_runtime_and_survives_save(images, tmp_path):
    from sparkdl import ImageModelTransformer

    path = small_onnx_cnn(tmp_path / "cnn.onnx")
    stage = ImageModelTransformer(modelPath=path, outputCol="f", outputMode="array")
    assert (stage.getInputTensor(), stage.getOutputTensor()) == ("pixels", "features")
    rows = stage.transform(images).collect()
    pixels = keras_inputs([r.image for r in rows], 40, 56).transpose(0, 3, 1, 2)  # NHWC -> NCHW
    want = ort.InferenceSession(path).run(["features"], {"pixels": np.ascontiguousarray(pixels)})[0]
    assert len(rows) >= 8
    np.testing.assert_allclose(np.array([r.f for r in rows]), want, atol=1e-4)
    saved = str(tmp_path / "stage")
    stage.save(saved)
    os.remove(path)
    assert {f for f in os.listdir(saved) if not f.startswith(".")} == {"metadata", "model.onnx"}
    again = ImageModelTransformer.load(saved).transform(images).collect()
    assert [r.f for r in again] == [r.f for r in rows]


def test_a_frozen_graph_file_through_the_image_stage_equals_keras_and_the_graph_object_stage(images, cnn,
                                                                                               tmp_path):
    from sparkdl import ImageModelTransformer, TFImageTransformer
    from sparkdl.graph import freeze_keras

    graph = freeze_keras(cnn)
    graph.save(str(tmp_path / "cnn"))
    stage = ImageModelTransformer(modelPath=str(tmp_path / "cnn" / "graph.pb"), outputCol="p", outputMode="array")
    rows = stage.transform(images).collect()
    want = cnn.predict(keras_inputs([r.image for r in rows], 48, 64), verbose=0)
    assert np.abs(want - want.mean(axis=0)).max() > 1e-3
    np.testing.assert_allclose(np.array([r.p for r in rows]), want, atol=1e-5)
    old = TFImageTransformer(graph=cnn, outputCol="p", outputMode="array").transform(images).collect()
    assert [r.p for r in old] == [r.p for r in rows]  # one engine, one graph: the same floats
    saved = str(tmp_path / "stage")
    stage.save(saved)
    assert {"graph.pb", "graph.json"} <= set(os.listdir(saved))
    again = ImageModelTransformer.load(saved).transform(images).collect()
    assert [r.p for r in again] == [r.p for r in rows]


def test_the_tensor_stage_runs_an_onnx_file_and_a_frozen_graph_file_and_saves_both(spark, tmp_path):
    import tensorflow as tf

    from sparkdl import TensorModelTransformer
    from sparkdl.graph import freeze_function

    rng = np.random.default_rng(5)
    x = rng.normal(size=(20, 4)).astype(np.float32)
    df = spark.createDataFrame([(i, row.tolist()) for i, row in enumerate(x)], "id int, x array<float>")

    onnx_path = mlp(tmp_path / "mlp.onnx")
    onnx_stage = TensorModelTransformer(modelPath=onnx_path, inputMapping={"x": "x"}, outputMapping={"y": "y"})
    got = np.array([r.y for r in onnx_stage.transform(df).orderBy("id").collect()])
    np.testing.assert_allclose(got, ort.InferenceSession(onnx_path).run(["y"], {"x": x})[0], atol=1e-5)

    w = rng.normal(size=(4, 2)).astype(np.float32)
    graph = freeze_function(lambda v: tf.tanh(tf.matmul(v, w)), [tf.TensorSpec([None, 4], tf.float32, name="v")])
    graph.save(str(tmp_path / "g"))
    tf_stage = TensorModelTransformer(modelPath=str(tmp_path / "g" / "graph.pb"), inputMapping={"x": graph.inputs[0]},
                                      outputMapping={graph.outputs[0]: "t"})
    got = np.array([r.t for r in tf_stage.transform(df).orderBy("id").collect()])
    np.testing.assert_allclose(got, np.tanh(x @ w), atol=1e-5)

    for stage, column, saved in ((onnx_stage, "y", "onnx-stage"), (tf_stage, "t", "tf-stage")):
        before = [r[column] for r in stage.transform(df).orderBy("id").collect()]
        stage.save(str(tmp_path / saved))
        loaded = TensorModelTransformer.load(str(tmp_path / saved))
        assert [r[column] for r in loaded.transform(df).orderBy("id").collect()] == before


def test_onnx_transformer_still_takes_onnx_models_only(spark, tmp_path):
    import tensorflow as tf

    from sparkdl import ONNXTransformer
    from sparkdl.graph import freeze_function

    freeze_function(lambda v: v * 2.0, [tf.TensorSpec([None, 4], tf.float32, name="v")]).save(str(tmp_path / "g"))
    df = spark.createDataFrame([([1.0, 2.0, 3.0, 4.0],)], "x array<float>")
    stage = ONNXTransformer(modelPath=str(tmp_path / "g" / "graph.pb"), inputMapping={"x": "v:0"},
                            outputMapping={"output:0": "y"})
    with pytest.raises(Exception, match="is not an ONNX model"):
        stage.transform(df)
