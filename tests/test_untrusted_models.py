"""A model is code: a model file that declares huge inputs must not kill the session. Each case is
refused at `transform`, on the driver, naming the input and the setting; the session then still runs
jobs. A large (not impossible) input gets its batch size capped so that a batch fits."""
import json
import os
import re

import numpy as np
import pytest

from sparkdl.image.imageIO import imageArrayToStruct
from tests.support.fixtures import onnx_with_local_functions

HUGE = [None, 40000, 40000, 3]  # 4.8e9 floats: 19 GB for one row


def _session_survives(spark):
    assert spark.range(3).count() == 3


def _failing_job(stage, df, errors, group=None):
    """A thread target: collects `stage` over `df` (in job group `group`, cancellable), its error kept in `errors`."""
    def run():
        if group:
            df.sparkSession.sparkContext.setJobGroup(group, "a model that never ends", interruptOnCancel=True)
        try:
            stage.transform(df).collect()
        except Exception as e:  # the cancellation, or the timeout
            errors.append(e)
    return run


def _no_task_left_running(spark, within=30):
    """True once no task runs on any executor (a cancelled job is reported at once; its tasks end only when
    their model run returns), within `within` seconds."""
    import time

    tracker = spark.sparkContext._jsc.sc().statusTracker()
    deadline = time.time() + within
    while time.time() < deadline:
        if sum(e.numRunningTasks() for e in tracker.getExecutorInfos()) == 0:
            return True
        time.sleep(0.2)
    return False


def _huge_graph(tmp_path):
    """A graph built directly (no freezing: TensorFlow's graph optimizer allocates gigabytes for such a shape)."""
    import tensorflow as tf

    from sparkdl.graph import FrozenGraph

    g = tf.Graph()
    with g.as_default():
        x = tf.compat.v1.placeholder(tf.float32, HUGE, name="input")
        tf.identity(tf.reduce_mean(x, axis=[1, 2]), name="output")
    graph = FrozenGraph(g.as_graph_def().SerializeToString(), ["input:0"], ["output:0"])
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
                                        r"row: 17.9 GiB for one row, more than .*spark.sparkdl.batchMemory") as e:
        TFImageTransformer(inputCol="image", outputCol="p", graph=graph, outputMode="array").transform(_image_df(spark))
    # README: one batch may take a quarter of the heap per task (local mode: the driver's heap, its cores)
    budget = spark._jvm.java.lang.Runtime.getRuntime().maxMemory() / 4 / spark.sparkContext.defaultParallelism
    said = re.search(r"more than the ([\d.]+) (GiB|MiB) one batch may take", str(e.value))
    assert said and abs(float(said.group(1)) * 2 ** (30 if said.group(2) == "GiB" else 20) - budget) <= \
        0.05 * 2 ** (30 if said.group(2) == "GiB" else 20), (said and said.group(0), budget)
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


