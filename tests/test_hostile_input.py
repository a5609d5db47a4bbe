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
}
print("RESULT:" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, image_dir):
    d = str(tmp_path_factory.mktemp("hostile"))
    chelsea = os.path.join(image_dir, "chelsea.jpg")
    for name in ["control.jpg", "12:30:00.jpg", "a b%20c.jpg", "_MG_0002.JPG", "_DSC0003.JPG", ".hidden.jpg",
                 "._x.jpg"]:
        shutil.copy(chelsea, os.path.join(d, name))
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


LOAD_FIRST = """
import sys
from pyspark.sql import SparkSession
SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()  # no jar
import sparkdl
stage = sparkdl.TFImageTransformer.load(sys.argv[1])  # the first sparkdl call: a load
print("LOADED:" + type(stage).__name__ + ":" + stage.getOutputCol())
"""


def test_loading_a_stage_first_in_a_session_without_the_jar_attaches_it(spark, cnn, tmp_path):
    from sparkdl import TFImageTransformer

    TFImageTransformer(inputCol="image", outputCol="probs", graph=cnn).save(str(tmp_path / "stage"))
    script = tmp_path / "load_first.py"
    script.write_text(LOAD_FIRST)
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "stage")], capture_output=True, text=True,
                         timeout=240, env=dict(os.environ, PYTHONPATH=ROOT))
    assert "LOADED:TFImageTransformer:probs" in out.stdout, out.stderr[-3000:]
