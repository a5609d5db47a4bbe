"""Folders as users have them (#15): names URIs dislike, camera files, hidden files, literal
brackets, FIFOs, links to devices, symlink loops; structs with null fields. Nothing lost,
nothing hangs, the session survives, control images still decode."""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = """
import json, os, sys
import sparkdl
spark = sparkdl.spark_session("local[2]")
def rows(path, **kw):
    return {os.path.relpath(r.filePath[len("file:"):], sys.argv[1]): (r.image is not None, r.imageError)
            for r in sparkdl.readImages(path, **kw).collect()}
out = {
    "flat": rows(sys.argv[1]),
    "hidden": rows(sys.argv[1], includeHidden=True),
    "brackets": rows(os.path.join(sys.argv[1], "photos[2024]")),
    "loops": rows(os.path.join(sys.argv[1], "loops"), recursive=True),
    "after": spark.range(3).count(),
    "bytes_read": spark._jvm.sparkdl.image.ImageReader.bytesRead(),  # an AtomicLong, a number to py4j
}
print("RESULT:" + json.dumps(out))
"""


def write_blank_png(path, width, height):
    """A valid RGB PNG of black pixels, written row by row (never whole in memory)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    packer = zlib.compressobj(6)
    row = b"\x00" * (1 + width * 3)  # filter byte + pixels
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, image_dir):
    d = str(tmp_path_factory.mktemp("hostile"))
    chelsea = os.path.join(image_dir, "chelsea.jpg")
    for name in ["control.jpg", "12:30:00.jpg", "a b%20c.jpg", "_MG_0002.JPG", "_DSC0003.JPG", ".hidden.jpg",
                 "._x.jpg"]:
        shutil.copy(chelsea, os.path.join(d, name))
    # big files as sparse files: a 1.5 GB "video", and a 600 MB file that starts as a real JPEG
    with open(os.path.join(d, "clip.mp4"), "wb") as f:
        f.write(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x01" * 100000)
        f.truncate(1536 * 2 ** 20)
    with open(os.path.join(d, "huge.jpg"), "wb") as f:
        f.write(open(chelsea, "rb").read())
        f.truncate(600 * 2 ** 20)
    # two 10000x10000 PNGs (100 MP, at the default limit): small files, 300 MB of pixels each
    for name in ["poster1.png", "poster2.png"]:
        write_blank_png(os.path.join(d, name), 10000, 10000)
    os.mkfifo(os.path.join(d, "pipe.jpg"))
    os.symlink("/dev/zero", os.path.join(d, "zero.jpg"))
    os.makedirs(os.path.join(d, "photos[2024]"))
    shutil.copy(chelsea, os.path.join(d, "photos[2024]", "cat.jpg"))
    loops = os.path.join(d, "loops")
    os.makedirs(os.path.join(loops, "inner"))
    shutil.copy(chelsea, os.path.join(loops, "inner", "cat.jpg"))
    os.symlink(".", os.path.join(loops, "self"))
    os.symlink("..", os.path.join(loops, "inner", "up"))
    return d


@pytest.fixture(scope="module")
def listed(hostile):
    script = os.path.join(hostile, "..", "hostile_script.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    # a regression (a FIFO read, a symlink loop followed) hangs: the timeout makes it a failure
    out = subprocess.run([sys.executable, script, hostile], capture_output=True, text=True, timeout=240,
                         env=dict(os.environ, PYTHONPATH=ROOT))
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT:")]
    assert lines, out.stderr[-4000:]
    return json.loads(lines[0][len("RESULT:"):])


def test_uri_hostile_names_and_camera_files_are_rows_like_any_other(listed):
    flat = listed["flat"]
    for name in ["control.jpg", "12:30:00.jpg", "a b%20c.jpg", "_MG_0002.JPG", "_DSC0003.JPG"]:
        assert flat[name] == [True, None], name
    assert ".hidden.jpg" not in flat and "._x.jpg" not in flat  # dot-files: skipped by default
    assert listed["hidden"][".hidden.jpg"] == [True, None] and listed["hidden"]["._x.jpg"] == [True, None]


def test_fifos_and_device_links_get_a_reason_instead_of_a_hang(listed):
    flat = listed["flat"]
    assert flat["pipe.jpg"][0] is False and "not a regular file" in flat["pipe.jpg"][1]
    assert flat["zero.jpg"][0] is False and "not a regular file" in flat["zero.jpg"][1]
    assert listed["after"] == 3  # the session survives


def test_big_files_cost_their_header_not_their_size(listed):
    """A 1.5 GB non-image: null + reason from its first 64 KiB; a 600 MB JPEG: over maxBytes, not read;
    the folder listed three times read well under 100 MB in all (not the 2 GB of those two files)."""
    flat = listed["flat"]
    assert flat["clip.mp4"][0] is False and "not a recognized image format" in flat["clip.mp4"][1]
    assert "first 64 KiB" in flat["clip.mp4"][1]
    assert flat["huge.jpg"][0] is False and "more than maxBytes=" in flat["huge.jpg"][1]
    assert listed["bytes_read"] < 100 * 2 ** 20, listed["bytes_read"]
    assert flat["control.jpg"] == [True, None] and listed["after"] == 3


def test_huge_images_are_decoded_or_refused_within_the_heap(listed):
    """Two 100 MP PNGs under the default 1 GB driver heap: each is decoded, or refused with a reason
    that says what to raise; the session survives and the other files decode."""
    for name in ["poster1.png", "poster2.png"]:
        decoded, reason = listed["flat"][name]
        assert decoded or ("decode budget" in reason and "spark.driver.memory" in reason), (name, reason)
    assert listed["flat"]["control.jpg"] == [True, None] and listed["after"] == 3


def test_a_folder_with_brackets_is_read_literally(listed):
    assert listed["brackets"] == {"photos[2024]/cat.jpg": [True, None]}


def test_symlink_loops_visit_each_directory_once(listed):
    assert listed["loops"] == {"loops/inner/cat.jpg": [True, None]}


def test_image_structs_with_null_fields_follow_handle_invalid(spark, cnn):
    from pyspark.sql import Row
    from pyspark.sql.types import StructField, StructType

    from sparkdl import TFImageTransformer
    from sparkdl.image.imageIO import imageSchema

    schema = StructType([StructField("image", imageSchema)])
    bad = spark.createDataFrame([Row(image=Row(origin="nulls", height=None, width=4, nChannels=None, mode=16,
                                                data=bytearray(48)))], schema)
    stage = TFImageTransformer(inputCol="image", outputCol="p", graph=cnn, outputMode="array")
    with pytest.raises(Exception, match="image struct has null height, nChannels"):
        stage.transform(bad).collect()
    assert [r.p for r in stage.copy({stage.handleInvalid: "keep"}).transform(bad).collect()] == [None]
    assert stage.copy({stage.handleInvalid: "skip"}).transform(bad).count() == 0


def test_graphs_with_system_ops_are_refused_before_they_run(spark, tmp_path):
    """A graph that writes a file (as a planted model would): refused when handed to a stage, and when a
    saved stage's graph.pb is replaced by it, at load; the error names the op and the opt-in. The file
    is never written. sparkdl's own exports pass (every other test)."""
    import tensorflow as tf

    from sparkdl import TFTransformer
    from sparkdl.graph import freeze_function

    marker = str(tmp_path / "pwned")

    def evil(x):
        with tf.control_dependencies([tf.io.write_file(marker, "planted")]):
            return tf.identity(x * 2.0)
    spec = [tf.TensorSpec([None, 3], tf.float32, name="input")]
    bad = freeze_function(evil, spec)
    good = freeze_function(lambda x: x * 2.0, spec)
    mapping = dict(inputMapping={"a": "input:0"}, outputMapping={"output:0": "out"})
    with pytest.raises(Exception) as e:
        TFTransformer(graph=bad, **mapping)
    assert "WriteFile" in str(e.value) and "spark.sparkdl.graph.allowOps=WriteFile" in str(e.value)

    path = str(tmp_path / "stage")
    TFTransformer(graph=good, **mapping).save(path)
    with open(os.path.join(path, "graph.pb"), "wb") as f:
        f.write(bad.graph_def)
    os.remove(os.path.join(path, ".graph.pb.crc"))  # as whoever planted it would
    with pytest.raises(Exception) as e:
        TFTransformer.load(path).transform(spark.createDataFrame([([1.0, 2.0, 3.0],)], ["a"])).collect()
    assert "WriteFile" in str(e.value) and "outside the model" in str(e.value)

    # an export directory holding it as a text model's graph
    export = tmp_path / "exports" / "evil"
    export.mkdir(parents=True)
    with open(str(export / "graph.pb"), "wb") as f:
        f.write(bad.graph_def)
    (export / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nword\n")
    (export / "model.json").write_text(json.dumps({
        "kind": "text", "modelName": "evil", "hidden": 3, "maxLength": 8, "lowercase": True, "stripAccents": True,
        "chineseChars": True, "inputIdsTensor": "input:0", "attentionMaskTensor": "input:0",
        "embeddingTensor": "output:0"}))
    from sparkdl import DeepTextFeaturizer

    with pytest.raises(Exception) as e:
        DeepTextFeaturizer(inputCol="t", outputCol="e", modelName="evil", modelDir=str(tmp_path / "exports")) \
            .transform(spark.createDataFrame([("word",)], ["t"])).collect()
    assert "WriteFile" in str(e.value) and "spark.sparkdl.graph.allowOps=WriteFile" in str(e.value)

    bad.save(str(tmp_path / "planted"))  # a graph file named in SQL
    with pytest.raises(Exception) as e:
        spark.sql("SELECT sparkdl_tensor('%s', array(1.0, 2.0, 3.0))" % (tmp_path / "planted" / "graph.pb")).collect()
    assert "WriteFile" in str(e.value) and "spark.sparkdl.graph.allowOps=WriteFile" in str(e.value)
    assert not os.path.exists(marker)


def test_a_32_bit_bmp_without_alpha_mask_has_three_channels_as_pillow_reads_it(spark, tmp_path):
    """Windows writes 32-bit BMPs as BGRX with X = 0: padding, not a fully transparent alpha."""
    import struct

    import numpy as np
    from PIL import Image

    from sparkdl import readImages
    from sparkdl.image.imageIO import imageStructToArray

    h, w = 3, 4
    rng = np.random.default_rng(5)
    bgr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    rows = b"".join(bytes(np.concatenate([bgr[y], np.zeros((w, 1), np.uint8)], axis=1).ravel())
                    for y in reversed(range(h)))  # bottom-up
    header = struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54) + struct.pack(
        "<IiiHHIIiiII", 40, w, h, 1, 32, 0, len(rows), 2835, 2835, 0, 0)
    path = tmp_path / "windows.bmp"
    path.write_bytes(header + rows)
    row = readImages(str(path)).collect()[0]
    assert row.image is not None and row.image.nChannels == 3, row.imageError
    pillow = np.asarray(Image.open(str(path)).convert("RGB"))
    assert np.array_equal(imageStructToArray(row.image)[:, :, ::-1], pillow)


