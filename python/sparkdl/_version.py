"""The version of this install: the one place that knows it (``sparkdl.__version__`` re-exports it)."""

#: The name this package is installed by (``pip install sparkdl-pipelines``); it is imported as ``sparkdl``.
DISTRIBUTION = "sparkdl-pipelines"


def _version() -> str:
    """The version this package was installed as (setup.py reads it from version.properties)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "unknown"


__version__ = _version()
