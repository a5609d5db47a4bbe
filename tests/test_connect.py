"""sparkdl from a Spark Connect client: a standalone Connect server in its own JVM with the
sparkdl jar, clients in a virtualenv with `pyspark-client` only (no JVM, no TensorFlow).
The same calls in classic mode, in this process, are the reference."""
import os

import numpy as np
import pytest

import sparkdl
from tests.support.connect import ConnectServer, run_client
from tests.support.fixtures import image_rows

pytestmark = pytest.mark.connect
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def model_dir():
    """An EfficientNetLite0 export (made here, where TensorFlow is), the server's spark.sparkdl.modelDir."""
    from sparkdl.models.export import cached_model_dir

    return cached_model_dir("EfficientNetLite0")


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_dir):
    with ConnectServer(str(tmp_path_factory.mktemp("connect")), jars=[sparkdl.jar_path()],
                       conf={"spark.sparkdl.modelDir": model_dir}) as s:
        yield s


READ_IMAGES = '''
import sparkdl
from tests.support.fixtures import image_rows
result = {
    "full": image_rows(sparkdl.readImages(args["dir"])),
    "draft": image_rows(sparkdl.readImages(args["dir"], draftSize=64, numPartitions=3)),
    "sql_count": spark.read.format("sparkdl.image").load(args["dir"]).filter("image IS NULL").count(),
}
'''


def test_read_images_over_connect_equals_classic(spark, server, image_dir):
    got = run_client(server.url, READ_IMAGES, {"dir": image_dir})
    assert got["full"] == image_rows(sparkdl.readImages(image_dir))
    assert got["draft"] == image_rows(sparkdl.readImages(image_dir, draftSize=64))
    assert got["sql_count"] == sum(1 for v in got["full"].values() if v[0] is None) == 4
    assert all(v[1] for v in got["full"].values() if v[0] is None), "every null image has a reason"


MISSING_JAR = '''
import sparkdl
from sparkdl.graph import FrozenGraph

pairs = spark.createDataFrame([(1, [1.0, 2.0, 3.0], [4.0, 5.0])], ["id", "a", "b"])
from pyspark.sql.types import StructField, StructType
from sparkdl.image.imageIO import imageSchema
no_images = spark.createDataFrame([], StructType([StructField("image", imageSchema)]))
calls = {
    "readImages": lambda: sparkdl.readImages(args["dir"]),
    "TFTransformer": lambda: sparkdl.TFTransformer(
        graph=FrozenGraph.load(args["two"]), inputMapping={"a": "a:0", "b": "b:0"},
        outputMapping={"total:0": "total"}).transform(pairs),
    "DeepImageFeaturizer": lambda: sparkdl.DeepImageFeaturizer(
        inputCol="image", outputCol="f", modelName="EfficientNetLite0", modelDir="/models").transform(no_images),
    "load": lambda: sparkdl.TFImageTransformer.load(args["dir"]),
}
result = {}
for name, call in calls.items():
    try:
        call()
        result[name] = "no error"
    except sparkdl.SparkdlJarMissingError as e:
        result[name] = str(e)
'''


def test_server_without_the_jar_says_to_start_it_with_jars(tmp_path, image_dir):
    """readImages, a stage's transform and load: the error says how to start the server."""
    two_in_two_out().save(str(tmp_path / "two"))
    with ConnectServer(str(tmp_path / "nojar")) as bare:
        messages = run_client(bare.url, MISSING_JAR, {"dir": image_dir, "two": str(tmp_path / "two")})
    assert set(messages) == {"readImages", "TFTransformer", "DeepImageFeaturizer", "load"}
    for call, message in messages.items():
        assert "Spark Connect server" in message and "--jars" in message and "SparkConnectServer" in message, call


STAGES = '''
import sparkdl
from sparkdl.graph import FrozenGraph

def by_file(df, col):
    return {os.path.basename(r.filePath): None if r[col] is None else [float(v) for v in r[col]]
            for r in df.collect()}

images = sparkdl.readImages(args["images"])
cnn = sparkdl.TFImageTransformer(inputCol="image", outputCol="out", graph=FrozenGraph.load(args["cnn"]),
                                 outputMode="array", handleInvalid="keep")
cnn.write().overwrite().save(args["saved"])
features = sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
predictor = sparkdl.DeepImagePredictor(inputCol="image", outputCol="p", modelName="EfficientNetLite0",
                                       decodePredictions=True, topK=3)
pairs = spark.createDataFrame([(i, [float(i), 1.0, -2.0], [0.5 * i, 3.0]) for i in range(5)], ["id", "a", "b"])
tensors = sparkdl.TFTransformer(graph=FrozenGraph.load(args["two"]), inputMapping={"a": "a:0", "b": "b:0"},
                                outputMapping={"total:0": "total", "scaled:0": "scaled"})
try:
    sparkdl.TFImageTransformer(inputCol="image", outputCol="x", graph=FrozenGraph.load(args["cnn"]),
                               inputTensor="nope:0").transform(images).collect()
    wrong_tensor = "no error"
except Exception as e:
    wrong_tensor = str(e)
try:
    sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="resnet50").transform(images)
    unknown_model = "no error"
except Exception as e:
    unknown_model = str(e)
result = {
    "unknown_model": unknown_model,
    "cnn": by_file(cnn.transform(images), "out"),
    "features": by_file(features.transform(images), "f"),
    "top3": {os.path.basename(r.filePath): None if r.p is None else [[c["class"], c["description"], c["probability"]]
                                                                     for c in r.p]
             for r in predictor.transform(images).collect()},
    "tensors": [[r.id, float(r.total), [float(v) for v in r.scaled]]
                for r in tensors.transform(pairs).orderBy("id").collect()],
    "wrong_tensor": wrong_tensor,
    "loaded_class": type(sparkdl.TFImageTransformer.load(args["saved"])).__name__,
}
'''


