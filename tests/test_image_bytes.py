"""Images where users keep them (#27): encoded bytes (``binaryFile``'s ``content``, a Hugging Face
``struct<bytes, path>`` column in Parquet) feed every image stage and SQL function, decoded in the model's
batch loop by readImages' decoder: the same features as readImages -> stage, row errors naming the path."""
import os
import shutil
import struct
import zlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from sparkdl import DeepImageFeaturizer, KerasImageFileTransformer, TFImageTransformer, readImages
from tests.support import fixtures

MODEL = "EfficientNetLite0"


@pytest.fixture(scope="module")
def photo_dir(image_dir, tmp_path_factory):
    """The sample photos (JPEG; PNG RGB, L, RGBA) plus a GIF and a BMP, all decodable."""
    d = tmp_path_factory.mktemp("photos")
    for name in fixtures.GOOD:
        shutil.copy(os.path.join(image_dir, name), str(d / name))
    Image.open(os.path.join(image_dir, "chelsea.jpg")).save(str(d / "chelsea.gif"))
    Image.open(os.path.join(image_dir, "coffee.png")).save(str(d / "coffee.bmp"))
    return str(d)


def hf_parquet(path, rows):
    """A Parquet file shaped as a Hugging Face ``datasets`` export: ``image: struct<bytes, path>`` (+ label)."""
    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    table = pa.table({"image": pa.array([{"bytes": b, "path": p} for b, p, _ in rows], image),
                      "label": pa.array([float(label) for _, _, label in rows], pa.float64())})
    pq.write_table(table, str(path))
    return str(path)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def by_name(rows, path_field, value):
    return {os.path.basename(getattr(r, path_field)): value(r) for r in rows}


def test_features_of_bytes_equal_features_of_readimages_structs(spark, photo_dir, tmp_path, one_engine):
    """Done means 1: readImages -> stage, binaryFile -> stage(inputCol="content"), a Parquet struct<bytes, path>
    column -> stage, SELECT sparkdl_features(model, content): equal within 1e-5 for JPEG, PNG (RGB, L, RGBA),
    GIF and BMP; for a TensorFlow and an ONNX model."""
    names = sorted(os.listdir(photo_dir))
    files = spark.read.format("binaryFile").load(photo_dir)
    hf = spark.read.parquet(hf_parquet(tmp_path / "hf.parquet",
                                       [(read(os.path.join(photo_dir, n)), n, 0) for n in names]))
    featurizer = DeepImageFeaturizer(outputCol="f", modelName=MODEL)
    want = by_name(featurizer.transform(readImages(photo_dir)).collect(), "filePath", lambda r: r.f.toArray())
    assert sorted(want) == names and all(v is not None for v in want.values())
    from_files = by_name(featurizer.setInputCol("content").transform(files).collect(), "path",
                         lambda r: r.f.toArray())
    from_hf = {r.image.path: r.f.toArray() for r in featurizer.setInputCol("image").transform(hf).collect()}
    files.createOrReplaceTempView("image_files")
    from_sql = by_name(spark.sql("SELECT path, sparkdl_features('%s', content) AS f FROM image_files" % MODEL)
                       .collect(), "path", lambda r: np.array(r.f))
    for got in (from_files, from_hf, from_sql):
        assert sorted(got) == names
        for n in names:
            np.testing.assert_allclose(got[n], want[n], atol=1e-5, rtol=0, err_msg=n)

    onnx_path = fixtures.small_onnx_cnn(tmp_path / "cnn.onnx")
    onnx = TFImageTransformer(outputCol="p", graph=onnx_path, outputMode="array")
    want = by_name(onnx.transform(readImages(photo_dir)).collect(), "filePath", lambda r: r.p)
    got = by_name(onnx.setInputCol("content").transform(files).collect(), "path", lambda r: r.p)
    assert sorted(got) == sorted(want) == names
    for n in names:
        np.testing.assert_allclose(got[n], want[n], atol=1e-5, rtol=0, err_msg=n)


