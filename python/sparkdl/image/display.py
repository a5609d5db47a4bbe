"""Looking at images in a DataFrame: a grid of thumbnails with a caption per image, as HTML in
Jupyter (the returned object renders itself) or as a PNG file anywhere else."""
from __future__ import annotations

import base64
import html
import io
from typing import TYPE_CHECKING, Any, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np

if TYPE_CHECKING:
    import os

    from PIL.Image import Image
    from pyspark.sql import DataFrame, Row

    _PathT = TypeVar("_PathT", bound=Union[str, os.PathLike[str]])

__all__ = ["display", "ImageGrid"]


def display(df: DataFrame, imageCol: str = "image", captionCol: Optional[str] = None, limit: int = 16,
            columns: int = 4, size: int = 160) -> ImageGrid:
    """An :class:`ImageGrid` of the first ``limit`` rows of ``df`` (classic or Spark Connect).

    :param imageCol: the Spark image struct column
    :param captionCol: a column shown under each image: a string or number, an array of
        ``struct<class, description, probability>`` (``DeepImagePredictor`` with
        ``decodePredictions``) shown as its descriptions and probabilities, or anything else
        as text. Default: the file's name (and for a null image, ``imageError``).
    :param size: the longest side of each thumbnail, in pixels

    >>> display(predictions, captionCol="top3")  # in Jupyter: the grid  # doctest: +SKIP
    >>> display(predictions, captionCol="top3").save("grid.png")  # elsewhere  # doctest: +SKIP
    """
    extra = [c for c in ("filePath", "imageError") if c in df.columns and not captionCol]
    rows = df.select(imageCol, *([captionCol] if captionCol else extra)).limit(int(limit)).collect()
    tiles: List[Tuple[Optional[Image], str]] = []
    for row in rows:
        image = row[imageCol]
        if captionCol:
            caption = _caption(row[captionCol])
        else:  # the file's name; for a null image, why
            d = row.asDict()
            caption = (d.get("filePath") or getattr(image, "origin", None) or "").rsplit("/", 1)[-1]
            if image is None and d.get("imageError"):
                caption += ": " + d["imageError"]
        tiles.append((None if image is None else _thumbnail(image, size), caption))
    return ImageGrid(tiles, columns, size)


class ImageGrid(object):
    """Thumbnails and captions; ``_repr_html_`` for notebooks, :meth:`save` for a PNG file."""

    def __init__(self, tiles: Sequence[Tuple[Optional[Image], str]], columns: int, size: int) -> None:
        self.tiles = tiles  # [(PIL image or None for a null image, caption)]
        self.columns = max(1, int(columns))
        self.size = size

    def __len__(self) -> int:
        return len(self.tiles)

    def _repr_html_(self) -> str:
        cells = []
        for img, caption in self.tiles:
            if img is None:
                picture = "<div style='width:%dpx;height:%dpx;background:#eee'>null image</div>" % (
                    self.size, self.size)
            else:
                buf = io.BytesIO()
                img.save(buf, format="PNG")
                picture = "<img src='data:image/png;base64,%s'/>" % base64.b64encode(buf.getvalue()).decode()
            cells.append("<div style='display:inline-block;margin:4px;vertical-align:top;width:%dpx'>%s"
                         "<div style='font-size:11px'>%s</div></div>" % (self.size, picture, html.escape(caption)))
        return "<div style='max-width:%dpx'>%s</div>" % ((self.size + 12) * self.columns, "".join(cells))

    def save(self, path: _PathT) -> _PathT:
        """Writes the grid as one PNG (captions drawn under each thumbnail); returns ``path``."""
        from PIL import Image, ImageDraw

        rows = (len(self.tiles) + self.columns - 1) // self.columns
        line = 14
        canvas = Image.new("RGB", (self.columns * (self.size + 8), max(1, rows) * (self.size + 3 * line)), "white")
        draw = ImageDraw.Draw(canvas)
        for i, (img, caption) in enumerate(self.tiles):
            x, y = (i % self.columns) * (self.size + 8), (i // self.columns) * (self.size + 3 * line)
            if img is None:
                draw.rectangle([x, y, x + self.size - 1, y + self.size - 1], fill="#eeeeee")
                draw.text((x + 4, y + 4), "null image", fill="black")
            else:
                canvas.paste(img, (x, y))
            for k, text in enumerate(_wrap(caption, self.size // 6)[:3]):
                draw.text((x, y + self.size + k * line), text, fill="black")
        canvas.save(path, format="PNG")
        return path


def _thumbnail(image: Row, size: int) -> Image:
    from PIL import Image

    from sparkdl.image.imageIO import imageStructToArray

    arr = imageStructToArray(image)
    if arr.shape[2] == 1:
        img = Image.fromarray(arr[:, :, 0], "L").convert("RGB")
    else:
        img = Image.fromarray(np.ascontiguousarray(arr[:, :, [2, 1, 0]]), "RGB")  # BGR(A) -> RGB
    img.thumbnail((size, size))
    return img


def _caption(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)) and value and hasattr(value[0], "asDict") and "description" in value[0]:
        return ", ".join("%s %.2f" % (c["description"], c["probability"]) for c in value)
    if isinstance(value, float):
        return "%.4g" % value
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _wrap(text: str, width: int) -> List[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = (line + " " + word).strip()
    return lines + ([line] if line else [])