def two_in_two_out():
    """total = sum(a) + sum(b) per row (shape [batch]); scaled = b * 2 + 1 ([batch, 2])."""
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    def fn(a, b):
        return {"total": tf.reduce_sum(a, axis=1) + tf.reduce_sum(b, axis=1), "scaled": b * 2.0 + 1.0}

    return freeze_function(fn, [tf.TensorSpec([None, 3], tf.float32, name="a"),
                                tf.TensorSpec([None, 2], tf.float32, name="b")])


def assert_close(got, want, what):
    assert set(got) == set(want), what
    for key in want:
        if want[key] is None:
            assert got[key] is None, (what, key)
        else:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-5, err_msg="%s %s" % (what, key))


def test_stages_over_connect_equal_classic(spark, server, image_dir, cnn, tmp_path):
    """TFImageTransformer (graph as an artifact), named models (the server's modelDir), TFTransformer
    two-in/two-out, a stage saved by the client and loaded in classic mode, and a clear error."""
    from sparkdl.graph import freeze_keras

    freeze_keras(cnn).save(str(tmp_path / "cnn"))
    two = two_in_two_out()
    two.save(str(tmp_path / "two"))
    saved = str(tmp_path / "saved-stage")
    got = run_client(server.url, STAGES, {"images": image_dir, "cnn": str(tmp_path / "cnn"),
                                          "two": str(tmp_path / "two"), "saved": saved})

    def by_file(df, col):
        return {os.path.basename(r.filePath): None if r[col] is None else [float(v) for v in r[col]]
                for r in df.collect()}

    images = sparkdl.readImages(image_dir)
    cnn_stage = sparkdl.TFImageTransformer(inputCol="image", outputCol="out", graph=cnn, outputMode="array",
                                           handleInvalid="keep")
    want = by_file(cnn_stage.transform(images), "out")
    assert sum(v is not None for v in want.values()) == 8
    assert_close(got["cnn"], want, "TFImageTransformer")
    assert_close(by_file(sparkdl.TFImageTransformer.load(saved).transform(images), "out"), want,
                 "saved over Connect, loaded in classic mode")
    assert got["loaded_class"] == "TFImageTransformer"

    features = sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
    assert_close(got["features"], by_file(features.transform(images), "f"), "DeepImageFeaturizer")
    predictor = sparkdl.DeepImagePredictor(inputCol="image", outputCol="p", modelName="EfficientNetLite0",
                                           decodePredictions=True, topK=3)
    want_top = {os.path.basename(r.filePath): r.p for r in predictor.transform(images).collect()}
    assert got["top3"]["chelsea.jpg"][0][1] == "Egyptian cat"
    for name, top in want_top.items():
        if top is None:
            assert got["top3"][name] is None
        else:
            assert [c[0] for c in got["top3"][name]] == [c["class"] for c in top], name
            np.testing.assert_allclose([c[2] for c in got["top3"][name]], [c["probability"] for c in top], atol=1e-5)

    pairs = spark.createDataFrame([(i, [float(i), 1.0, -2.0], [0.5 * i, 3.0]) for i in range(5)], ["id", "a", "b"])
    tensors = sparkdl.TFTransformer(graph=two, inputMapping={"a": "a:0", "b": "b:0"},
                                    outputMapping={"total:0": "total", "scaled:0": "scaled"})
    want_rows = [[r.id, float(r.total), [float(v) for v in r.scaled]]
                 for r in tensors.transform(pairs).orderBy("id").collect()]
    assert [r[0] for r in got["tensors"]] == [r[0] for r in want_rows]
    np.testing.assert_allclose([r[1] for r in got["tensors"]], [r[1] for r in want_rows], atol=1e-5)
    np.testing.assert_allclose([r[2] for r in got["tensors"]], [r[2] for r in want_rows], atol=1e-5)

    assert "'nope:0'" in got["wrong_tensor"] and "input:0" in got["wrong_tensor"], got["wrong_tensor"]
    with pytest.raises(ValueError) as classic_error:
        sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="resnet50").transform(images)
    assert got["unknown_model"] == str(classic_error.value) and "ResNet50" in got["unknown_model"]


PIPELINE = '''
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.sql import functions as F
import sparkdl

images = sparkdl.readImages(args["shapes"], recursive=True)
labelled = images.withColumn("label", (F.element_at(F.split("filePath", "/"), -2) == "red").cast("double"))
pipeline = Pipeline(stages=[
    sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="features", modelName="EfficientNetLite0"),
    LogisticRegression(maxIter=30, regParam=0.05)])
model = pipeline.fit(labelled)
model.write().overwrite().save(args["saved"])
result = {os.path.basename(r.filePath): [r.prediction, [float(p) for p in r.probability]]
          for r in model.transform(labelled).collect()}
'''