def test_a_model_file_larger_than_the_limit_is_refused_by_its_size_never_read(spark, tmp_path):
    """A 1.5 GB .onnx (sparse: it takes no disk) is refused from its size alone, before a byte is read; the
    limit (a quarter of the driver's heap, at most 2 GiB) is spark.sparkdl.maxModelBytes."""
    from sparkdl import ONNXTransformer, TFImageTransformer
    from tests.support.fixtures import small_onnx_cnn

    big = str(tmp_path / "big.onnx")
    with open(big, "wb") as f:
        f.truncate(1500 * 1000 * 1000)
    values = spark.createDataFrame([([1.0, 2.0],)], "x array<float>")
    limit = min(2 ** 31 - 1, spark._jvm.java.lang.Runtime.getRuntime().maxMemory() // 4)  # README's default
    with pytest.raises(Exception, match=r"modelPath '.*big.onnx' is 1500000000 bytes, more than the %d a model "
                                        r"file may have here.*spark.sparkdl.maxModelBytes" % limit):
        ONNXTransformer(modelPath=big, inputMapping={"x": "x"}, outputMapping={"y": "y"}).transform(values)
    _session_survives(spark)
    small = small_onnx_cnn(tmp_path / "small.onnx")
    _frozen(lambda x: x * 2.0).save(str(tmp_path / "frozen"))  # a frozen graph file named in SQL
    spark.conf.set("spark.sparkdl.maxModelBytes", "100")
    try:
        with pytest.raises(Exception, match=r"small.onnx' is \d+ bytes, more than the 100 a model file"):
            TFImageTransformer(outputCol="p", graph=small).transform(_image_df(spark))
        with pytest.raises(Exception, match=r"frozen/graph.pb' is \d+ bytes, more than the 100 a model file"):
            spark.sql("SELECT sparkdl_tensor('%s', array(1.0, 2.0, 3.0))" % (tmp_path / "frozen" / "graph.pb")) \
                .collect()
    finally:
        spark.conf.unset("spark.sparkdl.maxModelBytes")
    assert TFImageTransformer(outputCol="p", graph=small, outputMode="array").transform(_image_df(spark)) \
        .first().p is not None
    _session_survives(spark)

    # a saved named stage whose export's graph.pb was swapped for a 1.5 GB file
    from sparkdl import DeepImageFeaturizer

    DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0").save(str(tmp_path / "stage"))
    pbs = [os.path.join(d, f) for d, _, fs in os.walk(str(tmp_path / "stage")) for f in fs if f == "graph.pb"]
    assert len(pbs) == 1, pbs
    with open(pbs[0], "wb") as f:
        f.truncate(1500 * 1000 * 1000)
    with pytest.raises(Exception, match=r"model file .*graph.pb is 1500000000 bytes, more than"):
        DeepImageFeaturizer.load(str(tmp_path / "stage")).transform(_image_df(spark))
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


@pytest.mark.parametrize("name", ["../../etc", "/etc/passwd", "..", "a/b", "hdfs:x", "a\\\\b"])
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


@pytest.mark.parametrize("relative", [True, False])
def test_a_saved_text_stage_naming_a_path_is_refused(spark, tmp_path, relative):
    """A saved stage whose modelName was edited into a path to a model folder (one that exists) loads nothing
    from there: names are names, a folder is modelDir."""
    from sparkdl import DeepTextFeaturizer

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_text(json.dumps({"model_type": "bert"}))
    name = "../../outside" if relative else str(outside)
    DeepTextFeaturizer(outputCol="e").save(str(tmp_path / "stage"))
    import glob

    (meta_file,) = glob.glob(os.path.join(str(tmp_path / "stage"), "metadata", "part-*"))
    with open(meta_file) as f:
        meta = json.loads(f.read())
    meta["paramMap"]["modelName"] = name
    with open(meta_file, "w") as f:
        f.write(json.dumps(meta))
    crc = os.path.join(os.path.dirname(meta_file), "." + os.path.basename(meta_file) + ".crc")
    if os.path.exists(crc):
        os.remove(crc)
    texts = spark.createDataFrame([("a cat",)], ["text"])
    with pytest.raises(Exception, match=r"'%s' is not a model name" % re.escape(name)):
        DeepTextFeaturizer.load(str(tmp_path / "stage")).transform(texts)
    _session_survives(spark)


def test_read_images_partitions_at_most_one_per_file(spark, image_dir):
    from sparkdl import readImages
    from tests.support import fixtures

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


def allowed_ops():
    """The allow-list the jar carries (tools/measure_tf_ops.py)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "scala", "src", "main", "resources", "sparkdl", "tf", "allowed-ops.txt")) as f:
        return {line.strip() for line in f if line.strip() and not line.startswith("#")}


def _frozen(fn, shape=(None, 3)):
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    return freeze_function(fn, [tf.TensorSpec(list(shape), tf.float32, name="input")])


def test_ops_outside_the_allow_list_are_refused_before_anything_runs(spark):
    """`Abort` would end the executor (the driver, in local mode), `CollectiveReduceV2` wait forever on
    peers: both are refused at transform, naming the op and the opt-in; the session lives on."""
    import tensorflow as tf

    from sparkdl import TFTransformer

    def aborting(x):
        with tf.control_dependencies([tf.raw_ops.Abort(error_msg="bye")]):
            return tf.identity(x * 2.0)

    def collective(x):
        return tf.raw_ops.CollectiveReduceV2(input=x, group_size=2, group_key=1, instance_key=1, ordering_token=[],
                                             merge_op="Add", final_op="Id")

    values = spark.createDataFrame([([1.0, 2.0, 3.0],)], "x array<float>")
    for fn, op in ((aborting, "Abort"), (collective, "CollectiveReduceV2")):
        with pytest.raises(Exception, match=r"uses TensorFlow ops that reach outside the model .*%s \(node .*"
                                            r"spark.sparkdl.graph.allowOps=%s" % (op, op)):
            TFTransformer(graph=_frozen(fn), inputMapping={"x": "input:0"},
                          outputMapping={"output:0": "y"}).transform(values).collect()
        _session_survives(spark)


def test_the_allow_list_holds_no_op_that_reaches_outside_the_model():
    """The ops the README names as refused are not in the list, nor any of their families (readers, writers,
    summaries, datasets, queues, collectives, send/receive), and the only loops are those LoopGuard guards."""

    ops = allowed_ops()
    named = {"ReadFile", "WriteFile", "MatchingFiles", "PyFunc", "PyFuncStateless", "EagerPyFunc", "Save", "SaveV2",
             "Restore", "RestoreV2", "MergeV2Checkpoints", "Print", "PrintV2", "Abort", "ImmutableConst",
             "InitializeTableFromTextFile", "InitializeTableFromTextFileV2", "DecodeProtoV2", "EncodeProto"}
    assert not named & ops
    families = re.compile(r"File|Reader|Writer|Summary|Dataset|Iterator|Queue|Enqueue|Dequeue|Barrier|Collective|"
                          r"Send|Recv|Rpc|Socket|Debug|Checkpoint|Tpu|TPU|PyFunc|Record")
    assert not sorted(op for op in ops if families.search(op))
    assert ops & {"LoopCond", "While", "StatelessWhile", "For", "MapDefun"} == {"LoopCond", "While", "StatelessWhile"}


@pytest.mark.parametrize("allow", ["Cumprod,Lgamma", "*"])
def test_allow_ops_takes_a_list_or_any_op(spark, allow):
    import tensorflow as tf

    from sparkdl import TFTransformer

    assert not {"Cumprod", "Lgamma"} & allowed_ops()
    values = spark.createDataFrame([([1.0, 2.0, 3.0],)], "x array<float>")
    spark.conf.set("spark.sparkdl.graph.allowOps", allow)
    try:
        stage = TFTransformer(graph=_frozen(lambda x: tf.math.cumprod(x, axis=1) + tf.math.lgamma(x)),
                              inputMapping={"x": "input:0"}, outputMapping={"output:0": "y"})
        (row,) = stage.transform(values).collect()
        np.testing.assert_allclose(row.y, [1.0, 2.0, 6.0 + np.log(2.0)], rtol=1e-6)
    finally:
        spark.conf.unset("spark.sparkdl.graph.allowOps")
    with pytest.raises(Exception, match=r"spark.sparkdl.graph.allowOps=Cumprod,Lgamma"):
        stage.transform(values)


def test_an_opt_in_belongs_to_its_session_not_to_a_cached_graph(spark):
    """One session allows an op outside the list and runs the graph; another session of the same driver,
    which never opted in, is refused the same (cached) graph."""
    import tensorflow as tf

    from sparkdl import TFTransformer

    assert "Cumprod" not in allowed_ops()
    graph = _frozen(lambda x: tf.math.cumprod(x, axis=1))
    spark.conf.set("spark.sparkdl.graph.allowOps", "Cumprod")
    try:
        stage = TFTransformer(graph=graph, inputMapping={"x": "input:0"}, outputMapping={"output:0": "y"})
        values = spark.createDataFrame([([1.0, 2.0, 3.0],)], "x array<float>")
        assert [list(r.y) for r in stage.transform(values).collect()] == [[1.0, 2.0, 6.0]]
        other = spark.newSession()
        assert other.conf.get("spark.sparkdl.graph.allowOps", None) is None
        with pytest.raises(Exception, match=r"Cumprod \(node .*spark.sparkdl.graph.allowOps=Cumprod"):
            stage.transform(other.createDataFrame([([1.0, 2.0, 3.0],)], "x array<float>"))
    finally:
        spark.conf.unset("spark.sparkdl.graph.allowOps")
    with pytest.raises(Exception, match="Cumprod"):
        stage.transform(values)
    _session_survives(spark)


def test_an_onnx_model_importing_a_custom_operator_domain_is_refused(spark, tmp_path):
    from onnx import TensorProto, helper, save

    from sparkdl import ONNXTransformer

    graph = helper.make_graph([helper.make_node("Evil", ["x"], ["y"], domain="com.example.native")], "custom",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18),
                                                    helper.make_opsetid("com.example.native", 1)])
    path = str(tmp_path / "custom.onnx")
    save(model, path)
    values = spark.createDataFrame([([1.0, 2.0, 3.0],)], "x array<float>")
    with pytest.raises(Exception, match=r"imports ONNX operator domains outside the standard ones "
                                        r"\(com.example.native\).*spark.sparkdl.onnx.allowDomains=com.example.native"):
        ONNXTransformer(modelPath=path, inputMapping={"x": "x"}, outputMapping={"y": "y"}).transform(values)
    _session_survives(spark)
    # the opt-in lets it through sparkdl's check: ONNX Runtime itself then says it has no such operator
    spark.conf.set("spark.sparkdl.onnx.allowDomains", "com.example.native")
    try:
        with pytest.raises(Exception) as e:
            ONNXTransformer(modelPath=path, inputMapping={"x": "x"}, outputMapping={"y": "y"}).transform(values) \
                .collect()
        assert "outside the standard ones" not in str(e.value) and "Evil" in str(e.value), str(e.value)[:500]
    finally:
        spark.conf.unset("spark.sparkdl.onnx.allowDomains")
    _session_survives(spark)


def test_onnx_runtimes_own_com_microsoft_operators_run_without_an_opt_in(spark, tmp_path):
    from math import erf, sqrt

    from onnx import TensorProto, helper, save

    from sparkdl import ONNXTransformer

    graph = helper.make_graph([helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft")], "gelu",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)]),
         str(tmp_path / "gelu.onnx"))
    values = spark.createDataFrame([([-1.0, 0.5, 2.0],)], "x array<float>")
    (row,) = ONNXTransformer(modelPath=str(tmp_path / "gelu.onnx"), inputMapping={"x": "x"},
                             outputMapping={"y": "y"}).transform(values).collect()
    np.testing.assert_allclose(row.y, [v * 0.5 * (1 + erf(v / sqrt(2))) for v in (-1.0, 0.5, 2.0)], atol=1e-6)


def test_model_local_functions_are_the_models_own_nodes_and_recursion_among_them_is_refused(spark, tmp_path):
    """A domain its own functions define is not a custom operator library: such a model runs without an
    opt-in. Functions that call each other would recurse without end: ONNX Runtime refuses the model at
    load, naming the cycle, and the session goes on."""
    from sparkdl import ONNXTransformer

    values = spark.createDataFrame([([-1.0, 0.5, 2.0],)], "x array<float>")

    def run(path):
        stage = ONNXTransformer(modelPath=path, inputMapping={"x": "x"}, outputMapping={"y": "y"})
        return stage.transform(values).collect()

    fine = onnx_with_local_functions(str(tmp_path / "fine.onnx"), {"Outer": ("Inner", "pkg.local"),
                                                               "Inner": ("Relu", "")}, "Outer")
    assert run(fine)[0].y == [0.0, 0.5, 2.0]
    cycle = onnx_with_local_functions(str(tmp_path / "cycle.onnx"), {"A": ("B", "pkg.local"),
                                                                 "B": ("A", "pkg.local")}, "A")
    with pytest.raises(Exception) as e:
        run(cycle)
    assert "cycle.onnx" in str(e.value) and "must not be recursive" in str(e.value), str(e.value)[:800]
    _session_survives(spark)
    # an op of that domain which no function defines is a custom operator again: refused before ONNX Runtime
    # sees the model, where the graph calls it and where only a subgraph (an If's branch) does
    unknown = onnx_with_local_functions(str(tmp_path / "unknown.onnx"), {"A": ("Relu", "")}, "Missing")
    nested = _if_calling(onnx_with_local_functions(str(tmp_path / "nested.onnx"), {"A": ("Relu", "")}, "A"),
                         ("Missing", "pkg.local"))
    for path in (unknown, nested):
        with pytest.raises(Exception) as e:
            run(path)
        assert "outside the standard ones (pkg.local)" in str(e.value), str(e.value)[:800]
        _session_survives(spark)


def _if_calling(path, call):
    """The model at ``path`` with its graph wrapped in an If whose then-branch calls ``call`` (op, domain)."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(path)
    then_branch = helper.make_graph([helper.make_node(call[0], ["x"], ["t"], domain=call[1])], "then", [],
                                    [helper.make_tensor_value_info("t", TensorProto.FLOAT, ["N", 3])])
    else_branch = helper.make_graph(list(model.graph.node), "else", [],
                                    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    cond = helper.make_node("Constant", [], ["c"], value=helper.make_tensor("c", TensorProto.BOOL, [], [False]))
    branch = helper.make_node("If", ["c"], ["y"], then_branch=then_branch, else_branch=else_branch)
    del model.graph.node[:]
    model.graph.node.extend([cond, branch])
    onnx.save(model, path)
    return path


def test_an_animated_gif_decodes_its_first_frame_only_and_says_so(spark, tmp_path):
    """TensorFlow's GIF op decodes every frame (60 frames of 800 x 800: 115 MB of pixels for a 1 MB file;
    3,000 of 2000 x 2000 took a JVM past 6 GB). The first frame alone is decoded (Pillow's pixels for it),
    and the row's imageError says what was left."""
    from PIL import Image

    from sparkdl import readImages
    from sparkdl.image.imageIO import imageStructToArray

    folder = tmp_path / "gifs"
    folder.mkdir()
    small = [Image.new("RGB", (40, 30), c) for c in ((200, 10, 10), (10, 200, 10), (10, 10, 200))]
    small[0].save(str(folder / "small.gif"), save_all=True, append_images=small[1:], duration=50)
    big = [Image.new("L", (800, 800), (i * 4) % 256) for i in range(60)]
    big[0].save(str(folder / "big.gif"), save_all=True, append_images=big[1:], duration=20)
    Image.new("RGB", (7, 5), (1, 2, 3)).save(str(folder / "still.gif"))
    rows = {r.filePath.rsplit("/", 1)[-1]: r for r in readImages(str(folder)).collect()}
    first = np.asarray(Image.open(str(folder / "small.gif")).convert("RGB"))[:, :, ::-1]
    np.testing.assert_array_equal(imageStructToArray(rows["small.gif"].image), first)
    assert rows["small.gif"].imageError == "animated GIF: its first frame of 3"
    assert (rows["big.gif"].image.width, rows["big.gif"].image.height) == (800, 800)
    assert rows["big.gif"].imageError == "animated GIF: its first frame of 60"
    assert rows["still.gif"].image.width == 7 and rows["still.gif"].imageError is None
    _session_survives(spark)


def test_float_tiffs_are_a_reason_never_zeros(spark, tmp_path):
    from PIL import Image

    from sparkdl import readImages

    folder = tmp_path / "tiffs"
    folder.mkdir()
    Image.fromarray(np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8), mode="F").save(str(folder / "f32.tif"))
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8), mode="L").save(str(folder / "u8.tif"))
    rows = {r.filePath.rsplit("/", 1)[-1]: r for r in readImages(str(folder)).collect()}
    assert rows["f32.tif"].image is None and "floating-point pixels" in rows["f32.tif"].imageError
    assert rows["u8.tif"].image.height == 8 and rows["u8.tif"].imageError is None


