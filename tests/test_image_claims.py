"""README's "Untrusted input" claims about images, one test each: per-cell maxBytes, a big file refused from its
first 64 KiB, globs over names with spaces and %, WBMP, formats refused (WebP, HEIC, RAW), notes beside images
(only an animated GIF's), and the decode budget."""
import io
import os
import shutil
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, TiffImagePlugin

from sparkdl import readImages
from sparkdl.functions import decode_image
from sparkdl.image.imageIO import imageStructToArray
from tests.support.fixtures import image_rows

NOT_AN_IMAGE = "not a recognized image format"


def png_header(width, height):
    """A PNG signature and a valid IHDR declaring ``width`` x ``height`` (RGB, 8 bits), nothing else."""
    data = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(data)) + b"IHDR" + data
            + struct.pack(">I", zlib.crc32(b"IHDR" + data) & 0xFFFFFFFF))


def png_bytes():
    """A real 4 x 4 RGB PNG."""
    out = io.BytesIO()
    Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3)).save(out, format="PNG")
    return out.getvalue()


def rows_of(path, **kw):
    return {os.path.basename(r.filePath): r for r in readImages(str(path), **kw).collect()}


def decoded_bytes(spark, data):
    """``decode_image`` of one binary cell: (image, imageError)."""
    r = spark.createDataFrame([(bytearray(data),)], "b binary").select(decode_image("b").alias("d")).first().d
    return r.image, r.imageError


def budget_reason(spark):
    """Why a 20000 x 20000 image is refused by this JVM's decode budget (half its heap: 3.2 GB > 2 GiB)."""
    total, need = spark.sparkContext._jvm.sparkdl.image.DecodeBudget.total(), 20000 * 20000 * 8
    assert total == spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory() // 2  # README: half the heap
    assert need > total
    return ("decoding needs about %d MiB, more than this JVM's image decode budget of %d MiB (half its heap): raise "
            "spark.executor.memory (spark.driver.memory in local mode), or lower maxPixels to refuse such images"
            % (need >> 20, total >> 20))


def wbmp(bits):
    """A WBMP (type 0) of a 0/1 bitmap, rows padded to whole bytes; 1 is white."""
    h, w = bits.shape
    body = b"".join(np.packbits(row).tobytes() for row in bits)
    assert h < 128 and w < 128  # one-byte multi-byte integers
    return bytes([0, 0, w, h]) + body


def tiff_gray(pixels, cr2=False, preview=False):
    """An uncompressed 8-bit gray TIFF, its IFD at offset 16; ``cr2``: bytes 8-15 as Canon's CR2 has them
    ("CR", version 2.0, the raw IFD's offset); ``preview``: its first image a reduced-resolution one (NewSubfileType
    1), as Nikon's NEF and Sony's ARW start."""
    h, w = pixels.shape
    tags = [(254, 4, 1)] * preview + [(256, 3, w), (257, 3, h), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0),
                                      (277, 3, 1), (278, 3, h), (279, 4, h * w)]
    start = 16 + 2 + 12 * len(tags) + 4
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHII", t, k, 1, start if t == 273 else v) if k == 4 else struct.pack("<HHIHH", t, k, 1, v, 0)
        for t, k, v in tags) + struct.pack("<I", 0)
    extra = b"CR\x02\x00" + struct.pack("<I", 0) if cr2 else b"\x00" * 8
    return b"II*\x00" + struct.pack("<I", 16) + extra + ifd + pixels.astype(np.uint8).tobytes()


def test_a_cell_over_max_bytes_is_refused_with_a_reason(spark):
    """Bytes in tables: a model input's per-cell maxBytes guard (no stage param sets it, and the default is
    512 MiB, so the guard is driven here through the JVM's ImageInput with a small maxBytes)."""
    jvm = spark.sparkContext._jvm
    gateway = spark.sparkContext._gateway
    decoding = jvm.sparkdl.image.ImageDecoding(100000000, 1000, False, False)
    spec = jvm.sparkdl.image.ImageInputSpec(8, 8, 3, "RGB", False)
    model_input = jvm.sparkdl.image.ImageInput("image", "input:0", spec, decoding)
    assert jvm.sparkdl.image.ImageReader.DefaultMaxBytes() == 512 * 2 ** 20

    def prepare(data, path):
        cell = gateway.new_array(jvm.java.lang.Object, 2)
        cell[0], cell[1] = data, path
        return model_input.prepare(jvm.org.apache.spark.sql.RowFactory.create(cell))
    small = prepare(png_header(4, 4), "small.png")  # under maxBytes: decoded (and fails as a truncated PNG)
    big = prepare(png_header(4, 4) + b"\x00" * 2000, "big.png")
    assert big.isLeft() and big.left().get() == "%d bytes, more than maxBytes=1000: not decoded" % (33 + 2000)
    assert small.isLeft() and "maxBytes" not in small.left().get()