def test_pipeline_fitted_over_connect_loads_in_classic_python_and_scala(spark, server, model_dir, tmp_path):
    """Pipeline(DeepImageFeaturizer, LogisticRegression) fitted and saved by a JVM-free client;
    loaded by classic PySpark and by Scala (sparkdl.ml.PipelineModels.load), it predicts the same."""
    from pyspark.ml import PipelineModel

    from tests.support.fixtures import write_shapes

    shapes = write_shapes(str(tmp_path / "shapes"), n_per_class=12, seed=5, task="colour")
    saved = str(tmp_path / "pipeline")
    got = run_client(server.url, PIPELINE, {"shapes": shapes, "saved": saved})
    assert len(got) == 24
    accuracy = sum((g[0] == 1.0) == name.startswith("red") for name, g in got.items()) / len(got)
    assert accuracy >= 0.9, "the pipeline fitted over Connect did not learn red vs blue: %.2f" % accuracy

    images = sparkdl.readImages(shapes, recursive=True)
    classic = PipelineModel.load(saved)
    assert type(classic.stages[0]).__name__ == "DeepImageFeaturizer"
    rows = {os.path.basename(r.filePath): r for r in classic.transform(images).collect()}
    # Spark's own PipelineModel.load refuses pyspark's metadata, which Connect clients write
    scala = spark._jvm.sparkdl.ml.PipelineModels.load(saved)
    spark.conf.set("spark.sparkdl.modelDir", model_dir)  # what a Scala application sets
    try:
        from pyspark.sql import DataFrame

        scala_rows = DataFrame(scala.transform(images._jdf), spark).select("filePath", "probability").collect()
    finally:
        spark.conf.unset("spark.sparkdl.modelDir")
    scala_probs = {os.path.basename(r.filePath): r.probability.toArray() for r in scala_rows}
    for name, (prediction, probability) in got.items():
        assert rows[name].prediction == prediction, name
        np.testing.assert_allclose(rows[name].probability.toArray(), probability, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(scala_probs[name], probability, atol=1e-5, err_msg=name)


KERAS = '''
import numpy as np
import sparkdl

def pil_loader(uri):
    from PIL import Image

    path = uri[len("file:"):] if uri.startswith("file:") else uri
    return np.asarray(Image.open(path).convert("RGB").resize((64, 48), Image.BILINEAR), np.float32)[None]

def nearest(rgb):
    from PIL import Image

    img = Image.fromarray(rgb[:, :, 0] if rgb.shape[2] == 1 else rgb[:, :, :3])
    return np.asarray(img.convert("RGB").resize((64, 48), Image.NEAREST), np.float32)

def floats(v):
    return None if v is None else [float(x) for x in v]

vectors = spark.createDataFrame([(i, [float(i) * 0.1 + j for j in range(6)]) for i in range(7)], ["id", "features"])
dense = sparkdl.KerasTransformer(inputCol="features", outputCol="out", modelFile=args["dense"])
uris = spark.createDataFrame([(u,) for u in args["uris"]], ["uri"])
loaded = sparkdl.KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=args["cnn"],
                                           imageLoader=pil_loader, outputMode="array")
jvm_loaded = sparkdl.KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=args["cnn"])
loaded.write().overwrite().save(args["saved"])
sparkdl.registerKerasImageUDF("cnn_probs", args["cnn"])
sparkdl.registerKerasImageUDF("cnn_custom", args["cnn"], preprocessor=nearest)
sparkdl.registerKerasUDF("my_object_recognition_function", keras_model_file=args["cnn"])
sparkdl.readImages(args["images"]).createOrReplaceTempView("imgs")
sql = spark.sql("SELECT filePath, cnn_probs(image) AS a, cnn_custom(image) AS b, "
                "my_object_recognition_function(image) AS c, "
                "sparkdl_features('EfficientNetLite0', image) AS f FROM imgs")
result = {
    "dense": {r.id: floats(r.out) for r in dense.transform(vectors).collect()},
    "loaded": {r.uri: floats(r.preds) for r in loaded.transform(uris).collect()},
    # a saved stage's pickled loader is only unpickled with the reader's opt-in
    "loaded_again": {r.uri: floats(r.preds) for r in sparkdl.KerasImageFileTransformer.load(
        args["saved"], allowUnsafeDeserialization=True).transform(uris).collect()},
    "jvm_loaded": {r.uri: floats(r.preds) for r in jvm_loaded.transform(uris).collect()},
    "sql": {os.path.basename(r.filePath): [floats(r.a), floats(r.b), floats(r.c), floats(r.f)]
            for r in sql.collect()},
}
# no modelDir on the server: the client exports the named model (its own TensorFlow) and uploads it
spark.conf.unset("spark.sparkdl.modelDir")
os.environ["SPARKDL_MODEL_CACHE"] = args["client_cache"]
features = sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
result["client_export"] = {os.path.basename(r.filePath): floats(r.f)
                           for r in features.transform(sparkdl.readImages(args["images"])).collect()}
result["client_export_files"] = sorted(os.listdir(os.path.join(args["client_cache"], "imagenet")))
result["persisted_model_dir"] = features.isSet(features.modelDir)
'''


def test_keras_stages_and_sql_functions_over_connect_equal_classic(spark, server, image_dir, cnn, tmp_path):
    """A Connect client with its own TensorFlow (the version pyspark-client allows) freezes Keras
    models; their graphs run in the server's TensorFlow Java and give classic mode's numbers:
    KerasTransformer, KerasImageFileTransformer (Python loader, saved and loaded; JVM loading),
    registerKerasImageUDF (with and without a preprocessor), registerKerasUDF, sparkdl_features,
    and a named model the client exports and uploads when the server has no modelDir."""
    import keras

    from tests.support import fixtures
    from tests.support.fixtures import pil_loader

    keras.utils.set_random_seed(3)
    dense_model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5, activation="tanh"),
                                    keras.layers.Dense(3)])
    paths = {"dense": str(tmp_path / "dense.keras"), "cnn": str(tmp_path / "cnn.keras")}
    dense_model.save(paths["dense"])
    cnn.save(paths["cnn"])
    uris = sorted("file:" + os.path.join(image_dir, n) for n in fixtures.GOOD)
    got, tf_version = run_client(server.url, KERAS, dict(paths, uris=uris, images=image_dir,
                                                         saved=str(tmp_path / "saved"),
                                                         client_cache=str(tmp_path / "client-models")),
                                 tensorflow=True)
    assert tf_version == sparkdl_version("tensorflow.connect.version") != sparkdl_version("tensorflow.version")

    vectors = spark.createDataFrame([(i, [float(i) * 0.1 + j for j in range(6)]) for i in range(7)],
                                    ["id", "features"])
    dense = sparkdl.KerasTransformer(inputCol="features", outputCol="out", modelFile=paths["dense"])
    want = {str(r.id): [float(v) for v in r.out] for r in dense.transform(vectors).collect()}
    assert_close(got["dense"], want, "KerasTransformer")

    uri_df = spark.createDataFrame([(u,) for u in uris], ["uri"])
    loaded = sparkdl.KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=paths["cnn"],
                                               imageLoader=pil_loader, outputMode="array")
    want = {r.uri: [float(v) for v in r.preds] for r in loaded.transform(uri_df).collect()}
    assert len(want) == 8
    assert_close(got["loaded"], want, "KerasImageFileTransformer with a Python loader")
    assert_close(got["loaded_again"], want, "... saved over Connect and loaded there")
    jvm = sparkdl.KerasImageFileTransformer(inputCol="uri", outputCol="preds", modelFile=paths["cnn"])
    assert_close(got["jvm_loaded"], {r.uri: r.preds.toArray().tolist() for r in jvm.transform(uri_df).collect()},
                 "KerasImageFileTransformer, JVM loading")

    sparkdl.registerKerasImageUDF("cnn_probs", cnn)
    images = sparkdl.readImages(image_dir)
    want = {os.path.basename(r.filePath): r for r in images.selectExpr("filePath", "cnn_probs(image) AS a").collect()}
    features = sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
    want_f = {os.path.basename(r.filePath): r.f for r in features.transform(images).collect()}
    for what, column, reference in [("registerKerasImageUDF", 0, lambda n: want[n].a),
                                    ("registerKerasUDF", 2, lambda n: want[n].a),
                                    ("sparkdl_features", 3, lambda n: want_f[n])]:
        assert_close({n: v[column] for n, v in got["sql"].items()},
                     {n: None if reference(n) is None else [float(x) for x in reference(n)] for n in want}, what)
    assert got["client_export_files"] == ["EfficientNetLite0"] and not got["persisted_model_dir"]
    assert_close(got["client_export"], {n: None if v is None else [float(x) for x in v] for n, v in want_f.items()},
                 "DeepImageFeaturizer exported by the client's TensorFlow")
    # the preprocessor (Pillow, nearest) in Python workers, then the model in the JVM
    from PIL import Image

    from sparkdl.image.imageIO import imageStructToArray

    for row in images.filter("image IS NOT NULL").collect():
        arr = imageStructToArray(row.image)
        rgb = arr if arr.shape[2] == 1 else arr[:, :, [2, 1, 0]]
        img = Image.fromarray(rgb[:, :, 0] if rgb.shape[2] == 1 else rgb[:, :, :3])
        x = np.asarray(img.convert("RGB").resize((64, 48), Image.NEAREST), np.float32)
        np.testing.assert_allclose(got["sql"][os.path.basename(row.filePath)][1],
                                   cnn.predict_on_batch(x[None])[0], atol=1e-5)


