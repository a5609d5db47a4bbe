"""The named image models: one entry per model, everything sparkdl needs to know about it.

Each entry says how Keras builds the model, its input size, the exact Keras
``preprocess_input`` it needs (folded into the exported graph, so the JVM feeds RGB
pixels 0-255), where the featurizer cuts (the input of the classifier layer
``predictions``: pooled features, or ``fc2`` for VGG), and the file name Keras caches
its ImageNet weights under.
"""
from __future__ import annotations

import collections
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

_APPS = "keras.applications."

MODELS: collections.OrderedDict[str, ModelSpec] = collections.OrderedDict((spec.name, spec) for spec in [
    ModelSpec("InceptionV3", _APPS + "inception_v3:InceptionV3", _APPS + "inception_v3:preprocess_input",
              299, 299, 2048, "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"),
    ModelSpec("Xception", _APPS + "xception:Xception", _APPS + "xception:preprocess_input",
              299, 299, 2048, "xception_weights_tf_dim_ordering_tf_kernels.h5"),
    ModelSpec("ResNet50", _APPS + "resnet50:ResNet50", _APPS + "resnet50:preprocess_input",
              224, 224, 2048, "resnet50_weights_tf_dim_ordering_tf_kernels.h5"),
    ModelSpec("VGG16", _APPS + "vgg16:VGG16", _APPS + "vgg16:preprocess_input",
              224, 224, 4096, "vgg16_weights_tf_dim_ordering_tf_kernels.h5"),
    ModelSpec("VGG19", _APPS + "vgg19:VGG19", _APPS + "vgg19:preprocess_input",
              224, 224, 4096, "vgg19_weights_tf_dim_ordering_tf_kernels.h5"),
    ModelSpec("MobileNetV2", _APPS + "mobilenet_v2:MobileNetV2", _APPS + "mobilenet_v2:preprocess_input",
              224, 224, 1280, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"),
    ModelSpec("EfficientNetB0", _APPS + "efficientnet:EfficientNetB0", _APPS + "efficientnet:preprocess_input",
              224, 224, 1280, "efficientnetb0.h5"),
    ModelSpec("EfficientNetLite0", "sparkdl.models.efficientnet_lite0:efficientnet_lite0",
              "sparkdl.models.efficientnet_lite0:preprocess_input", 224, 224, 1280, None),
])


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