@pytest.mark.parametrize("text", ['{"inputs": ["input:0"], "outputs": ', '{"inputs": ["input:0"]}',
                                  '{"inputs": "input:0", "outputs": 7}'], ids=["cut short", "a key missing",
                                                                             "values of another type"])
def test_a_malformed_graph_json_is_named_in_the_error(spark, tmp_path, text):
    graph = _frozen(lambda x: x * 2.0)
    graph.save(str(tmp_path / "g"))
    (tmp_path / "g" / "graph.json").write_text(text)
    with pytest.raises(Exception, match=r"graph.json is not a graph's tensor names \(a JSON object"):
        spark.sql("SELECT sparkdl_tensor('%s', array(1.0, 2.0, 3.0))" % (tmp_path / "g" / "graph.pb")).collect()
    _session_survives(spark)


def test_training_with_null_labels_names_the_column_before_anything_loads(spark, tmp_path):
    """The labels are checked before the model file is read: here it is not a model at all, and the error is
    still the labels'."""
    from sparkdl import KerasImageFileEstimator

    (tmp_path / "m.keras").write_bytes(b"not a model")
    df = spark.createDataFrame([("file:/nowhere/a.png", 1.0), ("file:/nowhere/b.png", None)],
                               "uri string, label double")
    estimator = KerasImageFileEstimator(inputCol="uri", outputCol="p", labelCol="label", imageLoader=lambda u: None,
                                        modelFile=str(tmp_path / "m.keras"), kerasOptimizer="adam",
                                        kerasLoss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"labelCol 'label' has 1 null value\(s\).*df.na.drop\(subset=\['label'\]\)"):
        estimator.fit(df)
    with pytest.raises(ValueError, match="labelCol 'target' does not exist. Available columns: uri, label"):
        estimator.copy({estimator.labelCol: "target"}).fit(df)