def sparkdl_version(key):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "version.properties")) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line and not line.startswith("#"))[key]


ESTIMATOR = '''
import numpy as np
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
import sparkdl

def load_image(uri):
    from PIL import Image

    path = uri[len("file:"):] if uri.startswith("file:") else uri
    return np.asarray(Image.open(path).convert("RGB").resize((32, 32), Image.BILINEAR), np.float32) / 255.0

data = spark.read.parquet(args["data"])
estimator = sparkdl.KerasImageFileEstimator(
    inputCol="uri", outputCol="probs", labelCol="one_hot", imageLoader=load_image, modelFile=args["cnn"],
    kerasOptimizer="adam", kerasLoss="categorical_crossentropy", kerasFitParams=args["fit"])
model = estimator.fit(data)
rows = model.transform(data).collect()
distributed = estimator.copy({estimator.numWorkers: 2}).fit(data)
tuning = sparkdl.KerasImageFileEstimator(inputCol="uri", outputCol="rawPrediction", labelCol="label",
                                         imageLoader=load_image, kerasOptimizer="adam",
                                         kerasLoss="sparse_categorical_crossentropy")
grid = (ParamGridBuilder().addGrid(tuning.kerasFitParams, args["grid_fit"])
        .addGrid(tuning.modelFile, [args["cnn"], args["blind"]]).build())
cv = CrossValidator(estimator=tuning, estimatorParamMaps=grid, evaluator=BinaryClassificationEvaluator(),
                    numFolds=2, seed=5).fit(data)
result = {
    "history": model.history,
    "probs": {r.uri: [float(v) for v in r.probs] for r in rows},
    "keras": {r.uri: [float(v) for v in p] for r, p in zip(
        rows, model.keras_model.predict_on_batch(np.stack([load_image(r.uri) for r in rows])))},
    "training_pid": model.training_pid, "client_pid": os.getpid(),
    "distributed": {"history": distributed.history, "workers": distributed.training_workers,
                    "probs": {r.uri: [float(v) for v in r.probs] for r in distributed.transform(data).collect()}},
    "avg_metrics": cv.avgMetrics, "best_model_file": cv.bestModel.getModelFile(),
}
'''


