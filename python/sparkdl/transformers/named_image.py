"""Deprecated: use ``sparkdl.ml.DeepImageFeaturizer``."""
from sparkdl._compat import moved
from sparkdl.ml import DeepImageFeaturizer, DeepImagePredictor

moved("sparkdl.transformers.named_image", "sparkdl.ml")

__all__ = ["DeepImageFeaturizer", "DeepImagePredictor"]
