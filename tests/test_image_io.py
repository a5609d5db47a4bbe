"""readImages and the image struct helpers, against Pillow's decoding of the same files."""
import os

import numpy as np
import pytest
from PIL import Image

from sparkdl.image import imageIO
from tests.support import fixtures


def _pil_bgr(path):
    """Pixels of a file as decoded by Pillow, in Spark's channel order."""
    return _pil_bgr_image(Image.open(path))


def _pil_bgr_image(img):
    if img.mode == "L":
        return np.asarray(img)[:, :, None]
    if img.mode == "RGBA":
        return np.asarray(img)[:, :, [2, 1, 0, 3]]
    return np.asarray(img.convert("RGB"))[:, :, ::-1]


def test_array_struct_round_trip_is_exact():
    rng = np.random.default_rng(0)
    for shape in [(5, 7, 3), (4, 3, 1), (2, 9, 4), (6, 6)]:
        arr = rng.integers(0, 256, size=shape, dtype=np.uint8)
        row = imageIO.imageArrayToStruct(arr, origin="x")
        back = imageIO.imageStructToArray(row)
        assert back.shape == (arr.shape + (1,) if arr.ndim == 2 else arr.shape)
        assert np.array_equal(back.reshape(arr.shape), arr)
        assert row.mode == {1: 0, 3: 16, 4: 24}[back.shape[2]]


def test_pil_round_trip_is_exact():
    rng = np.random.default_rng(1)
    for mode, shape in [("RGB", (5, 4, 3)), ("L", (3, 8)), ("RGBA", (4, 4, 4))]:
        img = Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode=mode)
        row = imageIO.PIL_to_imageStruct(img)
        assert np.array_equal(np.asarray(imageIO.imageStructToPIL(row)), np.asarray(img))
    # struct order is BGR: a pure-red pixel is stored as (0, 0, 255)
    red = imageIO.PIL_to_imageStruct(Image.new("RGB", (1, 1), (255, 0, 0)))
    assert list(imageIO.imageStructToArray(red)[0, 0]) == [0, 0, 255]