def test_a_model_with_a_layer_of_your_own_names_it_and_kerasCustomObjects(spark, tmp_path):
    import keras

    from sparkdl import KerasTransformer

    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((3,))
    keras.Model(inputs, Doubler()(inputs)).save(str(tmp_path / "custom.keras"))
    values = spark.createDataFrame([([1.0, 2.0, 3.0],)], "x array<float>")
    with pytest.raises(ValueError, match=r"uses 'Doubler', a layer or function of your own.*"
                                         r"kerasCustomObjects=\{'Doubler': Doubler\}"):
        KerasTransformer(inputCol="x", outputCol="y", modelFile=str(tmp_path / "custom.keras")).transform(values)


def _endless_onnx(path):
    """x float [N, 3] -> a Loop of 2^62 iterations adding 1: a model that never ends."""
    from onnx import TensorProto, helper, numpy_helper, save

    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Add", ["v_in", "one"], ["v_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                 helper.make_tensor_value_info("v_in", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v_out", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(np.array(1.0, np.float32), "one")])
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "keep_going", "x"], ["y"], body=body)], "endless",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [numpy_helper.from_array(np.array(2 ** 62, np.int64), "trips"),
         numpy_helper.from_array(np.array(True), "keep_going")])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_a_model_that_never_ends_dies_with_the_run_timeout(spark, tmp_path):
    import time

    from sparkdl import ONNXTransformer

    stage = ONNXTransformer(modelPath=_endless_onnx(str(tmp_path / "endless.onnx")), inputMapping={"x": "x"},
                            outputMapping={"y": "y"}, batchSize=1)
    values = spark.createDataFrame([([1.0, 2.0, 3.0],), ([4.0, 5.0, 6.0],)], "x array<float>")
    spark.conf.set("spark.sparkdl.runTimeout", "2s")
    try:
        start = time.time()
        with pytest.raises(Exception, match=r"The model run was stopped: it ran longer than "
                                            r"spark.sparkdl.runTimeout=2000ms"):
            stage.transform(values).collect()
        assert time.time() - start < 30
    finally:
        spark.conf.unset("spark.sparkdl.runTimeout")
    _session_survives(spark)