def test_exif_orientation_is_applied_when_asked_as_pillow_applies_it(spark, image_dir, tmp_path):
    """A phone photo stored sideways with its EXIF orientation: as stored by default (as Keras loads
    it), upright with applyExifOrientation=True, for each of the 8 orientations exactly as Pillow's
    ImageOps.exif_transpose turns the same pixels."""
    import numpy as np
    from PIL import Image

    from sparkdl import readImages
    from sparkdl.image.imageIO import imageStructToArray

    pillow_method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                     4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                     6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
    src = Image.open(os.path.join(image_dir, "chelsea.jpg")).convert("RGB").resize((60, 40))
    folder = tmp_path / "phone"
    folder.mkdir()
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        src.save(str(folder / ("o%d.jpg" % o)), quality=95, exif=exif.tobytes())

    def arrays(**kw):
        return {os.path.basename(r.filePath): imageStructToArray(r.image)
                for r in readImages(str(folder), **kw).collect()}
    stored, upright = arrays(), arrays(applyExifOrientation=True)
    for o in range(1, 9):
        name = "o%d.jpg" % o
        assert np.array_equal(stored[name], stored["o1.jpg"])  # default: the pixels as stored
        expected = stored[name] if o == 1 else np.asarray(Image.fromarray(stored[name]).transpose(pillow_method[o]))
        assert upright[name].shape == expected.shape and np.array_equal(upright[name], expected), o
        with Image.open(str(folder / name)) as im:
            from PIL import ImageOps
            assert ImageOps.exif_transpose(im).size == (upright[name].shape[1], upright[name].shape[0])


