"""Deprecated: use ``sparkdl.ml.KerasTransformer``."""
from sparkdl._compat import moved
from sparkdl.ml import KerasTransformer

moved("sparkdl.transformers.keras_tensor", "sparkdl.ml")

__all__ = ["KerasTransformer"]