def test_a_model_that_never_ends_is_stopped_by_cancelling_its_job(spark, tmp_path):
    """cancelJobGroup kills the tasks; their ONNX Runtime runs are terminated, so the cores are free and the
    next job (here a real model on the same JVM) completes within 30 s."""
    import time

    from pyspark import InheritableThread

    from sparkdl import ONNXTransformer
    from tests.support.fixtures import mlp

    stage = ONNXTransformer(modelPath=_endless_onnx(str(tmp_path / "endless.onnx")), inputMapping={"x": "x"},
                            outputMapping={"y": "y"}, batchSize=1)
    values = spark.createDataFrame([([1.0, 2.0, 3.0],), ([4.0, 5.0, 6.0],)], "x array<float>").repartition(2)
    errors = []

    endless_job = _failing_job(stage, values, errors, group="endless-model")
    thread = InheritableThread(target=endless_job)
    thread.start()
    time.sleep(4)  # the tasks are in the model by now
    spark.sparkContext.cancelJobGroup("endless-model")
    start = time.time()
    thread.join(60)
    assert not thread.is_alive() and errors and "cancel" in str(errors[0]).lower(), errors
    assert _no_task_left_running(spark)  # the runs were stopped, not just the job reported cancelled
    ok = ONNXTransformer(modelPath=mlp(str(tmp_path / "mlp.onnx")), inputMapping={"x": "x"},
                         outputMapping={"y": "y", "s": "s"})
    rows = spark.createDataFrame([([1.0, 2.0, 3.0, 4.0],)] * 8, "x array<float>").repartition(2)
    assert ok.transform(rows).count() == 8
    assert time.time() - start < 30


