"""Deprecated: use ``sparkdl.ml.TFTransformer``."""
from sparkdl._compat import moved
from sparkdl.ml import TFTransformer

moved("sparkdl.transformers.tf_tensor", "sparkdl.ml")

__all__ = ["TFTransformer"]
