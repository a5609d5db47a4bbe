"""A model is code: a model file that declares huge inputs must not kill the session. Each case is
refused at `transform`, on the driver, naming the input and the setting; the session then still runs
jobs. A large (not impossible) input gets its batch size capped so that a batch fits."""
import json
import os

import numpy as np
import pytest

from sparkdl.image.imageIO import imageArrayToStruct

HUGE = [None, 40000, 40000, 3]  # 4.8e9 floats: 19 GB for one row


def _session_survives(spark):
    assert spark.range(3).count() == 3


def _huge_graph(tmp_path):
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    graph = freeze_function(lambda x: tf.reduce_mean(x, axis=[1, 2]), [tf.TensorSpec(HUGE, tf.float32, name="input")])
    graph.save(str(tmp_path / "huge"))
    return graph


def _image_df(spark):
    rgb = np.random.default_rng(0).integers(0, 255, size=(8, 8, 3), dtype=np.uint8)
    return spark.createDataFrame([(imageArrayToStruct(rgb, "a.png"),)], "image struct<origin:string, height:int, "
                                 "width:int, nChannels:int, mode:int, data:binary>")


def test_a_tensorflow_graph_declaring_a_huge_image_input_is_refused_at_transform(spark, tmp_path):
    from sparkdl import TFImageTransformer, TFTransformer

    graph = _huge_graph(tmp_path)
    with pytest.raises(Exception, match=r"input 'input:0' \(column 'image'\) declares \[\?, 40000, 40000, 3\] per "
                                        r"row: 17.9 GiB for one row, more than .*spark.sparkdl.batchMemory"):
        TFImageTransformer(inputCol="image", outputCol="p", graph=graph, outputMode="array").transform(_image_df(spark))
    _session_survives(spark)
    values = spark.createDataFrame([([1.0, 2.0],)], "x array<float>")
    with pytest.raises(Exception, match=r"declares \[\?, 40000, 40000, 3\] per row"):
        TFTransformer(graph=graph, inputMapping={"x": "input:0"}, outputMapping={"output:0": "y"}).transform(values)
    _session_survives(spark)


def test_an_onnx_model_declaring_a_huge_input_is_refused_at_transform(spark, tmp_path):
    from onnx import TensorProto, helper, numpy_helper, save

    from sparkdl import ONNXTransformer

    axes = numpy_helper.from_array(np.array([1, 2, 3], np.int64), "axes")
    graph = helper.make_graph([helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=0)], "huge",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 40000, 40000, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])], [axes])
    path = str(tmp_path / "huge.onnx")
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    values = spark.createDataFrame([([1.0, 2.0],)], "x array<float>")
    with pytest.raises(Exception, match=r"input 'x' \(column 'x'\) declares \[\?, 40000, 40000, 3\] per row"):
        ONNXTransformer(modelPath=path, inputMapping={"x": "x"}, outputMapping={"y": "y"}).transform(values)
    _session_survives(spark)


def test_a_saved_named_stage_whose_export_claims_a_huge_size_is_refused_at_transform(spark, tmp_path):
    from sparkdl import DeepImageFeaturizer

    stage = DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
    stage.save(str(tmp_path / "stage"))
    metas = [os.path.join(d, f) for d, _, fs in os.walk(str(tmp_path / "stage")) for f in fs if f == "model.json"]
    assert len(metas) == 1, metas
    with open(metas[0]) as f:
        meta = json.load(f)
    meta["height"] = meta["width"] = 9999  # 1.1 GiB of floats per row
    with open(metas[0], "w") as f:
        json.dump(meta, f)
    crc = os.path.join(os.path.dirname(metas[0]), ".model.json.crc")
    if os.path.exists(crc):  # Hadoop's checksum, which an edited file (or a planted one) does not match
        os.remove(crc)
    loaded = DeepImageFeaturizer.load(str(tmp_path / "stage"))
    with pytest.raises(Exception, match=r"declares \[\?, 9999, 9999, 3\] per row: 1.1 GiB for one row"):
        loaded.transform(_image_df(spark))
    _session_survives(spark)


def test_a_large_input_caps_the_batch_so_that_it_fits(spark):
    """400 KB per row in a 1 MiB batch budget: two rows a batch, even when 8 (or auto) are asked for; the
    numbers are the graph's."""
    import tensorflow as tf

    from sparkdl import TFTransformer
    from sparkdl.graph import freeze_function

    graph = freeze_function(lambda x: tf.reduce_sum(x, axis=1, keepdims=True),
                            [tf.TensorSpec([None, 100000], tf.float32, name="input")])
    rows = [(i, [float(i)] * 100000) for i in range(7)]
    df = spark.createDataFrame(rows, "id int, x array<float>").coalesce(1)
    spark.conf.set("spark.sparkdl.batchMemory", "1m")
    try:
        for size in (8, 0):
            out = TFTransformer(graph=graph, inputMapping={"x": "input:0"}, outputMapping={"output:0": "s"},
                                batchSize=size).transform(df)
            got = {r.id: r.s[0] for r in out.collect()}
            assert got == {i: 100000.0 * i for i in range(7)}
            plan = out._jdf.queryExecution().executedPlan()
            runs = [n.metrics().apply("modelRuns").value() for n in _nodes(plan) if n.nodeName() == "SparkdlModelEval"]
            assert runs == [4] if size else runs[0] >= 4, runs  # ceil(7 / 2); auto tries only sizes 1 and 2
    finally:
        spark.conf.unset("spark.sparkdl.batchMemory")