def _counting(x):
    """x float [N, 3] -> x + n, by a loop of n = x[0, 0] iterations; one that never ends when n < 0."""
    import tensorflow as tf

    n = tf.cast(x[0, 0], tf.int64)
    _, y = tf.while_loop(lambda i, y: tf.logical_or(n < 0, i < n), lambda i, y: (i + 1, y + 1.0),
                         [tf.constant(0, tf.int64), x])
    return y


def _counting_graphs():
    """`_counting` in both of TensorFlow's loop forms: frozen by sparkdl (TensorFlow 1 frames: `LoopCond`,
    what Keras recurrent layers become) and as a graph whose loop is a functional `While` op calling its
    `cond` and `body` functions."""
    import tensorflow as tf

    from sparkdl.graph import FrozenGraph

    frames = _frozen(_counting)
    g = tf.Graph()
    with g.as_default():
        tf.identity(_counting(tf.compat.v1.placeholder(tf.float32, [None, 3], name="input")), name="output")
    functional = FrozenGraph(g.as_graph_def().SerializeToString(), ["input:0"], ["output:0"])
    ops = {n.op for n in g.as_graph_def().node}
    assert ops & {"While", "StatelessWhile"} and "LoopCond" not in ops, ops
    return {"frames": frames, "functional": functional}


@pytest.mark.parametrize("form", ["frames", "functional"])
def test_a_tensorflow_loop_that_never_ends_dies_with_the_run_timeout(spark, form):
    """TensorFlow ignores its own run timeout while a loop spins; sparkdl's guard on every loop iteration
    stops it. A finite loop of the same graph gives its exact answer, before and after."""
    import time

    from pyspark import InheritableThread

    from sparkdl import TFTransformer

    stage = TFTransformer(graph=_counting_graphs()[form], inputMapping={"x": "input:0"},
                          outputMapping={"output:0": "y"}, batchSize=1)
    finite = spark.createDataFrame([([1000.0, 0.0, 2.0],)], "x array<float>")
    assert [list(r.y) for r in stage.transform(finite).collect()] == [[2000.0, 1000.0, 1002.0]]
    endless = spark.createDataFrame([([-1.0, 0.0, 0.0],), ([3.0, 0.0, 0.0],)], "x array<float>")
    errors = []

    endless_job = _failing_job(stage, endless, errors)
    spark.conf.set("spark.sparkdl.runTimeout", "2s")
    try:
        start = time.time()
        thread = InheritableThread(target=endless_job)
        thread.start()
        thread.join(30)  # a hang fails here
        assert not thread.is_alive() and time.time() - start < 30
    finally:
        spark.conf.unset("spark.sparkdl.runTimeout")
    assert errors and re.search(r"The model run was stopped: it ran longer than spark.sparkdl.runTimeout=2000ms",
                                str(errors[0])), errors
    assert [list(r.y) for r in stage.transform(finite).collect()] == [[2000.0, 1000.0, 1002.0]]
    _session_survives(spark)


