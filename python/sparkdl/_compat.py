"""Deprecation warnings for the import paths of the original Deep Learning Pipelines library,
kept as thin aliases (the README's migration table lists them)."""
import warnings


def moved(old: str, new: str) -> None:
    """Warns that ``old`` is a deprecated spelling of ``new``."""
    warnings.warn("%s is deprecated: use %s" % (old, new), DeprecationWarning, stacklevel=3)