def test_damaged_keras_files_give_one_error_naming_the_file(spark, cnn, tmp_path):
    """A truncated .keras, a truncated .h5 and a text file named .h5: one ValueError each, naming the
    file and what is wrong, not h5py's or zipfile's own words alone."""
    from sparkdl import KerasImageFileTransformer

    whole = {}
    for ext in ("keras", "h5"):
        path = tmp_path / ("cnn." + ext)
        cnn.save(str(path))
        whole[ext] = path.read_bytes()
    cases = {"cut.keras": whole["keras"][: len(whole["keras"]) // 2], "cut.h5": whole["h5"][: len(whole["h5"]) // 2],
             "notes.h5": b"these are my notes, not a model\n"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ValueError) as e:
            KerasImageFileTransformer(inputCol="uri", outputCol="p", modelFile=str(path))
        message = str(e.value)
        assert str(path) in message and "is not a readable Keras model" in message, (name, message)


def test_model_mismatches_fail_on_the_driver_before_any_job(spark, image_dir):
    """A model that cannot run as the stage calls it (an input left unfed, an output without the
    batch first, an int64 output, a vector of the wrong size) fails at ``transform`` with the
    message a task would give, and no job has started."""
    import tensorflow as tf
    from pyspark.ml.feature import VectorAssembler

    from sparkdl import TFImageTransformer, TFTransformer, readImages
    from sparkdl.graph import freeze_function

    vec = tf.TensorSpec([None, 3], tf.float32, name="input")
    two_images = freeze_function(lambda img, s: tf.reduce_mean(img, axis=[1, 2]) * s,
                                 [tf.TensorSpec([None, 48, 64, 3], tf.float32, name="image"),
                                  tf.TensorSpec([None, 1], tf.float32, name="scale")])
    images = readImages(image_dir).filter("image is not null")
    rows = spark.createDataFrame([([1.0, 2.0, 3.0], 1.0, 2.0, 3.0, 4.0)], ["a", "x1", "x2", "x3", "x4"])
    four = VectorAssembler(inputCols=["x1", "x2", "x3", "x4"], outputCol="v").transform(rows)

    def tensor_stage(fn, column="a", specs=(vec,), feeds=("input:0",)):
        return TFTransformer(graph=freeze_function(fn, list(specs)),
                             inputMapping={column: feeds[0]}, outputMapping={"output:0": "out"})
    cases = [
        ("two-input model to an image stage",
         lambda: TFImageTransformer(inputCol="image", outputCol="p", graph=two_images, inputTensor="image:0",
                                    outputTensor="output:0").transform(images),
         "You must feed a value for input 'scale:0' (float [?,1])"),
        ("an unfed placeholder",
         lambda: tensor_stage(lambda x, y: x + y, specs=(vec, tf.TensorSpec([None, 3], tf.float32, name="bias")))
         .transform(rows), "You must feed a value for input 'bias:0'"),
        ("an output without batch dimension",
         lambda: tensor_stage(lambda x: tf.reduce_sum(x)).transform(rows),
         "Output 'output:0' has shape []; its first dimension must be the batch"),
        ("an output of fixed size",
         lambda: tensor_stage(lambda x: tf.reduce_sum(x, axis=0)).transform(rows),
         "Output 'output:0' has shape [3]; its first dimension must be the batch"),
        ("an int64 output",
         lambda: tensor_stage(lambda x: tf.argmax(x, axis=1)).transform(rows),
         "Output 'output:0' is int64, only float32 outputs are supported"),
        ("a vector column of the wrong size",
         lambda: tensor_stage(lambda x: x * 2.0, column="v").transform(four),
         "Column 'v' has a row of 4 values, but tensor 'input:0' of shape [?,3] takes 3 values per row"),
    ]
    sc = spark.sparkContext
    for name, transform, message in cases:
        group = "mismatch-%d" % len(message)
        sc.setJobGroup(group, name)
        try:
            with pytest.raises(Exception) as e:
                transform()
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)
        assert message in str(e.value), (name, str(e.value)[:2000])
        assert list(sc.statusTracker().getJobIdsForGroup(group)) == [], name
    # the same stages run when the model fits: the check refuses only what cannot run
    ok = tensor_stage(lambda x: x * 2.0).transform(rows).select("out").first().out
    assert ok == pytest.approx([2.0, 4.0, 6.0])
