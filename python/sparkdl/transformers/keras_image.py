"""Deprecated: use ``sparkdl.ml.KerasImageFileTransformer``."""
from sparkdl._compat import moved
from sparkdl.ml import KerasImageFileTransformer

moved("sparkdl.transformers.keras_image", "sparkdl.ml")

__all__ = ["KerasImageFileTransformer"]