def test_a_model_fed_bytes_builds_no_image_row(spark, photo_dir):
    """Decoding is fused into the model operator: each file is decoded straight into the model's input
    (the JVM's counters: files decoded there, image struct rows built)."""
    jvm = spark.sparkContext._jvm
    built, decoded = jvm.sparkdl.image.ImageFields.rowsBuilt(), jvm.sparkdl.image.ImageInput.decoded()
    files = spark.read.format("binaryFile").load(photo_dir)
    n = DeepImageFeaturizer(inputCol="content", outputCol="f", modelName=MODEL).transform(files) \
        .filter("f IS NOT NULL").count()
    assert n == len(os.listdir(photo_dir))
    assert jvm.sparkdl.image.ImageFields.rowsBuilt() == built
    assert jvm.sparkdl.image.ImageInput.decoded() - decoded == n


def test_a_pipeline_fits_on_a_hugging_face_table_with_a_junk_row_saves_loads_and_scores(spark, tmp_path, one_engine):
    """Done means 2: featurizer(handleInvalid="skip") + LogisticRegression on a Parquet table shaped as a
    Hugging Face export holding one row of junk bytes."""
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.classification import LogisticRegression

    shapes = fixtures.write_shapes(str(tmp_path / "shapes"), n_per_class=6, seed=3, task="colour")
    rows = [(read(os.path.join(shapes, c, n)), "%s/%s" % (c, n), float(c == "red"))
            for c in sorted(os.listdir(shapes)) for n in sorted(os.listdir(os.path.join(shapes, c)))]
    rows.append((b"\x00junk, not an image" * 10, "junk.jpg", 1.0))
    table = spark.read.parquet(hf_parquet(tmp_path / "train.parquet", rows))
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName=MODEL, handleInvalid="skip")
    model = Pipeline(stages=[featurizer, LogisticRegression(maxIter=20)]).fit(table)
    scored = model.transform(table).select("image.path", "label", "prediction").orderBy("path").collect()
    assert len(scored) == len(rows) - 1 and "junk.jpg" not in [r.path for r in scored]
    assert sum(r.label == r.prediction for r in scored) >= 0.9 * len(scored)
    model.write().save(str(tmp_path / "model"))
    again = PipelineModel.load(str(tmp_path / "model")).transform(table) \
        .select("image.path", "prediction").orderBy("path").collect()
    assert [(r.path, r.prediction) for r in again] == [(r.path, r.prediction) for r in scored]


