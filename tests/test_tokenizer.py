"""TextTokenizer and sparkdl_tokenize (#31): any Hugging Face tokenizer.json in the executor JVM,
its ids against Python ``tokenizers`` (the same Rust library, called independently) for each model
family, truncation, padding, persistence and the errors."""
import json
import os
import shutil

import pytest

from tests import fixtures

KINDS = ["minilm", "bpe_roberta", "unigram_nfkc_metaspace", "wordpiece_cased"]


@pytest.fixture(scope="module")
def tokenizer_files(tmp_path_factory):
    return fixtures.write_tokenizers(str(tmp_path_factory.mktemp("tokenizers")))


@pytest.fixture(scope="module")
def texts():
    # accents, CJK, emoji, whitespace runs, control characters, empty strings, and over-long texts
    long_text = " ".join(fixtures.varied_strings(n=200, seed=5))
    return fixtures.varied_strings() + [long_text, long_text * 3, "   \t\n  ", "Ünïcödé  \u3000 空白  😀😀"]


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
    assert sql[0].t.input_ids == got[0][0][:0] + ref.encode("hello world").ids + [pad_id] * (
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
    with pytest.raises(Exception, match="sparkdl_tokenize: the tokenizer must be a constant string"):
        spark.sql("SELECT sparkdl_tokenize(text, text) FROM VALUES ('a') AS t(text)").collect()
