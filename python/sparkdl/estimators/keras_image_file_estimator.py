"""Deprecated: use ``sparkdl.ml.KerasImageFileEstimator``."""
from sparkdl._compat import moved
from sparkdl.ml import KerasImageFileEstimator

moved("sparkdl.estimators.keras_image_file_estimator", "sparkdl.ml.KerasImageFileEstimator")

__all__ = ["KerasImageFileEstimator"]