def _nodes(plan):
    out, todo = [], [plan]
    while todo:
        node = todo.pop()
        out.append(node)
        children = node.children()
        todo.extend(children.apply(i) for i in range(children.size()))
    return out


@pytest.mark.parametrize("name", ["../../etc", "/etc/passwd", "..", "a/b", "hdfs:x"])
def test_model_names_are_names_never_paths(spark, name):
    """A SQL call (or a saved stage) naming a path cannot load an export from outside the export folder."""
    image = ("(SELECT CAST(NULL AS struct<origin:string, height:int, width:int, nChannels:int, mode:int, "
             "data:binary>) AS image)")
    for call in ("sparkdl_embed('%s', 'x')", "sparkdl_features('%s', image)"):
        sql = "SELECT " + (call % name) + (" FROM " + image if "image" in call else "")
        with pytest.raises(Exception) as e:
            spark.sql(sql).collect()
        assert "is not a model name" in str(e.value) or "is not a named model" in str(e.value), str(e.value)[:500]
    _session_survives(spark)


def test_a_saved_text_stage_naming_a_path_is_refused(spark, tmp_path):
    from sparkdl import DeepTextFeaturizer

    DeepTextFeaturizer(outputCol="e").save(str(tmp_path / "stage"))
    import glob

    (meta_file,) = glob.glob(os.path.join(str(tmp_path / "stage"), "metadata", "part-*"))
    with open(meta_file) as f:
        meta = json.loads(f.read())
    meta["paramMap"]["modelName"] = "../../outside"
    with open(meta_file, "w") as f:
        f.write(json.dumps(meta))
    crc = os.path.join(os.path.dirname(meta_file), "." + os.path.basename(meta_file) + ".crc")
    if os.path.exists(crc):
        os.remove(crc)
    texts = spark.createDataFrame([("a cat",)], ["text"])
    with pytest.raises(Exception, match=r"'../../outside' is (not a model name|neither a built-in text model)"):
        DeepTextFeaturizer.load(str(tmp_path / "stage")).transform(texts)
    _session_survives(spark)


def test_read_images_partitions_at_most_one_per_file(spark, image_dir):
    from sparkdl import readImages
    from tests import fixtures

    df = readImages(image_dir, numPartitions=2147483647)
    n = len(fixtures.GOOD) + len(fixtures.BAD)
    assert df.rdd.getNumPartitions() == n and df.count() == n


def test_every_listed_name_is_a_row_broken_links_and_special_files_included(spark, tmp_path):
    """A broken link, a link to /proc/kcore and a FIFO are rows with their reason (never dropped, never
    read whole); a glob over a folder holding names with ':' lists them."""
    from PIL import Image

    from sparkdl import readImages

    folder = tmp_path / "hostile"
    folder.mkdir()
    Image.new("RGB", (4, 3), (10, 20, 30)).save(str(folder / "12:30:00.png"))
    Image.new("RGB", (5, 2), (40, 50, 60)).save(str(folder / "plain.png"))
    os.symlink(str(folder / "missing.png"), str(folder / "broken.png"))
    os.symlink("/proc/kcore", str(folder / "kcore.png"))
    os.mkfifo(str(folder / "fifo.png"))
    rows = {r.filePath.rsplit("/", 1)[-1]: r for r in readImages(str(folder)).collect()}
    assert sorted(rows) == ["12:30:00.png", "broken.png", "fifo.png", "kcore.png", "plain.png"]
    assert (rows["12:30:00.png"].image.width, rows["plain.png"].image.width) == (4, 5)
    assert rows["broken.png"].image is None and "does not exist (or is a broken link)" in rows["broken.png"].imageError
    assert rows["fifo.png"].image is None and "FIFO" in rows["fifo.png"].imageError
    assert rows["kcore.png"].image is None and rows["kcore.png"].imageError
    globbed = sorted(r.filePath.rsplit("/", 1)[-1] for r in readImages(str(folder / "*:*.png")).collect())
    assert globbed == ["12:30:00.png"]
    assert sorted(r.filePath.rsplit("/", 1)[-1] for r in readImages(str(folder / "[pb]*.png")).collect()) == [
        "broken.png", "plain.png"]
    _session_survives(spark)
