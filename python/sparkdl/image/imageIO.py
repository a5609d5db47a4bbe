"""Spark image structs, numpy arrays and PIL images, and reading files into DataFrames.

A Spark image struct (``pyspark.ml.image.ImageSchema.columnSchema``) holds ``origin,
height, width, nChannels, mode, data``; ``data`` is row-major bytes with channels in
OpenCV order: BGR, BGRA, or one gray channel. Arrays here keep that order, so
``imageStructToArray(imageArrayToStruct(a))`` is ``a`` exactly.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np
from pyspark.sql import Row
from pyspark.sql.types import BinaryType, IntegerType, StringType, StructField, StructType

if TYPE_CHECKING:
    import os

    import numpy.typing as npt
    from PIL.Image import Image
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "imageSchema", "imageArrayToStruct", "imageStructToArray", "imageStructToPIL",
    "PIL_to_imageStruct", "readImages", "readImagesWithCustomFn",
]

#: Spark's image struct type (same as ``ImageSchema.columnSchema``).
imageSchema = StructType([
    StructField("origin", StringType(), True),
    StructField("height", IntegerType(), True),
    StructField("width", IntegerType(), True),
    StructField("nChannels", IntegerType(), True),
    StructField("mode", IntegerType(), True),
    StructField("data", BinaryType(), True),
])

#: The image data source's format name (Scala ``sparkdl.image.ImageDataSource``).
IMAGE_FORMAT = "sparkdl.image"

# OpenCV type codes of 8-bit images by channel count, as Spark's ImageSchema uses them.
_MODES = {1: 0, 3: 16, 4: 24}
# and of float32 images (TFImageTransformer's outputMode="image"): CV_32FC1, CV_32FC3, CV_32FC4
_FLOAT_MODES = {1: 5, 3: 21, 4: 29}


def is_encoded_like(data_type: Any) -> bool:
    """True for encoded image files a model takes: ``binary`` (``binaryFile``'s ``content``), or a struct
    of ``bytes: binary`` and optionally ``path: string`` (a Hugging Face ``datasets`` Image column)
    (Scala ``ImageFields.isEncodedLike``)."""
    if getattr(data_type, "typeName", lambda: None)() == "binary":
        return True
    fields = getattr(data_type, "fields", None)
    if fields is None:
        return False
    types = {f.name: f.dataType.typeName() for f in fields}
    return (len(types) == len(fields) and types.get("bytes") == "binary" and set(types) <= {"bytes", "path"}
            and types.get("path", "string") == "string")


#: what an image stage's input column may hold (Scala ``ImageFields.ImageInputTypes``)
IMAGE_INPUT_TYPES = ("an image struct %s, encoded image bytes (binary, as binaryFile's content) or "
                     "struct<bytes:binary,path:string> (a Hugging Face Image column)")


def is_image_like(data_type: Any) -> bool:
    """True for Spark's image struct, and for structs with its field names in any order whose numbers
    are any integer type and whose ``origin`` may be missing (``bigint`` when pandas or a dict made the
    rows, as MLflow's pyfunc serving does): the stages cast them (Scala ``ImageFields.isImageLike``)."""
    fields = getattr(data_type, "fields", None)
    if fields is None:
        return False
    types = {f.name: f.dataType.typeName() for f in fields}
    integral = {"byte", "short", "integer", "long"}
    return (len(types) == len(fields) and set(types) <= set(imageSchema.fieldNames())
            and types.get("data") == "binary" and types.get("origin", "string") == "string"
            and all(types.get(n) in integral for n in ("height", "width", "nChannels", "mode")))


def imageArrayToStruct(imgArray: npt.ArrayLike, origin: str = "") -> Row:
    """Spark image struct (a Row) from a uint8 array H x W (gray) or H x W x C, C in 1, 3, 4.

    Channels are taken as already in Spark's order (BGR / BGRA).
    """
    arr = np.asarray(imgArray)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in _MODES:
        raise ValueError("imageArrayToStruct expects an H x W or H x W x C array with C in (1, 3, 4), "
                         "got shape %s" % (arr.shape,))
    if arr.dtype != np.uint8:
        raise ValueError("imageArrayToStruct expects dtype uint8, got %s" % arr.dtype)
    h, w, c = arr.shape
    return Row(origin=origin, height=h, width=w, nChannels=c, mode=_MODES[c],
               data=bytearray(np.ascontiguousarray(arr).tobytes()))


def imageStructToArray(imageRow: Row) -> npt.NDArray[Any]:
    """Array H x W x C from a Spark image struct, channels in the struct's (BGR) order: uint8 for
    8-bit images, float32 for float images (modes CV_32FC1/3/4, as ``outputMode="image"`` gives)."""
    if imageRow is None:
        raise ValueError("imageStructToArray got a null image")
    for field in ("height", "width", "nChannels", "mode", "data"):
        if getattr(imageRow, field, None) is None:
            raise ValueError("imageStructToArray: the image struct's %s is null" % field)
    h, w, c = imageRow.height, imageRow.width, imageRow.nChannels
    if c not in _MODES:
        raise ValueError("imageStructToArray: nChannels is %s; only images with 1, 3 or 4 channels" % c)
    if imageRow.mode == _MODES[c]:
        dtype: Any = np.uint8
    elif imageRow.mode == _FLOAT_MODES[c]:
        dtype = np.dtype("<f4")
    else:
        raise ValueError("imageStructToArray: mode %s does not match nChannels %d (an image with %d channels has "
                         "mode %d, 8-bit, or %d, float32)" % (imageRow.mode, c, c, _MODES[c], _FLOAT_MODES[c]))
    data = bytes(imageRow.data)
    size = h * w * c * np.dtype(dtype).itemsize
    if h < 0 or w < 0 or len(data) != size:
        raise ValueError("imageStructToArray: data has %d bytes, but height x width x nChannels = %d x %d x %d "
                         "needs %d" % (len(data), h, w, c, size))
    return np.frombuffer(data, dtype=dtype).reshape(h, w, c)


def imageStructToPIL(imageRow: Row) -> Image:
    """PIL image (L, RGB or RGBA) from a Spark image struct; float pixels are rounded and clipped to 0-255."""
    from PIL import Image

    arr = imageStructToArray(imageRow)
    if arr.dtype != np.uint8:
        arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    c = arr.shape[2]
    if c == 1:
        return Image.fromarray(arr[:, :, 0], mode="L")
    if c == 3:
        return Image.fromarray(np.ascontiguousarray(arr[:, :, ::-1]), mode="RGB")
    rgba = np.ascontiguousarray(arr[:, :, [2, 1, 0, 3]])
    return Image.fromarray(rgba, mode="RGBA")


def PIL_to_imageStruct(img: Image, origin: str = "") -> Row:
    """Spark image struct from a PIL image; modes other than L/RGB/RGBA are converted to RGB."""
    if img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in img.getbands() else "RGB")
    arr = np.asarray(img)
    if img.mode == "RGB":
        arr = arr[:, :, ::-1]
    elif img.mode == "RGBA":
        arr = arr[:, :, [2, 1, 0, 3]]
    return imageArrayToStruct(arr, origin=origin)


def readImages(path: Union[str, os.PathLike[str]], recursive: bool = False, numPartitions: int = 0,
               maxPixels: int = 100_000_000, draftSize: Optional[Union[int, Sequence[int]]] = None,
               spark: Optional[SparkSession] = None, includeHidden: bool = False,
               maxBytes: int = 512 * 2 ** 20, applyExifOrientation: bool = False) -> DataFrame:
    """DataFrame ``filePath: string, image: <image struct>, imageError: string`` of the files at ``path``.

    Files are decoded on the executors. A file that cannot be decoded (corrupt,
    truncated, empty, not an image, or declaring more than ``maxPixels`` pixels) keeps
    its row with a null ``image`` and the reason in ``imageError``.

    :param path: file, directory or glob, on any Hadoop file system (read literally when it exists)
    :param recursive: also read sub-directories (each real directory once: symlink loops end)
    :param includeHidden: also list dot-files and dot-folders (``.x``, macOS ``._x``); ``_``-prefixed
        files (camera names such as ``_MG_0002.JPG``) are always listed
    :param numPartitions: repartition the files into this many partitions, at most one per file (0: about one per
        1,000 files, at least the default parallelism)
    :param maxPixels: images declaring more pixels are not decoded (null image + reason)
    :param maxBytes: files larger than this are not read (null image + reason). A file larger than
        64 KiB is recognised from its first 64 KiB (format, declared size) before the rest is read,
        so a video or an archive in the folder is never read whole
    :param applyExifOrientation: turn JPEGs upright as their EXIF orientation tag says (as Pillow's
        ``ImageOps.exif_transpose``). Default False: the pixels as stored, as Keras' ``load_img``
        and Pillow's ``Image.open`` give them (phone photos may then lie on their side)
    :param draftSize: ``(height, width)`` or one int for both: decode each JPEG directly at the
        smallest DCT scale (1/2, 1/4 or 1/8) that keeps it at least this large, as Pillow's
        ``Image.draft`` does; the ``image`` column then holds that smaller image. For models
        that resize to a small input anyway: faster decoding and smaller rows.
        Other formats decode at full size. None (default): every image at full size.
    :param spark: SparkSession, classic or Spark Connect (default: the active one)

    This is the data source ``spark.read.format("sparkdl.image")`` with these options, which
    Scala, SQL and Spark Connect clients can use directly.
    """
    from sparkdl._session import is_missing_data_source, missing_jar_error, sparkdl_session

    path = _path_argument("readImages", path)
    spark = sparkdl_session("readImages", spark)
    draft = _draft_size(draftSize)
    reader = (spark.read.format(IMAGE_FORMAT).option("recursive", bool(recursive))
              .option("includeHidden", bool(includeHidden))
              .option("numPartitions", int(numPartitions)).option("maxPixels", int(maxPixels))
              .option("maxBytes", int(maxBytes)).option("applyExifOrientation", bool(applyExifOrientation)))
    if draft:
        reader = reader.option("draftSize", "%d,%d" % draft)
    try:
        df = reader.load(path)
        _ = df.schema  # Spark Connect analyses lazily: list the files now, so errors surface here in both modes
    except Exception as e:
        if is_missing_data_source(e, IMAGE_FORMAT):
            raise missing_jar_error(spark, e) from e
        raise
    return df


def _path_argument(what: str, path: object) -> str:
    """``path`` as a string: a file, folder or glob (``str`` or ``os.PathLike``); anything else (a
    DataFrame, a list) is refused naming what was given."""
    import os

    if isinstance(path, (str, os.PathLike)):
        return os.fsdecode(os.fspath(path))
    hint = (" To decode images already in a DataFrame, read their files by path instead."
            if type(path).__name__ == "DataFrame" else "")
    raise TypeError("%s: path must be a file, folder or glob (str or os.PathLike), got %s.%s"
                    % (what, type(path).__name__, hint))


def _draft_size(draftSize: Optional[Union[int, Sequence[int]]]) -> Optional[Tuple[int, ...]]:
    if draftSize is None:
        return None
    size = (draftSize, draftSize) if isinstance(draftSize, int) else tuple(draftSize)
    if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
        raise ValueError("readImages: draftSize must be a positive int or a (height, width) pair of them, "
                         "got %r" % (draftSize,))
    return size


def readImagesWithCustomFn(path: Union[str, os.PathLike[str]], decode_f: Callable[[bytes], Any],
                           numPartition: Optional[int] = None, spark: Optional[SparkSession] = None) -> DataFrame:
    """The original library's reader with a user decoder (deprecated: ``readImages`` decodes in the
    JVM). ``decode_f(bytes) -> uint8 array`` (H x W or H x W x C, channels in Spark's BGR(A) order)
    runs in Python workers. Columns as ``readImages``: ``filePath``, ``image``, and ``imageError``,
    the reason where ``decode_f`` failed or returned None (the image is then null).
    """
    from pyspark.sql import functions as F

    from sparkdl._compat import moved
    from sparkdl._session import sparkdl_session

    moved("imageIO.readImagesWithCustomFn", "sparkdl.readImages (or a Python UDF of your own)")
    path = _path_argument("readImagesWithCustomFn", path)
    spark = sparkdl_session("readImagesWithCustomFn", spark)
    # binaryFile leaves empty files out; the image source lists every file (filePath alone decodes nothing)
    listed = spark.read.format(IMAGE_FORMAT).load(path).select("filePath")
    content = spark.read.format("binaryFile").load(path).select(F.col("path").alias("filePath"), "content")
    files = listed.join(content, "filePath", "left")
    if numPartition:
        files = files.repartition(int(numPartition))

    def decode(file_path: str, content: Optional[Union[bytes, bytearray]]) -> Tuple[Optional[Row], Optional[str]]:
        try:
            arr = decode_f(bytes(content or b""))
            if arr is None:
                return None, "decode_f returned None"
            return imageArrayToStruct(arr, origin=file_path), None
        except Exception as e:
            return None, "decode_f failed: %s: %s" % (type(e).__name__, e)

    result = StructType([StructField("image", imageSchema), StructField("imageError", StringType())])
    decoded = F.udf(decode, result, useArrow=False)("filePath", "content")
    return files.select("filePath", decoded["image"].alias("image"), decoded["imageError"].alias("imageError"))
