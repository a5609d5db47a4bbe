"""Image helpers: Spark's image struct <-> numpy / PIL, reading image files, and a grid of
thumbnails to look at a DataFrame's images (``sparkdl.image.display``)."""
from sparkdl.image import imageIO
from sparkdl.image.display import ImageGrid, display

__all__ = ["imageIO", "display", "ImageGrid"]