def test_estimator_and_cross_validator_over_connect_equal_classic(spark, server, tmp_path):
    """KerasImageFileEstimator.fit and CrossValidator from a Connect client: training runs in Spark
    tasks on the server (mapInPandas), from the same rows in the same order as classic mode's
    driver and tasks, so the losses, the fitted model's outputs and the CV metrics agree."""
    import keras
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.linalg import Vectors
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder

    from tests.support.fixtures import load_image, write_shapes

    d = write_shapes(str(tmp_path / "train"), n_per_class=40, seed=11, task="colour")
    rows = [("file:" + os.path.join(d, name, f), float(cls), Vectors.dense([1.0 - cls, float(cls)]))
            for cls, name in enumerate(["red", "blue"]) for f in sorted(os.listdir(os.path.join(d, name)))]
    data_path = str(tmp_path / "data.parquet")
    spark.createDataFrame(rows, ["uri", "label", "one_hot"]).coalesce(1).write.parquet(data_path)
    keras.utils.set_random_seed(1)
    cnn = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
    blind = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(0.0), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    paths = {"cnn": str(tmp_path / "cnn.keras"), "blind": str(tmp_path / "blind.keras")}
    cnn.save(paths["cnn"])
    blind.save(paths["blind"])
    fit = {"batch_size": 16, "epochs": 8, "shuffle": False}
    grid_fit = [{"batch_size": 16, "epochs": 3, "shuffle": False}, {"batch_size": 32, "epochs": 3, "shuffle": False}]
    got, _ = run_client(server.url, ESTIMATOR, dict(paths, data=data_path, fit=fit, grid_fit=grid_fit),
                        tensorflow=True)

    data = spark.read.parquet(data_path)
    estimator = sparkdl.KerasImageFileEstimator(
        inputCol="uri", outputCol="probs", labelCol="one_hot", imageLoader=load_image, modelFile=paths["cnn"],
        kerasOptimizer="adam", kerasLoss="categorical_crossentropy", kerasFitParams=fit)
    model = estimator.fit(data)
    assert got["training_pid"] != got["client_pid"]
    np.testing.assert_allclose(got["history"]["loss"], model.history["loss"], rtol=1e-5)
    assert got["history"]["loss"][-1] < got["history"]["loss"][0]
    want = {r.uri: r.probs.toArray().tolist() for r in model.transform(data).collect()}
    assert_close(got["probs"], want, "the fitted transformer")
    assert_close(got["probs"], got["keras"], "the fitted transformer vs its Keras model in the client")
    # numWorkers=2: one barrier stage on the server (mapInPandas), the same shards as classic mode
    two = estimator.copy({estimator.numWorkers: 2}).fit(data)
    workers = got["distributed"]["workers"]
    assert [w["rows"] for w in workers] == [40, 40] and len({w["pid"] for w in workers}) == 2
    assert workers[0]["weightsDigest"] == workers[1]["weightsDigest"]
    np.testing.assert_allclose(got["distributed"]["history"]["loss"], two.history["loss"], rtol=1e-5)
    want_two = {r.uri: r.probs.toArray().tolist() for r in two.transform(data).collect()}
    assert_close(got["distributed"]["probs"], want_two, "the fitted transformer of numWorkers=2")

    tuning = sparkdl.KerasImageFileEstimator(inputCol="uri", outputCol="rawPrediction", labelCol="label",
                                             imageLoader=load_image, kerasOptimizer="adam",
                                             kerasLoss="sparse_categorical_crossentropy")
    grid = (ParamGridBuilder().addGrid(tuning.kerasFitParams, grid_fit)
            .addGrid(tuning.modelFile, [paths["cnn"], paths["blind"]]).build())
    cv = CrossValidator(estimator=tuning, estimatorParamMaps=grid, evaluator=BinaryClassificationEvaluator(),
                        numFolds=2, seed=5).fit(data)
    np.testing.assert_allclose(got["avg_metrics"], cv.avgMetrics, atol=1e-5)
    assert got["best_model_file"] == cv.bestModel.getModelFile() == paths["cnn"]


