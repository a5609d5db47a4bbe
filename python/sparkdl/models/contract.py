"""The export contract, Python's side: the Spark confs, files, ``model.json`` keys and values that the
exports written here and the JVM that reads them (Scala ``sparkdl.models.ExportFolder``) agree on. Every
name has its place under the same class as in Scala (``Key.INPUT_TENSOR`` is Scala's
``Key.InputTensor``); a test compares :func:`contract` with the JVM's."""
from __future__ import annotations

import re
from typing import Dict

__all__ = ["CacheKey", "Conf", "Engine", "Files", "Key", "Kind", "contract"]


class Conf:
    """The Spark confs of exports."""

    #: an export directory the JVM looks in before the export cache (Python exports nothing it holds)
    MODEL_DIR = "spark.sparkdl.modelDir"
    #: the export cache, for the JVM, when not the default (Python's is ``$SPARKDL_MODEL_CACHE``)
    MODEL_CACHE = "spark.sparkdl.modelCache"
    #: the engine of named image models when a stage sets none: tf, onnx or auto (the default)
    ENGINE = "spark.sparkdl.engine"


class CacheKey:
    """The export cache's sub-folders: named image models' default weights, and text models."""

    IMAGENET = "imagenet"
    TEXT = "text"


class Files:
    """The files of an export, in ``<dir>/<modelName>/``."""

    MODEL_JSON = "model.json"
    GRAPH = "graph.pb"
    ONNX = "model.onnx"
    INT8_ONNX = "model.int8.onnx"
    VOCAB = "vocab.txt"
    TOKENIZER = "tokenizer.json"


class Key:
    """The keys of ``model.json``."""

    MODEL_NAME = "modelName"
    KIND = "kind"
    ENGINE = "engine"
    GRAPH_SHA256 = "graphSha256"
    # a named image model: its input size and tensors
    HEIGHT = "height"
    WIDTH = "width"
    INPUT_TENSOR = "inputTensor"
    FEATURES_TENSOR = "featuresTensor"
    PREDICTIONS_TENSOR = "predictionsTensor"
    # a named image model's ONNX form: its digest (written only when it equals Keras' outputs), the largest
    # difference measured, or why there is none
    ONNX_SHA256 = "onnxSha256"
    ONNX_MAX_ERROR = "onnxMaxError"
    ONNX_REFUSED = "onnxRefused"
    # a named image model's int8 form (made from the ONNX form when asked for): its digest, or why there is none
    INT8_SHA256 = "int8Sha256"
    INT8_REFUSED = "int8Refused"
    # a text model: its tensors, token limit and tokenizer
    INPUT_IDS_TENSOR = "inputIdsTensor"
    ATTENTION_MASK_TENSOR = "attentionMaskTensor"
    TOKEN_TYPE_IDS_TENSOR = "tokenTypeIdsTensor"
    EMBEDDING_TENSOR = "embeddingTensor"
    MAX_LENGTH = "maxLength"
    TOKENIZER = "tokenizer"
    LOWERCASE = "lowercase"
    STRIP_ACCENTS = "stripAccents"
    CHINESE_CHARS = "chineseChars"


class Kind:
    """The values of ``model.json``'s ``kind`` (an image export written before kinds has none)."""

    IMAGE = "image"
    TEXT = "text"


class Engine:
    """The values of ``model.json``'s ``engine`` (none: a TensorFlow frozen graph)."""

    TENSORFLOW = "tf"
    ONNX = "onnx"


def _scala_name(constant: str) -> str:
    """``INPUT_TENSOR`` -> ``InputTensor`` (``IMAGENET`` -> ``ImageNet``, ``GRAPH_SHA256`` -> ``GraphSha256``:
    the few words Scala capitalizes inside are listed)."""
    special = {"IMAGENET": "ImageNet", "TENSORFLOW": "TensorFlow"}
    return "".join(special.get(w, w.capitalize()) for w in constant.split("_"))


def contract() -> Dict[str, str]:
    """Every name by its place, as Scala's ``ExportFolder.contract`` lists them: ``{"Key.InputTensor":
    "inputTensor", ...}``."""
    names = {}
    for group in (Conf, CacheKey, Files, Key, Kind, Engine):
        for constant, value in vars(group).items():
            if re.fullmatch(r"[A-Z][A-Z0-9_]*", constant):
                names["%s.%s" % (group.__name__, _scala_name(constant))] = value
    return names
