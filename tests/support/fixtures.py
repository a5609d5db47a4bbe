"""What the Python tests share: real photos that ship inside scikit-image and scikit-learn,
written as JPEG and PNG files of several sizes and channel layouts, plus broken files; the
demo's labelled shapes; and the Keras-side view of images to compare against."""
import hashlib
import os
import re

import numpy as np
from PIL import Image

from examples.sample_images import write_shapes  # noqa: F401  (the demo's labelled shapes, also for tests)
from sparkdl.image.imageIO import imageStructToArray

#: the source tree's root
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: files readImages must decode, with the channel count Spark should give them
GOOD = {
    "chelsea.jpg": 3, "coffee.png": 3, "astronaut_small.jpg": 3, "china.jpg": 3,
    "camera_gray.png": 1, "moon_gray.jpg": 1, "logo_rgba.png": 4, "rocket_tall.png": 3,
}
#: files that must come back as null images with a reason
BAD = ["zero_bytes.jpg", "truncated.jpg", "corrupt.png", "notes.txt"]


def write_sample_images(directory):
    import skimage.data as data
    from sklearn.datasets import load_sample_images

    def save(name, arr, **kw):
        Image.fromarray(arr).save(os.path.join(directory, name), **kw)

    save("chelsea.jpg", data.chelsea(), quality=92)
    save("coffee.png", data.coffee())
    save("astronaut_small.jpg", np.asarray(Image.fromarray(data.astronaut()).resize((97, 131))), quality=90)
    save("china.jpg", load_sample_images().images[0], quality=90)
    save("camera_gray.png", data.camera())
    save("moon_gray.jpg", data.moon(), quality=95)
    save("logo_rgba.png", data.logo())
    save("rocket_tall.png", np.ascontiguousarray(data.rocket().transpose(1, 0, 2)[::2, ::2]))

    open(os.path.join(directory, "zero_bytes.jpg"), "wb").close()
    with open(os.path.join(directory, "chelsea.jpg"), "rb") as f:
        jpeg = f.read()
    with open(os.path.join(directory, "truncated.jpg"), "wb") as f:
        f.write(jpeg[:200])
    with open(os.path.join(directory, "corrupt.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with open(os.path.join(directory, "notes.txt"), "w") as f:
        f.write("not an image\n")
    return directory


def keras_inputs(image_rows, height, width):
    """What a Keras user feeds: RGB float 0-255, tf.image.resize bilinear, no antialias."""
    import tensorflow as tf

    batch = []
    for row in image_rows:
        arr = imageStructToArray(row)
        rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[:, :, [2, 1, 0]]
        batch.append(tf.image.resize(rgb.astype(np.float32), (height, width), method="bilinear",
                                     antialias=False).numpy())
    return np.stack(batch)


def assert_close_relative(got, expected, rel=1e-4):
    scale = max(1e-6, float(np.abs(expected).max()))
    err = float(np.abs(got - expected).max())
    assert err <= rel * scale, "max abs error %.3g > %.1g x scale %.3g" % (err, rel, scale)


def runs_by_engine(df):
    """{engine: model runs} of a DataFrame that has run (its plan's model node metrics)."""
    from sparkdl._jvm import python_api

    return dict(python_api().modelRunsByEngine(df._jdf))


def image_rows(df):
    """``{file name: [[height, width, channels, sha256 of the pixels] or None, imageError]}`` of a
    readImages DataFrame (lists, so that it survives JSON from a Spark Connect client)."""
    rows = {}
    for r in df.collect():
        img = r.image
        pixels = None if img is None else [img.height, img.width, img.nChannels,
                                           hashlib.sha256(bytes(img.data)).hexdigest()]
        rows[os.path.basename(r.filePath)] = [pixels, r.imageError]
    return rows


def small_onnx_cnn(path, height=40, width=56, seed=2):
    """A PyTorch-style ONNX image model saved at ``path``: pixels float [N, 3, h, w] (channels first)
    -> conv 3x3 -> relu -> global average pool -> [N, 4]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array((rng.normal(size=(4, 3, 3, 3)) / 50).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.normal(size=(4,)).astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["pixels", "W", "B"], ["c"], kernel_shape=[3, 3], strides=[2, 2]),
         helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["g"]),
         helper.make_node("Flatten", ["g"], ["features"])],
        "cnn", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 3, height, width])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 4])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def varied_strings(n=2400, seed=3):
    """Words from the vocabulary and outside it, punctuation, accents, CJK, emoji, very long words,
    runs of whitespace and control characters, empty strings."""
    rng = np.random.default_rng(seed)
    pools = [
        "the quick brown fox jumps over the lazy dog".split(),
        ["Straße", "café", "naïve", "Ångström", "résumé", "ÉCOLE", "façade", "İstanbul", "ΣΟΦΙΑ", "ὀδυσσεύς"],
        ["日本語", "中文字符", "한국어", "漢字かな", "𠀀𠀁", "ภาษาไทย", "עברית", "العربية"],
        ["😀", "🚀🚀", "👍🏽", "❤️", "🇫🇷", "☕"],
        ["!", "?", "...", "--", "(", ")", "[x]", "$5", "3.14", "a+b=c", "<tag>", "^_^", "@user", "#hash", "~", "`q`",
         "«quote»", "“smart”", "—", "…", "¿", "¡"],
        ["unbelievably", "antidisestablishmentarianism", "x" * 120, "tokenization", "WordPiece", "BERT", "COVID-19",
         "e-mail", "don't", "it's", "U.S.A.", "www.example.com", "foo_bar", "CamelCaseWord"],
        ["\t", "\n", "  ", "\u00a0", "\u3000", "\u200b", "\x00", "\ufffd", "\u0007", "\r\n", "\u2028", "\u0301",
         "e\u0301"],
    ]
    out = ["", " ", "\t\n"]
    while len(out) < n:
        k = int(rng.integers(1, 25))
        parts = []
        for _ in range(k):
            pool = pools[int(rng.integers(0, len(pools)))]
            parts.append(pool[int(rng.integers(0, len(pool)))])
        sep = [" ", "", "  ", "\t"][int(rng.integers(0, 4))]
        out.append(sep.join(parts))
    return out


def write_tokenizers(directory):
    """``tokenizer.json`` files of each model family Hugging Face ``tokenizers`` builds, trained here
    offline on varied text: {name: path}. all-MiniLM-L6-v2's real file comes from its package."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    from sparkdl.models.text import model_folder

    corpus = varied_strings(n=3000, seed=11) + [
        "Deep Learning Pipelines for Apache Spark: images and text at scale, from Python and Scala.",
        "Les élèves ont étudié à l'école; naïve façade, résumé, coöperate. 東京都の天気は晴れです。",
    ] * 20

    def specials(tok, *names):
        return [(n, tok.token_to_id(n)) for n in names]

    paths = {"minilm": os.path.join(model_folder("all-MiniLM-L6-v2"), "tokenizer.json")}

    # byte-level BPE (GPT-2's alphabet) with RoBERTa's post-processor: <s> ... </s>
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=1200, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bpe.post_processor = processors.RobertaProcessing(*specials(bpe, "</s>", "<s>"))

    # Unigram (SentencePiece's model) after NFKC, words marked by Metaspace, as XLM-R and T5 are
    unigram = Tokenizer(models.Unigram())
    unigram.normalizer = normalizers.NFKC()
    unigram.pre_tokenizer = pre_tokenizers.Metaspace()
    unigram.train_from_iterator(corpus, trainers.UnigramTrainer(
        vocab_size=900, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"))
    unigram.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=specials(unigram, "</s>"))

    # WordPiece without lowercasing or accent stripping (a cased BERT)
    cased = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    cased.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False)
    cased.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cased.train_from_iterator(corpus, trainers.WordPieceTrainer(
        vocab_size=1200, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"]))
    cased.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=specials(cased, "[CLS]", "[SEP]"))

    # byte-level BPE without any pad token (as GPT-2's): padding to max_length must be refused
    nopad = Tokenizer(models.BPE())
    nopad.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    nopad.train_from_iterator(corpus[:500], trainers.BpeTrainer(
        vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))

    for name, tok in [("bpe_roberta", bpe), ("unigram_nfkc_metaspace", unigram), ("wordpiece_cased", cased),
                      ("bpe_no_pad", nopad)]:
        paths[name] = os.path.join(directory, name + ".json")
        tok.save(paths[name])
    return paths


def mpnet_bucket(key_minus_query, buckets=32, max_distance=128):
    """MPNet's relative-position bucket of one distance, step by step as transformers' MPNet computes
    it (float32 logarithm, truncated): half the buckets for keys before the query, half after."""
    n = -key_minus_query
    half = buckets // 2
    out = half if n < 0 else 0
    n = abs(n)
    exact = half // 2
    if n < exact:
        return out + n
    large = exact + int(np.float32(np.log(np.float32(n) / np.float32(exact)) / np.float32(np.log(max_distance / exact)))
                        * np.float32(half - exact))
    return out + min(large, half - 1)


def numpy_encoder(weights, settings, ids, mask):
    """BERT from its equations, in NumPy (RoBERTa's positions start after the padding id; MPNet adds a
    relative-position bias per head to every layer's attention scores and has no token types):
    embeddings, post-LN blocks (softmax attention, exact GELU), the settings' pooling over the mask and
    L2 normalization."""
    from math import erf, sqrt

    w = weights
    verf = np.vectorize(erf)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + settings["eps"]) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x, p):
        return x @ w[p + ".weight"].T + w[p + ".bias"]
    b, s = ids.shape
    heads, hidden = settings["heads"], settings["hidden"]
    d = hidden // heads
    if settings.get("positionOffset"):  # RoBERTa: positions count the mask from padding_idx + 1
        counted = np.cumsum(mask.astype(np.int64), axis=1) * mask.astype(np.int64) + settings["positionOffset"] - 1
        positions = w["embeddings.position_embeddings.weight"][counted]
    else:
        positions = w["embeddings.position_embeddings.weight"][:s][None]
    x = w["embeddings.word_embeddings.weight"][ids] + positions
    if "embeddings.token_type_embeddings.weight" in w:
        x = x + w["embeddings.token_type_embeddings.weight"][0]
    x = ln(x.astype(np.float64), "embeddings.LayerNorm")
    mpnet = settings.get("modelType") == "mpnet"
    names = (["attention.attn." + n for n in "qkvo"] + ["attention.LayerNorm"] if mpnet else
             ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
              "attention.output.LayerNorm"])
    relative = 0
    if mpnet:
        table = w["encoder.relative_attention_bias.weight"]  # [buckets, heads]
        bucket = np.array([[mpnet_bucket(kk - qq, settings["relativeBuckets"]) for kk in range(s)] for qq in range(s)])
        relative = table[bucket].transpose(2, 0, 1)[None]  # [1, heads, q, k]
    for i in range(settings["layers"]):
        p = "encoder.layer.%d." % i
        q, k, v = (lin(x, p + n).reshape(b, s, heads, d).transpose(0, 2, 1, 3) for n in names[:3])
        scores = q @ k.transpose(0, 1, 3, 2) / sqrt(d) + relative + ((1 - mask) * -1e9)[:, None, None, :]
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        ctx = (scores / scores.sum(-1, keepdims=True)) @ v
        x = ln(lin(ctx.transpose(0, 2, 1, 3).reshape(b, s, hidden), p + names[3]) + x, p + names[4])
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + verf(h / sqrt(2)))
        x = ln(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    return numpy_pooled(x, mask, settings.get("pooling", "mean"), settings.get("normalize", True))


def numpy_pooled(x, mask, pooling, normalize):
    """sentence-transformers' pooling of token vectors ``x`` [batch, seq, hidden] over ``mask``, then L2."""
    count = np.maximum(mask.sum(1, keepdims=True), 1e-9)
    if pooling == "cls":
        pooled = x[:, 0]
    elif pooling == "max":
        pooled = np.where(mask[:, :, None] > 0, x, -1e9).max(1)
    else:
        pooled = (x * mask[:, :, None]).sum(1) / (np.sqrt(count) if pooling == "mean_sqrt_len" else count)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True) if normalize else pooled


