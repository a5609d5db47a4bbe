"""Deprecated: the original library's ``sparkdl.transformers``; use :mod:`sparkdl.ml`."""
