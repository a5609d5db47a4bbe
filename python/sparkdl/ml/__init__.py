"""Spark ML stages; each wraps the Scala class of the same name in ``sparkdl.ml``."""
from sparkdl.ml.tf_image import TFImageTransformer

__all__ = ["TFImageTransformer"]
