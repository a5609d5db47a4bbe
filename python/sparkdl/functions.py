"""Column functions over sparkdl's SQL functions (Scala: ``sparkdl.functions``), for DataFrame code.

``decode_image(file[, path])``: encoded image bytes (``binary``, as ``binaryFile``'s ``content``, or a
``struct<bytes, path>`` as a Hugging Face dataset stores images) decoded as ``readImages`` decodes
files, into ``struct<image, imageError>``. A model stage takes such bytes directly (decoded in its
batch loop, no full-size image row); decode first only to look at, filter or cache the images.

``tokenize(tokenizer, text[, maxLength, padding])``: a string's token ids and attention mask from a
Hugging Face ``tokenizer.json``, as ``TextTokenizer`` makes them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Union, cast

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession

__all__ = ["decode_image", "tokenize"]

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


def tokenize(tokenizer: str, text: ColumnOrName, maxLength: int = 0, padding: str = "none") -> Column:
    """``sparkdl_tokenize(tokenizer, text, maxLength, padding)``: ``struct<input_ids: array<bigint>,
    attention_mask: array<bigint>>`` of a string column, as :class:`sparkdl.TextTokenizer` makes it.

    :param tokenizer: a ``tokenizer.json``, or a folder holding one (any Hadoop file system; on Spark
        Connect a local file is uploaded first)
    :param text: a string column
    :param maxLength: most ids per text, special tokens included (0: the file's, else 512)
    :param padding: ``none``, or ``max_length`` (every text ``maxLength`` ids)
    """
    from pyspark.sql import functions as F

    from sparkdl._session import is_connect, sparkdl_session
    from sparkdl.ml.tokenizer import local_tokenizer_file

    spark = sparkdl_session("tokenize")
    local = local_tokenizer_file(tokenizer) if is_connect(spark) else None
    if local is not None:  # a Connect server reads the client's file as an artifact of the session
        from sparkdl.graph.artifacts import upload_model_file

        tokenizer = upload_model_file(cast("ConnectSparkSession", spark), local)
    return F.call_function("sparkdl_tokenize", F.lit(tokenizer), F.col(text) if isinstance(text, str) else text,
                           F.lit(maxLength), F.lit(padding))
