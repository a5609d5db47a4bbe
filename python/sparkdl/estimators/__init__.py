"""Deprecated: the original library's ``sparkdl.estimators``; use :mod:`sparkdl.ml`."""
from sparkdl._compat import moved
from sparkdl.ml import KerasImageFileEstimator

moved("sparkdl.estimators", "sparkdl.ml (or sparkdl)")

__all__ = ["KerasImageFileEstimator"]