def png_declaring(width, height):
    """A PNG whose header declares ``width`` x ``height`` (valid chunks and CRCs), with one tiny IDAT."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
            + chunk(b"IEND", b""))


def test_hostile_bytes_give_a_row_reason_never_a_dead_executor(spark, image_dir, tmp_path):
    """Done means 6: empty, truncated, a 300 MB non-image blob in a table cell, a PNG declaring 100,000 x
    100,000: null under keep, dropped under skip, an error naming the row under error; decode_image says why."""
    from sparkdl.functions import decode_image

    good = read(os.path.join(image_dir, "chelsea.jpg"))
    rows = [(good, "good.jpg", 0), (b"", "empty.jpg", 0), (good[:300], "truncated.jpg", 0),
            (png_declaring(100000, 100000), "huge.png", 0), (None, "no-bytes.jpg", 0)]
    table = spark.read.parquet(hf_parquet(tmp_path / "hostile.parquet", rows))
    stage = DeepImageFeaturizer(inputCol="image", outputCol="f", modelName=MODEL)
    kept = {r.image.path: r.f for r in stage.setHandleInvalid("keep").transform(table).collect()}
    assert kept["good.jpg"] is not None
    assert sorted(p for p, f in kept.items() if f is None) == sorted(p for _, p, _ in rows[1:])
    assert [r.image.path for r in stage.setHandleInvalid("skip").transform(table).collect()] == ["good.jpg"]
    with pytest.raises(Exception) as e:
        stage.setHandleInvalid("error").transform(table.filter("image.path = 'huge.png'")).collect()
    assert "Column 'image': image 'huge.png' cannot feed the model" in str(e.value), str(e.value)[:2000]
    assert "100000 wide x 100000 high" in str(e.value) and "handleInvalid" in str(e.value)
    reasons = {r.path: r.d.imageError for r in table.select("image.path", decode_image("image").alias("d")).collect()}
    assert reasons["good.jpg"] is None and reasons["empty.jpg"] == "empty file"
    assert "cannot decode" in reasons["truncated.jpg"] or "damaged" in reasons["truncated.jpg"], reasons
    assert "more than the limit" in reasons["huge.png"] and reasons["no-bytes.jpg"] == "no image bytes (null)"

    blob_dir = tmp_path / "blob"
    blob_dir.mkdir()
    with open(str(blob_dir / "blob.jpg"), "wb") as f:
        for _ in range(300):
            f.write(b"not an image, " * 74898)  # 300 x ~1 MB
    blob = spark.read.format("binaryFile").load(str(blob_dir))
    assert blob.selectExpr("length(content)").first()[0] > 300 * 10 ** 6
    with pytest.raises(Exception) as e:
        stage.setInputCol("content").transform(blob).collect()
    assert "not a recognized image format" in str(e.value) and "no path" in str(e.value), str(e.value)[:2000]
    assert spark.range(3).count() == 3


def test_decode_image_equals_readimages_and_keras_file_transformer_takes_bytes(spark, photo_dir, cnn, tmp_path):
    """The decode function gives readImages' image; KerasImageFileTransformer and a registered Keras image
    function (inputType="bytes") take bytes as they take URIs."""
    from sparkdl import registerKerasImageUDF
    from sparkdl.functions import decode_image

    files = spark.read.format("binaryFile").load(photo_dir)
    decoded = {os.path.basename(r.path): r.d for r in files.select("path", decode_image("content", "path").alias("d"))
               .collect()}
    for r in readImages(photo_dir).collect():
        d = decoded[os.path.basename(r.filePath)]
        assert d.imageError is None and d.image.origin == r.filePath
        assert (d.image.height, d.image.width, d.image.nChannels, bytes(d.image.data)) == \
            (r.image.height, r.image.width, r.image.nChannels, bytes(r.image.data))

    model_file = str(tmp_path / "cnn.keras")
    cnn.save(model_file)
    stage = KerasImageFileTransformer(inputCol="path", outputCol="p", modelFile=model_file, outputMode="array")
    want = by_name(stage.transform(files.select("path")).collect(), "path", lambda r: r.p)
    got = by_name(stage.setInputCol("content").transform(files).collect(), "path", lambda r: r.p)
    assert sorted(got) == sorted(want) and all(v is not None for v in got.values())
    for n in want:
        np.testing.assert_allclose(got[n], want[n], atol=1e-6, rtol=0, err_msg=n)

    registerKerasImageUDF("cnn_bytes", cnn, inputType="bytes", spark=spark)
    files.createOrReplaceTempView("cnn_files")
    sql = by_name(spark.sql("SELECT path, cnn_bytes(content) AS p FROM cnn_files").collect(), "path", lambda r: r.p)
    for n in want:
        np.testing.assert_allclose(sql[n], want[n], atol=1e-5, rtol=0, err_msg=n)
    with pytest.raises(ValueError, match="inputType must be one of bytes, image"):
        registerKerasImageUDF("cnn_bad", cnn, inputType="png", spark=spark)


def test_decoding_params_apply_to_bytes_as_readimages_options_apply_to_files(spark, photo_dir, one_engine):
    """maxPixels refuses large images (a row reason), draftDecode decodes JPEGs at the DCT scale readImages'
    draftSize picks for the model's input size: the same features as that path."""
    files = spark.read.format("binaryFile").load(photo_dir)
    stage = DeepImageFeaturizer(inputCol="content", outputCol="f", modelName=MODEL, handleInvalid="keep",
                                maxPixels=100 * 100)
    assert stage.getMaxPixels() == 10000 and not stage.getDraftDecode()
    assert all(r.f is None for r in stage.transform(files).collect())
    with pytest.raises(Exception, match="more than the limit of 10000"):
        stage.setHandleInvalid("error").transform(files).collect()
    draft = DeepImageFeaturizer(inputCol="content", outputCol="f", modelName=MODEL, draftDecode=True)
    got = by_name(draft.transform(files).collect(), "path", lambda r: r.f.toArray())
    want = by_name(DeepImageFeaturizer(outputCol="f", modelName=MODEL).transform(
        readImages(photo_dir, draftSize=224)).collect(), "filePath", lambda r: r.f.toArray())
    exact = by_name(DeepImageFeaturizer(inputCol="content", outputCol="f", modelName=MODEL).transform(files)
                    .collect(), "path", lambda r: r.f.toArray())
    for n in want:
        np.testing.assert_allclose(got[n], want[n], atol=1e-5, rtol=0, err_msg=n)
    assert any(np.abs(got[n] - exact[n]).max() > 1e-3 for n in want if n.endswith(".jpg"))  # draft is not exact
