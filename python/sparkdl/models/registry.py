"""The named image models: one entry per model, everything sparkdl needs to know about it.

Each entry says how Keras builds the model, its input size, the exact Keras
``preprocess_input`` it needs (folded into the exported graph, so the JVM feeds RGB
pixels 0-255), where the featurizer cuts (the input of the classifier layer
``predictions``: pooled features, or ``fc2`` for VGG), and the file name Keras caches
its ImageNet weights under.
"""
from __future__ import annotations

import collections
import json
import os
from typing import Any, Iterable, List

__all__ = ["ModelSpec", "MODELS", "model_names", "get_spec"]

ModelSpec = collections.namedtuple("ModelSpec", [
    "name",             # public name, as in modelName="ResNet50"
    "builder",          # "module:function" building the Keras model with (weights=..., include_top=True)
    "preprocessor",     # "module:function", Keras' preprocess_input for the model
    "height", "width",  # input size
    "feature_size",     # values per image from DeepImageFeaturizer
    "keras_weights_file",  # file Keras looks for in ~/.keras/models (None: not a Keras application)
])


def _read_table() -> collections.OrderedDict[str, ModelSpec]:
    with open(os.path.join(os.path.dirname(__file__), "image_models.json"), encoding="utf-8") as f:
        return collections.OrderedDict((row["name"], ModelSpec(**row)) for row in json.load(f))


#: The table itself is data: ``image_models.json`` beside this module (in the order of Scala's
#: ``NamedImageModels.names``, which a test checks).
MODELS = _read_table()


def model_names() -> List[str]:
    return list(MODELS)


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError("Unknown modelName '%s'%s. Valid names: %s" % (
            name, did_you_mean(str(name), MODELS), ", ".join(MODELS))) from None


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """``" (did you mean 'X'?)"`` for the one valid name ``name`` is most likely a slip of (its case, the
    only name it is a prefix of, or at most 2 letters off and no more than a quarter of the name),
    else ``""``: the same rule as Scala's ``ExportFolder.didYouMean``."""
    valid = list(valid)
    low = name.lower()
    prefixed = [v for v in valid if v.lower().startswith(low)] if low else []
    scored = sorted((_edits(low, v.lower()), v) for v in valid)
    near = [v for d, v in scored if d == 0 or d <= min(2, len(v) // 4)]
    best = near[:1] or (prefixed if len(prefixed) == 1 else [])
    return " (did you mean '%s'?)" % best[0] if best else ""


def _edits(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ca != cb))
    return row[-1]


def load_symbol(path: str) -> Any:
    """Imports ``"module:attribute"``."""
    import importlib

    module, attr = path.split(":")
    return getattr(importlib.import_module(module), attr)
