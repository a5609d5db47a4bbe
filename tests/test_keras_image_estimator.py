"""KerasImageFileEstimator: training from image URIs, and distributed tuning with CrossValidator."""
import os

import numpy as np
import pytest
from pyspark.ml.linalg import Vectors

from sparkdl import KerasImageFileEstimator, KerasImageFileTransformer
from sparkdl.training.per_task import TRAINING_JOB_GROUP
from tests.support.fixtures import load_image


@pytest.fixture(scope="module")
def labelled(spark, tmp_path_factory):
    """~200 images, red vs. blue shapes: label (index) and one_hot (Vector)."""
    from tests.support.fixtures import write_shapes

    d = write_shapes(str(tmp_path_factory.mktemp("train")), n_per_class=100, seed=7, task="colour")
    rows = []
    for cls, name in enumerate(["red", "blue"]):
        for f in sorted(os.listdir(os.path.join(d, name))):
            rows.append(("file:" + os.path.join(d, name, f), float(cls), Vectors.dense([1.0 - cls, float(cls)])))
    return spark.createDataFrame(rows, ["uri", "label", "one_hot"]).repartition(2).cache()


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A small CNN that can learn colours, and a model that cannot learn anything (input zeroed)."""
    import keras

    d = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(1)
    cnn = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(16, 3, activation="relu"),
                            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
    blind = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Rescaling(0.0), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    paths = str(d / "cnn.keras"), str(d / "blind.keras")
    cnn.save(paths[0])
    blind.save(paths[1])
    return paths


def test_fit_learns_and_the_fitted_transformer_equals_keras(labelled, model_files):
    train, test = labelled.randomSplit([0.7, 0.3], seed=3)
    estimator = KerasImageFileEstimator(inputCol="uri", outputCol="probs", labelCol="one_hot", imageLoader=load_image,
                                        modelFile=model_files[0], kerasOptimizer="adam",
                                        kerasLoss="categorical_crossentropy",
                                        kerasFitParams={"batch_size": 16, "epochs": 30})
    model = estimator.fit(train)
    assert isinstance(model, KerasImageFileTransformer)
    assert len(model.history["loss"]) == 30 and model.history["loss"][-1] < model.history["loss"][0]
    rows = model.transform(test).collect()
    probs = np.array([r.probs.toArray() for r in rows])
    accuracy = float(np.mean(probs.argmax(axis=1) == np.array([r.label for r in rows])))
    assert accuracy >= 0.85, accuracy  # untrained weights sit near 0.5
    expected = model.keras_model.predict(np.stack([load_image(r.uri) for r in rows]), verbose=0)
    np.testing.assert_allclose(probs, expected, atol=1e-5, rtol=0)


def test_cross_validator_trains_param_maps_as_spark_tasks(spark, labelled, model_files, tmp_path):
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder

    estimator = KerasImageFileEstimator(inputCol="uri", outputCol="rawPrediction", labelCol="label",
                                        imageLoader=load_image, kerasOptimizer="adam",
                                        kerasLoss="sparse_categorical_crossentropy")
    grid = (ParamGridBuilder()
            .addGrid(estimator.kerasFitParams, [{"batch_size": 16, "epochs": 6}, {"batch_size": 32, "epochs": 6}])
            .addGrid(estimator.modelFile, list(model_files)).build())
    tracker = spark.sparkContext.statusTracker()
    jobs_before = set(tracker.getJobIdsForGroup(TRAINING_JOB_GROUP))
    cv = CrossValidator(estimator=estimator, estimatorParamMaps=grid, evaluator=BinaryClassificationEvaluator(),
                        numFolds=2, seed=5, collectSubModels=True)
    best_model = cv.fit(labelled)

    # one training job per fold, one task per param map, all completed
    jobs = sorted(set(tracker.getJobIdsForGroup(TRAINING_JOB_GROUP)) - jobs_before)
    assert len(jobs) == 2
    for job in jobs:
        (stage,) = tracker.getJobInfo(job).stageIds
        info = tracker.getStageInfo(stage)
        assert info.numTasks == len(grid) and info.numCompletedTasks == len(grid)
    # ... trained in Python workers, not in this (driver) process
    pids = {m.training_pid for fold in best_model.subModels for m in fold}
    assert os.getpid() not in pids

    metrics = best_model.avgMetrics
    cnn_runs = [m for m, pm in zip(metrics, grid) if pm[estimator.modelFile] == model_files[0]]
    blind_runs = [m for m, pm in zip(metrics, grid) if pm[estimator.modelFile] == model_files[1]]
    assert min(cnn_runs) > max(blind_runs), metrics
    assert best_model.bestModel.getModelFile() == model_files[0]

    # the fitted CrossValidatorModel saves and loads (estimator, loader, best model and its graph)
    from pyspark.ml.tuning import CrossValidatorModel

    path = str(tmp_path / "cv")
    best_model.write().save(path)
    with pytest.raises(PermissionError, match="spark.sparkdl.allowUnsafeDeserialization=true"):
        CrossValidatorModel.load(path)  # it carries pickled loaders: refused without an opt-in
    spark = labelled.sparkSession
    spark.conf.set("spark.sparkdl.allowUnsafeDeserialization", "true")
    try:
        loaded = CrossValidatorModel.load(path)
    finally:
        spark.conf.unset("spark.sparkdl.allowUnsafeDeserialization")
    assert loaded.avgMetrics == metrics and loaded.getEstimator().getImageLoader() is not None
    before = [r.rawPrediction for r in best_model.transform(labelled).orderBy("uri").collect()]
    after = [r.rawPrediction for r in loaded.transform(labelled).orderBy("uri").collect()]
    assert after == before


def test_bad_params_fail_before_training(labelled, model_files, tmp_path):
    def fit(**kw):
        args = dict(imageLoader=load_image, modelFile=model_files[0], kerasOptimizer="adam",
                    kerasLoss="categorical_crossentropy", labelCol="one_hot")
        args.update(kw)
        return KerasImageFileEstimator(**args).fit(labelled)

    with pytest.raises(ValueError, match="kerasOptimizer 'adamm' is not a Keras optimizer. Accepted: .*adam"):
        fit(kerasOptimizer="adamm")
    with pytest.raises(ValueError, match="kerasLoss 'cross_entropy' is not a Keras loss. Accepted: .*categorical"):
        fit(kerasLoss="cross_entropy")
    with pytest.raises(ValueError, match="kerasFitParams has batchsize, which Keras fit does not take. "
                       "Accepted: .*batch_size"):
        fit(kerasFitParams={"batchsize": 3})
    with pytest.raises(ValueError, match="modelFile '/no/such.keras' does not exist"):
        fit(modelFile="/no/such.keras")
    not_keras = tmp_path / "notes.txt"
    not_keras.write_text("hello")
    with pytest.raises(ValueError, match="not a Keras model file"):
        fit(modelFile=str(not_keras))
    with pytest.raises(ValueError, match="numWorkers must be at least 1, got 0"):
        fit(numWorkers=0)
    with pytest.raises(ValueError, match="kerasFitParams has validation_split, which a training with numWorkers=2 "
                       "does not take. Accepted: batch_size, epochs, shuffle, verbose"):
        fit(numWorkers=2, kerasFitParams={"validation_split": 0.2})
    with pytest.raises(ValueError, match="with numWorkers=2 it must be a multiple of 2 .* got 15"):
        fit(numWorkers=2, kerasFitParams={"batch_size": 15})


def test_more_workers_than_the_cluster_runs_at_once_fail_before_any_job(spark, labelled, model_files):
    """local[2] runs 2 tasks at once; a barrier stage of 3 would wait for slots that never come."""
    tracker = spark.sparkContext.statusTracker()
    jobs = len(tracker.getJobIdsForGroup(None))
    estimator = KerasImageFileEstimator(imageLoader=load_image, modelFile=model_files[0], labelCol="one_hot",
                                        numWorkers=3, kerasFitParams={"batch_size": 30})
    with pytest.raises(ValueError, match="numWorkers=3, but the cluster runs 2 tasks at once now"):
        estimator.fit(labelled)
    assert len(tracker.getJobIdsForGroup(None)) == jobs


@pytest.mark.local_cluster
def test_num_workers_trains_one_model_on_barrier_tasks(labelled, model_files):
    """Two barrier tasks, each training on its own half of the rows under MultiWorkerMirroredStrategy,
    end with bit-identical replicas; the fitted transformer equals Keras on the returned model.
    Also on local-cluster (make test-local-cluster): the tasks in two executor JVMs."""
    import sys

    from pyspark import cloudpickle

    # executors of local-cluster cannot import the tests package: the loader travels by value
    cloudpickle.register_pickle_by_value(sys.modules[load_image.__module__])
    train, test = labelled.randomSplit([0.7, 0.3], seed=3)
    n_train = train.count()
    estimator = KerasImageFileEstimator(inputCol="uri", outputCol="probs", labelCol="one_hot", imageLoader=load_image,
                                        modelFile=model_files[0], numWorkers=2,
                                        kerasFitParams={"batch_size": 16, "epochs": 20})
    model = estimator.fit(train)
    workers = model.training_workers
    assert [w["rank"] for w in workers] == [0, 1] and len({w["pid"] for w in workers}) == 2
    assert sorted(w["rows"] for w in workers) == [n_train // 2, n_train - n_train // 2]
    assert workers[0]["weightsDigest"] == workers[1]["weightsDigest"]
    from sparkdl.training.weights import weights_digest

    assert weights_digest(model.keras_model.get_weights()) == workers[0]["weightsDigest"]
    assert len(model.history["loss"]) == 20 and model.history["loss"][-1] < model.history["loss"][0]
    rows = model.transform(test).collect()
    probs = np.array([r.probs.toArray() for r in rows])
    accuracy = float(np.mean(probs.argmax(axis=1) == np.array([r.label for r in rows])))
    assert accuracy >= 0.85, accuracy
    expected = model.keras_model.predict(np.stack([load_image(r.uri) for r in rows]), verbose=0)
    np.testing.assert_allclose(probs, expected, atol=1e-5, rtol=0)


def test_fit_multiple_mixes_distributed_and_single_process_param_maps(labelled, model_files):
    """What CrossValidator calls: numWorkers=2 maps train on their barrier tasks, the others side by side."""
    estimator = KerasImageFileEstimator(inputCol="uri", outputCol="probs", labelCol="one_hot", imageLoader=load_image,
                                        modelFile=model_files[0], kerasFitParams={"batch_size": 16, "epochs": 2})
    maps = [{estimator.numWorkers: 1}, {estimator.numWorkers: 2},
            {estimator.numWorkers: 1, estimator.modelFile: model_files[1]}]
    models = dict(estimator.fitMultiple(labelled, maps))
    assert sorted(models) == [0, 1, 2]
    assert [hasattr(models[i], "training_workers") for i in range(3)] == [False, True, False]
    assert [len(models[i].history["loss"]) for i in range(3)] == [2, 2, 2]
    assert models[2].keras_model.layers[0].name.startswith("rescaling")  # the blind model's map got the blind model


def test_the_estimator_saves_and_loads_with_its_loader(model_files, tmp_path):
    estimator = KerasImageFileEstimator(inputCol="uri", outputCol="p", labelCol="one_hot", imageLoader=load_image,
                                        modelFile=model_files[0], kerasFitParams={"batch_size": 8, "epochs": 2},
                                        numWorkers=2, checkpointDir=str(tmp_path / "checkpoints"))
    estimator.save(str(tmp_path / "estimator"))
    with pytest.raises(PermissionError, match="allowUnsafeDeserialization=True"):
        KerasImageFileEstimator.load(str(tmp_path / "estimator"))
    loaded = KerasImageFileEstimator.load(str(tmp_path / "estimator"), allowUnsafeDeserialization=True)
    assert loaded.uid == estimator.uid and loaded.getKerasFitParams() == {"batch_size": 8, "epochs": 2}
    assert loaded.getModelFile() == model_files[0] and loaded.getLabelCol() == "one_hot"
    assert loaded.getNumWorkers() == 2 and loaded.getCheckpointDir() == str(tmp_path / "checkpoints")
    assert np.array_equal(loaded.getImageLoader()(_red_png(tmp_path)), load_image(_red_png(tmp_path)))


def _red_png(tmp_path):
    from PIL import Image

    path = str(tmp_path / "red.png")
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path)
    return path
