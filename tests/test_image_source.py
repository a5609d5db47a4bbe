"""The image source as a Spark file source (#27): ``spark.read.format("sparkdl.image")`` over Spark's file
index (partition discovery, the generic file-source options, ``_metadata``), ``readStream`` without a
schema, and SQL tables; ``readImages``' own listing kept behind its options."""
import os
import shutil
import time

import numpy as np
import pytest

from sparkdl import DeepImageFeaturizer, readImages


@pytest.fixture(scope="module")
def labelled(image_dir, tmp_path_factory):
    """``label=0/``: chelsea.jpg, coffee.png, empty.jpg (0 bytes); ``label=1/``: china.jpg, camera_gray.png
    (modified in 2020), notes.txt (not an image)."""
    root = tmp_path_factory.mktemp("labelled")
    for label, names in (("0", ["chelsea.jpg", "coffee.png"]), ("1", ["china.jpg", "camera_gray.png", "notes.txt"])):
        os.makedirs(str(root / ("label=" + label)))
        for n in names:
            shutil.copy(os.path.join(image_dir, n), str(root / ("label=" + label) / n))
    open(str(root / "label=0" / "empty.jpg"), "wb").close()
    old = time.mktime((2020, 6, 1, 0, 0, 0, 0, 0, -1))
    os.utime(str(root / "label=1" / "camera_gray.png"), (old, old))
    return str(root)


def names(rows, field="filePath"):
    return sorted(os.path.basename(getattr(r, field)) for r in rows)


def test_partition_columns_generic_options_and_metadata(spark, labelled):
    df = spark.read.format("sparkdl.image").load(labelled)
    assert df.schema.fieldNames() == ["filePath", "image", "imageError", "label"]
    rows = df.collect()
    assert {(os.path.basename(r.filePath), r.label) for r in rows} == {
        ("chelsea.jpg", 0), ("coffee.png", 0), ("empty.jpg", 0), ("china.jpg", 1), ("camera_gray.png", 1),
        ("notes.txt", 1)}
    notes = [r for r in rows if r.filePath.endswith("notes.txt")][0]
    assert notes.image is None and "not a recognized image format" in notes.imageError
    # Spark's file scan leaves 0-byte files out (binaryFile has no row for it); an empty image keeps its row
    empty = [r for r in rows if r.filePath.endswith("empty.jpg")][0]
    assert empty.image is None and empty.imageError == "empty file"
    want = {r.filePath: (r.image.height, r.image.width, r.image.nChannels, bytes(r.image.data))
            for r in readImages(labelled, recursive=True).collect() if r.image is not None}
    for r in rows:
        if r.image is not None:
            assert (r.image.height, r.image.width, r.image.nChannels, bytes(r.image.data)) == want[r.filePath]
            assert r.image.origin == r.filePath

    assert names(df.filter("label = 1").filter("image IS NOT NULL").collect()) == ["camera_gray.png", "china.jpg"]
    def reader():  # a reader keeps its options: a new one per read
        return spark.read.format("sparkdl.image")

    assert names(reader().option("pathGlobFilter", "*.jpg").load(labelled).collect()) == [
        "chelsea.jpg", "china.jpg", "empty.jpg"]
    flat = reader().option("recursiveFileLookup", "true").load(labelled)
    assert flat.schema.fieldNames() == ["filePath", "image", "imageError"] and flat.count() == 6
    recent = reader().option("modifiedAfter", "2021-01-01T00:00:00").load(labelled)
    assert "camera_gray.png" not in names(recent.collect()) and recent.count() == 5
    clean = reader().option("ignoreCorruptFiles", "true").load(labelled)
    assert names(clean.collect()) == ["camera_gray.png", "chelsea.jpg", "china.jpg", "coffee.png"]
    assert clean.count() == 4

    meta = df.select("filePath", "_metadata.file_path", "_metadata.file_size").collect()
    assert all(r.file_path.endswith(os.path.basename(r.filePath)) for r in meta)
    assert {os.path.basename(r.filePath): r.file_size for r in meta} == {
        os.path.basename(r.filePath): os.path.getsize(r.filePath[len("file:"):]) for r in meta}
    # a query of paths, partitions and metadata opens no file
    jvm = spark.sparkContext._jvm
    before = jvm.sparkdl.image.ImageReader.bytesRead()
    assert df.select("filePath", "label", "_metadata.file_name").count() == 6
    assert jvm.sparkdl.image.ImageReader.bytesRead() == before

    spark.sql("CREATE OR REPLACE TEMPORARY VIEW labelled_images USING sparkdl.image OPTIONS (path '%s')" % labelled)
    assert spark.sql("SELECT label, count(*) AS n FROM labelled_images GROUP BY label ORDER BY label") \
        .collect() == [(0, 3), (1, 3)]