def test_bad_arrays_are_refused():
    with pytest.raises(ValueError, match="C in"):
        imageIO.imageArrayToStruct(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        imageIO.imageArrayToStruct(np.zeros((2, 2, 3), np.float32))


def test_read_images_decodes_like_pillow_and_keeps_bad_files(spark, image_dir):
    df = imageIO.readImages(image_dir, numPartitions=3)
    assert df.columns == ["filePath", "image", "imageError"]
    rows = {os.path.basename(r.filePath): r for r in df.collect()}
    assert set(rows) == set(fixtures.GOOD) | set(fixtures.BAD), "a file was lost"
    for name, channels in fixtures.GOOD.items():
        r = rows[name]
        assert r.imageError is None, (name, r.imageError)
        assert r.image.origin == r.filePath and r.filePath.startswith("file:")
        arr = imageIO.imageStructToArray(r.image)
        expected = _pil_bgr(os.path.join(image_dir, name))
        assert arr.shape == expected.shape and arr.shape[2] == channels, name
        diff = np.abs(arr.astype(int) - expected.astype(int))
        if name.endswith(".png"):
            assert diff.max() == 0, name  # lossless: identical pixels
        else:
            # two JPEG decoders (Java ImageIO, libjpeg in Pillow) may round IDCT differently
            assert diff.mean() < 1.0 and np.percentile(diff, 99) <= 3, (name, diff.mean())
    for name in fixtures.BAD:
        assert rows[name].image is None, name
        assert rows[name].imageError, name
    assert "empty" in rows["zero_bytes.jpg"].imageError
    assert "not a recognized image format" in rows["notes.txt"].imageError


def test_read_images_max_pixels_guard(spark, image_dir):
    df = imageIO.readImages(os.path.join(image_dir, "coffee.png"), maxPixels=1000)
    (row,) = df.collect()
    assert row.image is None and "600 wide x 400 high" in row.imageError and "limit" in row.imageError


def test_read_images_draft_size_matches_pillow_draft(spark, image_dir):
    """draftSize decodes JPEGs DCT-scaled as Pillow's Image.draft does; PNGs stay full size."""
    draft = (60, 80)
    rows = {os.path.basename(r.filePath): r for r in
            imageIO.readImages(image_dir, draftSize=draft).collect()}
    full = {os.path.basename(r.filePath): r for r in imageIO.readImages(image_dir).collect()}
    assert set(rows) == set(full), "a file was lost"
    scaled = 0
    for name in fixtures.GOOD:
        arr = imageIO.imageStructToArray(rows[name].image)
        img = Image.open(os.path.join(image_dir, name))
        if name.endswith(".png"):
            assert arr.shape == imageIO.imageStructToArray(full[name].image).shape, name
            continue
        img.draft(img.mode, (draft[1], draft[0]))  # Pillow takes (width, height)
        expected = _pil_bgr_image(img)
        assert arr.shape == expected.shape, (name, arr.shape, expected.shape)
        assert arr.shape[0] >= draft[0] and arr.shape[1] >= draft[1], name
        diff = np.abs(arr.astype(int) - expected.astype(int))
        assert diff.max() <= 1, (name, diff.max())  # both libjpeg-turbo, accurate IDCT: equal in practice
        scaled += arr.shape[0] < full[name].image.height
    assert scaled >= 2, "no JPEG was large enough to be scaled: the test checks nothing"
    for name in fixtures.BAD:
        assert rows[name].image is None and rows[name].imageError, name
    with pytest.raises(ValueError, match="draftSize"):
        imageIO.readImages(image_dir, draftSize=(0, 10))



def test_class_folders_without_recursive_say_how_to_read_them(spark, tmp_path):
    """A folder of class sub-folders read without recursive=True: an error that says so, not 0 rows."""
    from tests.support.fixtures import write_shapes

    directory = write_shapes(str(tmp_path / "shapes"), n_per_class=2, seed=1, task="colour")
    with pytest.raises(Exception, match=r"holds no files, only folders \(blue, red\): .*recursive=True"):
        imageIO.readImages(directory)
    assert imageIO.readImages(directory, recursive=True).count() == 4
    os.makedirs(str(tmp_path / "empty"))
    assert imageIO.readImages(str(tmp_path / "empty")).count() == 0  # an empty folder is just empty


def test_display_renders_a_grid_as_html_and_png(spark, image_dir, tmp_path):
    from sparkdl.image import display

    grid = display(imageIO.readImages(image_dir), limit=12, columns=4, size=64)
    html = grid._repr_html_()
    assert len(grid) == 12 and html.count("<img") == len(fixtures.GOOD) and html.count("null image") == 4
    assert "notes.txt: " in html  # a null image's caption says why
    png = Image.open(grid.save(str(tmp_path / "grid.png")))
    assert png.size == (4 * (64 + 8), 3 * (64 + 3 * 14))
    chelsea = [img for img, caption in grid.tiles if caption == "chelsea.jpg"][0]
    assert max(chelsea.size) == 64 and chelsea.mode == "RGB"


def test_bad_structs_are_refused_naming_the_field():
    from pyspark.sql import Row

    def struct(**kw):
        fields = dict(origin="x", height=2, width=2, nChannels=3, mode=16, data=bytearray(12))
        fields.update(kw)
        return Row(**fields)

    with pytest.raises(ValueError, match="nChannels is 2; only images with 1, 3 or 4 channels"):
        imageIO.imageStructToArray(struct(nChannels=2, mode=8, data=bytearray(8)))
    with pytest.raises(ValueError, match=r"data has 11 bytes, but height x width x nChannels = 2 x 2 x 3 needs 12"):
        imageIO.imageStructToArray(struct(data=bytearray(11)))
    with pytest.raises(ValueError, match="the image struct's height is null"):
        imageIO.imageStructToArray(struct(height=None))
    with pytest.raises(ValueError, match="mode 24 does not match nChannels 3"):
        imageIO.imageStructToArray(struct(mode=24))
    assert imageIO.imageStructToArray(struct()).shape == (2, 2, 3)
    # float32 images (TFImageTransformer's outputMode="image"): CV_32FC3 is mode 21, 4 bytes a value
    floats = np.arange(12, dtype="<f4").reshape(2, 2, 3) - 2.5
    got = imageIO.imageStructToArray(struct(mode=21, data=bytearray(floats.tobytes())))
    assert got.dtype == np.float32 and np.array_equal(got, floats)
    with pytest.raises(ValueError, match="data has 12 bytes, .* needs 48"):
        imageIO.imageStructToArray(struct(mode=21))
    with pytest.raises(ValueError, match="mode 5 does not match nChannels 3 .* mode 16, 8-bit, or 21, float32"):
        imageIO.imageStructToArray(struct(mode=5))
