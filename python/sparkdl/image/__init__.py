"""Image helpers: Spark's image struct <-> numpy / PIL, and reading image files."""
from sparkdl.image import imageIO

__all__ = ["imageIO"]