def test_a_big_file_declaring_more_than_max_pixels_is_refused_from_its_first_64_kib(spark, tmp_path):
    path = tmp_path / "poster.png"
    path.write_bytes(png_header(20000, 20000) + b"\x00" * (10 * 2 ** 20))
    reader = spark.sparkContext._jvm.sparkdl.image.ImageReader
    before = reader.bytesRead()  # an AtomicLong: a number to py4j
    row = rows_of(path)["poster.png"]
    read = reader.bytesRead() - before
    assert row.image is None
    assert row.imageError == ("image declares 20000 wide x 20000 high = 400000000 pixels, more than the limit of "
                              "100000000 (read the first 64 KiB of %d bytes)" % os.path.getsize(path))
    assert read == 64 * 1024, read


def test_globs_over_names_with_a_space_and_percent_list_exactly_that_file(spark, tmp_path):
    png = png_bytes()
    for name in ["a b%20c.png", "a b c.png", "ab%20c.png", "a b%.txt"]:
        (tmp_path / name).write_bytes(png)
    rows = readImages(str(tmp_path / "a b%*.png")).collect()
    assert [r.filePath for r in rows] == ["file:" + str(tmp_path / "a b%20c.png")]
    assert rows[0].image is not None and rows[0].imageError is None
    assert readImages(str(tmp_path / "a b%20c.png")).count() == 1  # the literal name too


def test_wbmp_decodes_to_its_bitmap(spark, tmp_path):
    rng = np.random.default_rng(9)
    bits = rng.integers(0, 2, size=(5, 13), dtype=np.uint8)
    data = wbmp(bits)
    (tmp_path / "icon.wbmp").write_bytes(data)
    row = rows_of(tmp_path / "icon.wbmp")["icon.wbmp"]
    assert row.image is not None and row.imageError is None, row.imageError
    arr = imageStructToArray(row.image)
    assert arr.shape[:2] == bits.shape and arr.shape[2] in (1, 3)
    for c in range(arr.shape[2]):
        assert np.array_equal(arr[:, :, c], bits * 255), c
    image, error = decoded_bytes(spark, data)
    assert error is None and bytes(image.data) == bytes(row.image.data)


@pytest.fixture(scope="module")
def unsupported(tmp_path_factory):
    d = tmp_path_factory.mktemp("unsupported")
    rgb = np.random.default_rng(4).integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(str(d / "photo.webp"), format="WEBP", lossless=True)
    ftyp = b"ftyp" + b"heic" + struct.pack(">I", 0) + b"mif1heic"
    (d / "photo.heic").write_bytes(struct.pack(">I", 4 + len(ftyp)) + ftyp + struct.pack(">I", 8) + b"meta")
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[50706] = b"\x01\x04\x00\x00"  # DNGVersion 1.4.0.0
    info.tagtype[50706] = 1
    Image.fromarray(rgb).save(str(d / "photo.dng"), format="TIFF", tiffinfo=info)
    with Image.open(str(d / "photo.dng")) as im:
        assert im.tag_v2[50706] == b"\x01\x04\x00\x00"
    (d / "photo.cr2").write_bytes(tiff_gray(rgb[:, :, 0], cr2=True))
    (d / "photo.nef").write_bytes(tiff_gray(rgb[:, :, 0], preview=True))
    return d


@pytest.mark.parametrize("name", ["photo.webp", "photo.heic"])
def test_webp_and_heic_are_rows_not_a_recognized_image_format(spark, unsupported, name):
    row = rows_of(unsupported / name)[name]
    assert row.image is None and NOT_AN_IMAGE in row.imageError, row.imageError
    image, error = decoded_bytes(spark, (unsupported / name).read_bytes())
    assert image is None and NOT_AN_IMAGE in error, error


@pytest.mark.parametrize("name", ["photo.dng", "photo.cr2", "photo.nef"])
def test_tiff_based_raw_is_a_row_not_a_recognized_image_format(spark, unsupported, name):
    """A TIFF decoder would read a RAW file's first TIFF image (a preview): refused by its first bytes instead."""
    row = rows_of(unsupported / name)[name]
    assert row.image is None and NOT_AN_IMAGE in row.imageError, (row.image is not None, row.imageError)
    kind = {"dng": "DNG", "cr2": "Canon CR2", "nef": "a RAW whose first image is a preview"}[name[-3:]]
    assert row.imageError.startswith("camera RAW (%s)" % kind)


