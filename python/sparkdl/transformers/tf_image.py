"""Deprecated: use ``sparkdl.ml.TFImageTransformer``."""
from sparkdl._compat import moved
from sparkdl.ml import TFImageTransformer

moved("sparkdl.transformers.tf_image", "sparkdl.ml")

__all__ = ["TFImageTransformer"]