def readme_bash_block(title):
    """The first ```bash block under the README heading ``title``, continuation lines joined."""
    import re

    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## %s\n" % title):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1).replace("\\\n", " ").strip()


def test_the_readme_connect_example_runs_as_written(spark, cnn, tmp_path):
    """README's Spark Connect block as written: the server started with the README's own command (no
    modelDir, no export on the server), the client block in a client with TensorFlow; only the port,
    the image folder and the model file are this test's. The stage exports EfficientNetLite0 in the
    client and uploads it; `sparkdl_features('EfficientNetLite0', ...)` on the server finds that upload."""
    from tests.support.fixtures import readme_block, write_shapes

    command = readme_bash_block("Spark Connect")
    assert command.count("15002") == 1 and "modelDir" not in command, command
    block = readme_block("Spark Connect")
    for placeholder in ('"sc://127.0.0.1:15002"', '"/data/flowers"', '"/models/007model.keras"'):
        assert block.count(placeholder) == 1, placeholder
    cnn.save(str(tmp_path / "007model.keras"))
    shapes = write_shapes(str(tmp_path / "flowers"), n_per_class=3, seed=2, task="colour")
    empty_cache = tmp_path / "server-cache"  # the server machine has never exported a model
    with ConnectServer(str(tmp_path / "readme-server"), shell=command.replace("15002", "{port}"),
                       env={"SPARKDL_MODEL_CACHE": str(empty_cache)}) as readme_server:
        body = (block.replace('"sc://127.0.0.1:15002"', "%r" % readme_server.url)
                .replace('"/data/flowers"', "%r" % shapes)
                .replace('"/models/007model.keras"', "%r" % str(tmp_path / "007model.keras")))
        body += """
rows = spark.sql("SELECT filePath, my_fn(image) AS p, sparkdl_features('EfficientNetLite0', image) AS f "
                 "FROM images ORDER BY filePath")
result = [[r.filePath, list(r.p), list(r.f)] for r in rows.collect()]
"""
        got, _ = run_client(readme_server.url, body, tensorflow=True)
        log = open(readme_server.log).read()
    assert len(got) == 6 and not os.path.exists(str(empty_cache / "imagenet")), log[-3000:]
    assert log.count(" INFO ") < 50, "the README's server command keeps Spark's log at WARN"
    # the same numbers as the classic session: Keras for my_fn, the stage for the features
    import sparkdl
    from tests.support.fixtures import keras_inputs

    images = sparkdl.readImages(shapes, recursive=True).orderBy("filePath")
    rows = images.collect()
    assert [r.filePath for r in rows] == [g[0] for g in got]
    np.testing.assert_allclose([g[1] for g in got], cnn.predict(keras_inputs([r.image for r in rows], 48, 64),
                                                                verbose=0), atol=1e-5)
    features = sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0")
    np.testing.assert_allclose([g[2] for g in got], [r.f.toArray() for r in features.transform(images).collect()],
                               rtol=1e-4, atol=1e-5)


TEXT = '''
import sparkdl

texts = spark.createDataFrame([(i, t) for i, t in enumerate(args["texts"])], "id int, text string")
embed = sparkdl.DeepTextFeaturizer(inputCol="text", outputCol="e", modelDir=args["root"], outputMode="array")
embed.write().overwrite().save(args["saved"])
spark.conf.set("spark.sparkdl.modelDir", args["root"])
texts.createOrReplaceTempView("texts")
sql = spark.sql("SELECT id, sparkdl_embed('all-MiniLM-L6-v2', text) AS e FROM texts ORDER BY id").collect()
# an ONNX model from the client's disk: uploaded as an artifact, run by ONNX Runtime in the server's JVM
rows = spark.createDataFrame([(i, x) for i, x in enumerate(args["onnx_x"])], "id int, x array<double>")
onnx = sparkdl.ONNXTransformer(modelPath=args["onnx"], inputMapping={"x": "x"}, outputMapping={"y": "y", "s": "s"})
onnx.write().overwrite().save(args["onnx_saved"])
result = {
    "stage": [None if r.e is None else [float(v) for v in r.e] for r in embed.transform(texts).orderBy("id").collect()],
    "sql": [None if r.e is None else [float(v) for v in r.e] for r in sql],
    "onnx": [[[float(v) for v in r.y], float(r.s)] for r in onnx.transform(rows).orderBy("id").collect()],
}
'''