def test_only_an_animated_gif_has_a_note_beside_its_image(spark, image_dir, tmp_path):
    """32-bit BMP, an EXIF-rotated JPEG read with applyExifOrientation, draft-decoded JPEGs, a still GIF,
    TIFF, WBMP: imageError is None; a 3-frame GIF: its note."""
    src = Image.open(os.path.join(image_dir, "chelsea.jpg")).convert("RGB")
    bgrx = np.zeros((3, 4, 4), np.uint8)
    rows = b"".join(bytes(bgrx[y].ravel()) for y in range(3))
    (tmp_path / "windows.bmp").write_bytes(
        struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54)
        + struct.pack("<IiiHHIIiiII", 40, 4, 3, 1, 32, 0, len(rows), 2835, 2835, 0, 0) + rows)
    exif = Image.Exif()
    exif[0x0112] = 6
    src.save(str(tmp_path / "sideways.jpg"), quality=90, exif=exif.tobytes())
    shutil.copy(os.path.join(image_dir, "chelsea.jpg"), str(tmp_path / "chelsea.jpg"))
    src.resize((40, 30)).save(str(tmp_path / "still.gif"))
    src.resize((40, 30)).save(str(tmp_path / "photo.tif"))
    (tmp_path / "icon.wbmp").write_bytes(wbmp(np.eye(8, dtype=np.uint8)))
    frames = [Image.new("RGB", (20, 10), (40 * i, 0, 0)) for i in range(3)]
    frames[0].save(str(tmp_path / "moving.gif"), save_all=True, append_images=frames[1:], duration=50)

    rows = image_rows(readImages(str(tmp_path), applyExifOrientation=True, draftSize=60))
    assert all(pixels is not None for pixels, _ in rows.values()), rows
    notes = {name: note for name, (_, note) in rows.items() if note is not None}
    assert notes == {"moving.gif": "animated GIF: its first frame of 3"}
    # decoded at 1/4 scale (the smallest keeping 60 x 60), the sideways one then turned upright
    assert rows["chelsea.jpg"][0][:3] == [-(-src.height // 4), -(-src.width // 4), 3]
    assert rows["sideways.jpg"][0][:3] == [-(-src.width // 4), -(-src.height // 4), 3]
    assert rows["windows.bmp"][0][:3] == [3, 4, 3]


def test_an_image_over_the_decode_budget_is_refused_naming_what_to_raise(spark, tmp_path):
    """A header-only PNG declaring 20000 x 20000 (400 MP, 3.2 GB to decode), under a raised maxPixels: refused by
    the decode budget (half the driver's heap in local mode) before anything is allocated."""
    (tmp_path / "huge.png").write_bytes(png_header(20000, 20000))
    row = rows_of(tmp_path / "huge.png", maxPixels=10 ** 9)["huge.png"]
    assert row.image is None and row.imageError == budget_reason(spark)


def test_a_cell_over_the_decode_budget_is_a_row_reason_of_the_model(spark):
    """Bytes in tables: a stage raised to maxPixels=10^9 fed a 20000 x 20000 PNG header refuses the cell by the
    decode budget (null under keep, an error naming the row's path and what to raise under error)."""
    import tensorflow as tf

    from sparkdl import TFImageTransformer
    from sparkdl.graph import freeze_function

    graph = freeze_function(lambda img: tf.reduce_mean(img, axis=[1, 2]),
                            [tf.TensorSpec([None, 8, 8, 3], tf.float32, name="image")])
    table = spark.createDataFrame([((bytearray(png_header(20000, 20000)), "huge.png"),)],
                                  "image struct<bytes: binary, path: string>")
    stage = TFImageTransformer(inputCol="image", outputCol="p", graph=graph, inputTensor="image:0",
                               outputTensor="output:0", outputMode="array", maxPixels=10 ** 9, handleInvalid="keep")
    assert [r.p for r in stage.transform(table).collect()] == [None]
    with pytest.raises(Exception) as e:
        stage.setHandleInvalid("error").transform(table).collect()
    message = str(e.value)
    assert "Column 'image': image 'huge.png' cannot feed the model (8x8x3): " + budget_reason(spark) in message, \
        message[:2000]