def test_readimages_options_keep_their_own_listing(spark, labelled, tmp_path):
    """readImages' options (recursive, includeHidden, numPartitions) select its listing: a _-prefixed file
    is read, no partition column; Spark's listing treats _x as not data, as every Spark file source does."""
    d = tmp_path / "camera"
    d.mkdir()
    shutil.copy(os.path.join(labelled, "label=0", "chelsea.jpg"), str(d / "_MG_0002.jpg"))
    shutil.copy(os.path.join(labelled, "label=0", "chelsea.jpg"), str(d / "IMG_0003.jpg"))
    assert names(readImages(str(d)).collect()) == ["IMG_0003.jpg", "_MG_0002.jpg"]
    assert names(spark.read.format("sparkdl.image").load(str(d)).collect()) == ["IMG_0003.jpg"]
    assert readImages(labelled, recursive=True).schema.fieldNames() == ["filePath", "image", "imageError"]
    with pytest.raises(Exception, match="option recursive belongs to listing 'readImages'"):
        spark.read.format("sparkdl.image").option("listing", "spark").option("recursive", "true").load(str(d))
    with pytest.raises(Exception, match="readStream uses Spark's listing"):
        spark.readStream.format("sparkdl.image").option("recursive", "true").load(str(d))


def test_a_watched_folder_is_scored_in_two_steps_each_file_exactly_once(spark, image_dir, tmp_path, one_engine):
    """readStream.format("sparkdl.image") needs no schema; a featurizer scores each new file once, with the
    features of a batch read of the same files."""
    watched, staging = tmp_path / "watched", tmp_path / "staging"
    watched.mkdir()
    staging.mkdir()

    def drop(name):  # written elsewhere, then moved in: the source never sees half a file
        shutil.copy(os.path.join(image_dir, name), str(staging / name))
        os.rename(str(staging / name), str(watched / name))

    stream = spark.readStream.format("sparkdl.image").load(str(watched))
    featurizer = DeepImageFeaturizer(outputCol="f", modelName="EfficientNetLite0", handleInvalid="keep")
    query = featurizer.transform(stream).select("filePath", "f").writeStream.format("memory") \
        .queryName("scored_images").start()
    try:
        drop("chelsea.jpg")
        query.processAllAvailable()
        assert names(spark.table("scored_images").collect()) == ["chelsea.jpg"]
        for n in ("coffee.png", "camera_gray.png", "notes.txt"):
            drop(n)
        query.processAllAvailable()
        got = spark.table("scored_images").collect()
    finally:
        query.stop()
    assert names(got) == ["camera_gray.png", "chelsea.jpg", "coffee.png", "notes.txt"]  # each exactly once
    batch = {r.filePath: r.f for r in featurizer.transform(readImages(str(watched))).collect()}
    for r in got:
        if r.filePath.endswith("notes.txt"):
            assert r.f is None and batch[r.filePath] is None
        else:
            np.testing.assert_allclose(r.f.toArray(), batch[r.filePath].toArray(), atol=1e-6, rtol=0)


def test_listing_many_folders_runs_as_a_spark_job(spark, tmp_path):
    """Past spark.sql.sources.parallelPartitionDiscovery.threshold (32) folders, Spark's file index lists
    them in a Spark job, as it does for binaryFile: the same files, the same number of listing jobs."""
    root = tmp_path / "many"
    for i in range(40):
        (root / ("part=%02d" % i)).mkdir(parents=True)
        (root / ("part=%02d" % i) / "x.jpg").write_bytes(b"x")
    sc = spark.sparkContext
    tracker = sc.statusTracker()

    def listing_jobs(fmt):
        group = "listing-%s-%d" % (fmt, time.time_ns())
        sc.setJobGroup(group, "listing")
        try:
            paths = spark.read.format(fmt).load(str(root)).select("part").count()
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)
        return paths, len(tracker.getJobIdsForGroup(group))

    images, image_jobs = listing_jobs("sparkdl.image")
    files, file_jobs = listing_jobs("binaryFile")
    assert images == files == 40
    assert image_jobs == file_jobs >= 2  # the listing job(s), then the count