def test_text_featurizer_and_sql_over_connect_equal_classic(spark, server, tmp_path):
    """DeepTextFeaturizer and sparkdl_embed from a client with no JVM and no TensorFlow (the export made
    here, as a Scala user would with `python -m sparkdl.models export`), equal to classic mode; the
    stage saved by the client loads and runs in classic mode. Also ONNXTransformer over an ONNX file
    on the client's disk (uploaded), equal to Python onnxruntime, its saved stage loading here."""
    from sparkdl.models.text import cached_text_model_dir

    root, name = cached_text_model_dir("all-MiniLM-L6-v2")
    texts = ["A man is playing a guitar.", "", "Spark runs the model next to the data.", None,
             "Ein Hund läuft über die Wiese — schnell!"]
    saved = str(tmp_path / "text-stage")
    from tests.support.fixtures import mlp

    (tmp_path / "client").mkdir()
    onnx_path = mlp(tmp_path / "client" / "mlp.onnx")  # a file the client has; the server gets it as an artifact
    onnx_x = np.random.default_rng(3).normal(size=(7, 4)).tolist()
    got = run_client(server.url, TEXT, {"root": root, "texts": texts, "saved": saved, "onnx": onnx_path,
                                        "onnx_x": onnx_x, "onnx_saved": str(tmp_path / "onnx-stage")})
    df = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "id int, text string")
    want = [None if r.e is None else [float(v) for v in r.e] for r in sparkdl.DeepTextFeaturizer(
        inputCol="text", outputCol="e", modelDir=root, outputMode="array").transform(df).orderBy("id").collect()]
    assert [v is None for v in want] == [t is None for t in texts]
    for what in ("stage", "sql"):
        assert [v is None for v in got[what]] == [v is None for v in want], what
        np.testing.assert_allclose([v for v in got[what] if v], [v for v in want if v], atol=1e-5, err_msg=what)
    loaded = sparkdl.DeepTextFeaturizer.load(saved)
    again = [[float(x) for x in r.e] for r in loaded.transform(df.filter("text IS NOT NULL")).orderBy("id").collect()]
    np.testing.assert_allclose(again, [v for v in want if v], atol=1e-5)
    # ONNXTransformer from the client equals Python onnxruntime, and the stage it saved loads here
    import onnxruntime as ort

    y, total = ort.InferenceSession(onnx_path).run(["y", "s"], {"x": np.array(onnx_x, np.float32)})
    np.testing.assert_allclose([g[0] for g in got["onnx"]], y, atol=1e-6)
    np.testing.assert_allclose([g[1] for g in got["onnx"]], total, atol=1e-5)
    os.remove(onnx_path)  # the saved stage carries the model
    rows = spark.createDataFrame([(i, x) for i, x in enumerate(onnx_x)], "id int, x array<double>")
    reloaded = sparkdl.ONNXTransformer.load(str(tmp_path / "onnx-stage")).transform(rows).orderBy("id").collect()
    np.testing.assert_allclose([r.y for r in reloaded], y, atol=1e-6)


BYTES = '''
import os
import sparkdl
from sparkdl.functions import decode_image

files = spark.read.format("binaryFile").load(args["images"])
features = sparkdl.DeepImageFeaturizer(inputCol="content", outputCol="f", modelName="EfficientNetLite0",
                                       handleInvalid="keep").transform(files)
files.createOrReplaceTempView("connect_files")
spark.conf.set("spark.sparkdl.sql.handleInvalid", "keep")  # the folder holds broken files
sql = spark.sql("SELECT path, sparkdl_features('EfficientNetLite0', content) AS f FROM connect_files")
decoded = files.select("path", decode_image("content", "path").alias("d"))
labelled = spark.read.format("sparkdl.image").load(args["labelled"])
def by_path(df):
    return {os.path.basename(r.path): None if r.f is None else [float(v) for v in r.f] for r in df.collect()}

result = {
    "features": by_path(features),
    "sql": by_path(sql),
    "sizes": {os.path.basename(r.path): None if r.d.image is None else [r.d.image.height, r.d.image.width]
              for r in decoded.collect()},
    "labels": sorted([os.path.basename(r.filePath), r.label] for r in labelled.select("filePath", "label").collect()),
}
'''


def test_bytes_and_the_file_source_over_connect_equal_classic(spark, server, image_dir, tmp_path):
    """#27 from a JVM-free client: binaryFile's bytes into a stage and into sparkdl_features, decode_image, and
    the sparkdl.image file source's partition columns."""
    import shutil

    labelled = tmp_path / "labelled"
    for label, name in (("0", "chelsea.jpg"), ("1", "coffee.png")):
        (labelled / ("label=" + label)).mkdir(parents=True)
        shutil.copy(os.path.join(image_dir, name), str(labelled / ("label=" + label) / name))
    got = run_client(server.url, BYTES, {"images": image_dir, "labelled": str(labelled)})
    images = sparkdl.readImages(image_dir)
    want = {os.path.basename(r.filePath): None if r.f is None else [float(v) for v in r.f]
            for r in sparkdl.DeepImageFeaturizer(inputCol="image", outputCol="f", modelName="EfficientNetLite0",
                                                 handleInvalid="keep").transform(images).collect()}
    assert sum(v is not None for v in want.values()) == 8
    del want["zero_bytes.jpg"]  # binaryFile has no row for an empty file (Spark's file scan leaves them out)
    assert_close(got["features"], want, "DeepImageFeaturizer over binaryFile's content")
    assert_close(got["sql"], want, "sparkdl_features over binaryFile's content")
    assert got["sizes"] == {os.path.basename(r.filePath): None if r.image is None else [r.image.height, r.image.width]
                            for r in images.collect() if not r.filePath.endswith("zero_bytes.jpg")}
    assert got["labels"] == [["chelsea.jpg", 0], ["coffee.png", 1]]