@pytest.mark.parametrize("form", ["frames", "functional"])
def test_a_tensorflow_loop_that_never_ends_is_stopped_by_cancelling_its_job(spark, form):
    """cancelJobGroup stops the endless run; a run of the same graph in another job, inside a long loop at that
    moment, is not lost (it runs again and gives its exact answer); then the next job completes within 30 s."""
    import time

    from pyspark import InheritableThread

    from sparkdl import TFTransformer

    stage = TFTransformer(graph=_counting_graphs()[form], inputMapping={"x": "input:0"},
                          outputMapping={"output:0": "y"}, batchSize=1)
    # one task each: a loop of about 10 s, and a loop that never ends
    long = spark.createDataFrame([([2e6, 0.0, 1.0],)], "x array<float>").coalesce(1)
    endless = spark.createDataFrame([([-1.0, 0.0, 0.0],)], "x array<float>").coalesce(1)
    errors, answers = [], []

    def long_job():
        answers.extend(list(r.y) for r in stage.transform(long).collect())

    endless_job = _failing_job(stage, endless, errors, group="endless-tf")
    threads = [InheritableThread(target=long_job), InheritableThread(target=endless_job)]
    threads[0].start()
    time.sleep(2)  # the long run is in its loop
    threads[1].start()
    time.sleep(3)  # the endless run is in its loop too
    spark.sparkContext.cancelJobGroup("endless-tf")
    start = time.time()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors and "cancel" in str(errors[0]).lower(), errors
    assert _no_task_left_running(spark)
    assert answers == [[4e6, 2e6, 2e6 + 1.0]]
    rows = spark.createDataFrame([([10.0, 1.0, 2.0],)] * 4, "x array<float>").repartition(2)
    assert [list(r.y) for r in stage.transform(rows).collect()] == [[20.0, 11.0, 12.0]] * 4
    assert time.time() - start < 30


def test_a_graph_whose_functions_call_themselves_is_refused(spark):
    """TensorFlow has no recursion: a function calling itself (here through `PartitionedCall`) is instantiated
    until the JVM dies. Refused when the graph is read, naming the cycle; the session lives on."""
    from tensorflow.core.framework import graph_pb2, types_pb2

    from sparkdl import TFTransformer
    from sparkdl.graph import FrozenGraph

    def call(node, function, inputs):
        node.op = "PartitionedCall"
        node.input.extend(inputs)
        node.attr["Tin"].list.type.append(types_pb2.DT_FLOAT)
        node.attr["Tout"].list.type.append(types_pb2.DT_FLOAT)
        node.attr["f"].func.name = function

    g = graph_pb2.GraphDef()
    for name, callee in (("ping", "pong"), ("pong", "ping")):
        f = g.library.function.add()
        f.signature.name = name
        f.signature.input_arg.add(name="x", type=types_pb2.DT_FLOAT)
        f.signature.output_arg.add(name="y", type=types_pb2.DT_FLOAT)
        call(f.node_def.add(name="call"), callee, ["x"])
        f.ret["y"] = "call:output:0"
    x = g.node.add(name="input", op="Placeholder")
    x.attr["dtype"].type = types_pb2.DT_FLOAT
    x.attr["shape"].shape.dim.add(size=-1)
    x.attr["shape"].shape.dim.add(size=2)
    call(g.node.add(name="output"), "ping", ["input"])
    values = spark.createDataFrame([([1.0, 2.0],)], "x array<float>")
    with pytest.raises(Exception, match=r"has functions that call themselves \((ping -> pong -> ping|pong -> ping "
                                        r"-> pong)\)\. Refused: TensorFlow has no recursion"):
        graph = FrozenGraph(g.SerializeToString(), ["input:0"], ["output:0"])
        TFTransformer(graph=graph, inputMapping={"x": "input:0"}, outputMapping={"output:0": "y"}) \
            .transform(values).collect()
    _session_survives(spark)