def mlp(path, seed=0):
    """An ONNX model written to ``path``: x float [N, 4] -> y = relu(x W + b) [N, 3], s = sum(y) [N]; batch
    dynamic. Returns the path."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.normal(size=(4, 3)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.normal(size=(3,)).astype(np.float32), "b")
    axes = numpy_helper.from_array(np.array([1], np.int64), "axes")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["pre"]),
         helper.make_node("Relu", ["pre"], ["y"]),
         helper.make_node("ReduceSum", ["y", "axes"], ["s"], keepdims=0)],
        "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("s", TensorProto.FLOAT, ["batch"])], [w, b, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def pil_loader(uri):
    """A user's loader: Pillow decode, RGB, 64x48 with Pillow's bilinear, scaled to [0, 1] * 255."""
    from PIL import Image

    path = uri[len("file:"):] if uri.startswith("file:") else uri
    img = Image.open(path).convert("RGB").resize((64, 48), Image.BILINEAR)
    return np.asarray(img, np.float32)[None]  # with a batch dimension, as Keras users often return


def load_image(uri):
    """URI -> 32x32 RGB floats in [0, 1]."""
    from PIL import Image

    path = uri[len("file:"):] if uri.startswith("file:") else uri
    return np.asarray(Image.open(path).convert("RGB").resize((32, 32), Image.BILINEAR), np.float32) / 255.0


def readme_block(title):
    """The first ```python block under the README heading ``title``."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## %s\n" % title):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def onnx_with_local_functions(path, functions, top):
    """An ONNX model whose graph is one node `top` of domain pkg.local, over model-local functions (as
    PyTorch's exporter writes models): `functions` maps a name to the op its body calls."""
    from onnx import TensorProto, helper, save

    opsets = [helper.make_opsetid("", 18), helper.make_opsetid("pkg.local", 1)]
    bodies = [helper.make_function("pkg.local", name, ["x"], ["y"],
                                   [helper.make_node(op, ["x"], ["y"], domain=domain)], opsets)
              for name, (op, domain) in functions.items()]
    graph = helper.make_graph([helper.make_node(top, ["x"], ["y"], domain="pkg.local")], "local",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    save(helper.make_model(graph, functions=bodies, opset_imports=opsets), path)
    return path