TOKENIZE = '''
from pyspark.sql import functions as F
import sparkdl
from sparkdl.functions import tokenize

texts = spark.createDataFrame([(i, t) for i, t in enumerate(args["texts"])], "i int, text string")
stage = sparkdl.TextTokenizer(tokenizer=args["tokenizer"], outputCol="t", maxLength=12, padding="max_length")
result = {
    "stage": [[list(r.t.input_ids), list(r.t.attention_mask)] for r in stage.transform(texts).orderBy("i").collect()],
    "function": [list(r.t.input_ids) for r in
                 texts.orderBy("i").select(tokenize(args["folder"], F.col("text")).alias("t")).collect()],
}
'''


def test_text_tokenizer_over_connect_uploads_the_file_and_equals_python_tokenizers(server, tmp_path):
    """#31 from a JVM-free client: a local tokenizer.json (and a folder holding one) is uploaded to the session."""
    import shutil

    from tokenizers import Tokenizer

    from tests.support.fixtures import varied_strings, write_tokenizers

    files = write_tokenizers(str(tmp_path))
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(files["bpe_roberta"], str(folder / "tokenizer.json"))
    texts = varied_strings(n=60, seed=23)
    got = run_client(server.url, TOKENIZE, {"tokenizer": files["unigram_nfkc_metaspace"], "folder": str(folder),
                                            "texts": texts})
    unigram = Tokenizer.from_file(files["unigram_nfkc_metaspace"])
    unigram.enable_truncation(12)
    unigram.enable_padding(length=12, pad_id=unigram.token_to_id("<pad>"), pad_token="<pad>")
    assert got["stage"] == [[e.ids, e.attention_mask] for e in unigram.encode_batch(texts)]
    bpe = Tokenizer.from_file(files["bpe_roberta"])
    bpe.enable_truncation(512)
    assert got["function"] == [e.ids for e in bpe.encode_batch(texts)]


MODEL_FILES = '''
import sparkdl

images = sparkdl.readImages(args["images"]).filter("image IS NOT NULL").orderBy("filePath")
image_stage = sparkdl.ImageModelTransformer(modelPath=args["cnn"], outputCol="f", outputMode="array")
rows = spark.createDataFrame([(i, x) for i, x in enumerate(args["x"])], "id int, x array<float>")
tensor_stage = sparkdl.TensorModelTransformer(modelPath=args["graph"], inputMapping={"x": args["input"]},
                                              outputMapping={args["output"]: "t"})
tensor_stage.write().overwrite().save(args["saved"])
result = {"image": [[float(v) for v in r.f] for r in image_stage.transform(images).collect()],
          "tensor": [[float(v) for v in r.t] for r in tensor_stage.transform(rows).orderBy("id").collect()]}
'''


def test_model_file_stages_over_connect_upload_either_engine_and_equal_classic(spark, server, image_dir, tmp_path):
    """ImageModelTransformer over an ONNX file and TensorModelTransformer over a frozen graph file, both on
    the client's disk (uploaded, the graph with its tensor names), from a client with no JVM and no
    TensorFlow: equal to classic mode and to NumPy; the stage the client saved loads here."""
    import tensorflow as tf

    from sparkdl.graph import freeze_function
    from tests.support.fixtures import small_onnx_cnn

    client = tmp_path / "client"
    client.mkdir()
    cnn = small_onnx_cnn(client / "cnn.onnx")
    rng = np.random.default_rng(11)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    graph = freeze_function(lambda v: tf.nn.relu(tf.matmul(v, w)), [tf.TensorSpec([None, 4], tf.float32, name="v")])
    graph.save(str(client / "g"))
    x = rng.normal(size=(6, 4)).astype(np.float32)
    got = run_client(server.url, MODEL_FILES, {"images": image_dir, "cnn": cnn, "graph": str(client / "g" / "graph.pb"),
                                               "input": graph.inputs[0], "output": graph.outputs[0], "x": x.tolist(),
                                               "saved": str(tmp_path / "saved")})
    images = sparkdl.readImages(image_dir).filter("image IS NOT NULL").orderBy("filePath")
    want = [r.f for r in sparkdl.ImageModelTransformer(modelPath=cnn, outputCol="f", outputMode="array")
            .transform(images).collect()]
    assert len(want) >= 8
    np.testing.assert_allclose(got["image"], want, atol=1e-6)
    np.testing.assert_allclose(got["tensor"], np.maximum(x @ w, 0), atol=1e-5)
    rows = spark.createDataFrame([(i, v.tolist()) for i, v in enumerate(x)], "id int, x array<float>")
    loaded = sparkdl.TensorModelTransformer.load(str(tmp_path / "saved")).transform(rows).orderBy("id").collect()
    np.testing.assert_allclose([r.t for r in loaded], got["tensor"], atol=1e-6)