@pytest.mark.parametrize("damage", ["truncated", "missing key", "wrong type"])
def test_a_saved_stage_whose_model_json_is_damaged_names_the_file(spark, tmp_path, damage):
    """An export's `model.json` that is not what sparkdl wrote (cut short, a key gone, a value of the wrong type)
    is refused naming the file, never a parser's bare message."""
    from sparkdl import DeepImageFeaturizer

    DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0").save(str(tmp_path / "stage"))
    (meta_path,) = [os.path.join(d, f) for d, _, fs in os.walk(str(tmp_path / "stage")) for f in fs
                    if f == "model.json"]
    with open(meta_path) as f:
        text = f.read()
    meta = json.loads(text)
    if damage == "truncated":
        text = text[: len(text) // 2]
    elif damage == "missing key":
        text = json.dumps({k: v for k, v in meta.items() if k != "height"})
    else:
        text = json.dumps(dict(meta, height="tall"))
    with open(meta_path, "w") as f:
        f.write(text)
    crc = os.path.join(os.path.dirname(meta_path), ".model.json.crc")
    if os.path.exists(crc):
        os.remove(crc)
    with pytest.raises(Exception) as e:
        DeepImageFeaturizer.load(str(tmp_path / "stage")).transform(_image_df(spark)).collect()
    assert "model.json" in str(e.value) and os.path.basename(os.path.dirname(meta_path)) in str(e.value), \
        str(e.value)[:800]
    _session_survives(spark)


def test_the_image_limits_default_to_the_documented_values(spark, tmp_path):
    """README: files above 512 MiB are not read, images declaring more than 100 megapixels are not decoded."""
    import struct
    import zlib

    from sparkdl import readImages

    def png_header(width, height):  # the signature and IHDR alone: what the limit is decided from
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + \
            struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)

    folder = tmp_path / "limits"
    folder.mkdir()
    (folder / "over.png").write_bytes(png_header(10001, 10000))
    (folder / "at.png").write_bytes(png_header(10000, 10000))
    with open(folder / "big.png", "wb") as f:
        f.write(png_header(100, 100))
        f.truncate((512 << 20) + 1)  # an image by its header, one byte over 512 MiB (sparse)
    rows = {os.path.basename(r.filePath): r for r in readImages(str(folder)).select("filePath", "imageError").collect()}
    assert "more than maxBytes=%d" % (512 << 20) in rows["big.png"].imageError
    assert "more than the limit of 100000000" in rows["over.png"].imageError
    assert "limit" not in rows["at.png"].imageError  # refused for what it lacks (its pixels), not its size


def test_a_failed_stage_stops_a_run_of_its_other_tasks(spark):
    """One task fails (a row of the wrong size), so Spark aborts the stage and kills its other task, which is in
    a loop that never ends: that run is stopped too, and the cores are free for the next job."""
    import time

    from sparkdl import TFTransformer

    stage = TFTransformer(graph=_counting_graphs()["frames"], inputMapping={"x": "input:0"},
                          outputMapping={"output:0": "y"}, batchSize=1)
    # task 0: the endless loop; task 1: a loop of seconds (so task 0 is in its loop by then), then the bad row
    data = [([-1.0, 0.0, 0.0],), ([1e6, 0.0, 0.0],), ([1.0, 2.0],)]
    rows = spark.createDataFrame(spark.sparkContext.parallelize(data, 2), "x array<float>")
    assert rows.rdd.glom().map(len).collect() == [1, 2]
    start = time.time()
    with pytest.raises(Exception, match=r"Column 'x'.*2 values"):
        stage.transform(rows).collect()
    assert _no_task_left_running(spark) and time.time() - start < 30
    assert [list(r.y) for r in stage.transform(spark.createDataFrame([([2.0, 0.0, 1.0],)], "x array<float>"))
            .collect()] == [[4.0, 2.0, 3.0]]


@pytest.mark.parametrize("num_workers", [1, 2])
def test_training_a_model_that_carries_python_code_names_the_file_and_the_way_out(spark, tmp_path, num_workers):
    """A Lambda layer is code that Keras' safe mode refuses to load; the estimator says so, naming the file,
    before any training (also before the distributed workers start)."""
    import keras

    from sparkdl import KerasImageFileEstimator

    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Lambda(lambda t: t * 2.0), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    df = spark.createDataFrame([("file:/nowhere/a.png", 1.0), ("file:/nowhere/b.png", 0.0)], "uri string, label double")
    estimator = KerasImageFileEstimator(inputCol="uri", outputCol="p", labelCol="label", numWorkers=num_workers,
                                        imageLoader=lambda u: np.zeros((4, 4, 3), np.float32), modelFile=path,
                                        kerasOptimizer="adam", kerasLoss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"modelFile '%s' contains Python code \(a Lambda layer\).*"
                                         r"register_keras_serializable" % re.escape(path)):
        estimator.fit(df)
    _session_survives(spark)
