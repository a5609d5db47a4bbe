"""Column functions over sparkdl's SQL functions (Scala: ``sparkdl.functions``), for DataFrame code.

``decode_image(file[, path])``: encoded image bytes (``binary``, as ``binaryFile``'s ``content``, or a
``struct<bytes, path>`` as a Hugging Face dataset stores images) decoded as ``readImages`` decodes
files, into ``struct<image, imageError>``. A model stage takes such bytes directly (decoded in its
batch loop, no full-size image row); decode first only to look at, filter or cache the images.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union

if TYPE_CHECKING:
    from pyspark.sql import Column

__all__ = ["decode_image"]

ColumnOrName = Union["Column", str]


def decode_image(file: ColumnOrName, path: Optional[ColumnOrName] = None) -> Column:
    """``sparkdl_decode_image(file[, path])``: ``struct<image: <Spark image struct>, imageError: string>``,
    the image (its ``origin`` the path) and null, or a null image and the reason the bytes do not decode.

    :param file: a ``binary`` column, or ``struct<bytes: binary, path: string>``
    :param path: a string column naming each row (default: the struct's ``path``, else null)
    """
    from pyspark.sql import functions as F

    from sparkdl._session import sparkdl_session

    sparkdl_session("decode_image")  # a classic session started without sparkdl gets the function here
    args = [F.col(file) if isinstance(file, str) else file]
    if path is not None:
        args.append(F.col(path) if isinstance(path, str) else path)
    return F.call_function("sparkdl_decode_image", *args)
