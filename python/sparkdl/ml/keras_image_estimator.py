"""KerasImageFileEstimator: train a Keras model on a DataFrame of image URIs and labels.

With ``numWorkers > 1``, ``fit`` trains one model data-parallel on that many Spark barrier tasks
(:mod:`sparkdl.ml._distributed`: each task loads its own shard's images and trains under
``tf.distribute.MultiWorkerMirroredStrategy``), on classic and Spark Connect sessions alike.
With the default ``numWorkers=1``: on a classic session ``fit`` trains on the driver, and
``fitMultiple`` (what ``CrossValidator`` calls) trains every param map in parallel as Spark
tasks, one task per param map, with the images and model files shipped once by broadcast. On
a Spark Connect session (no driver here, no RDDs) both train in Spark tasks on the cluster
(``mapInPandas``): the loaded images go from the Python workers that load them to the task
that trains, never through the client; the server's Python workers need TensorFlow and
sparkdl. Either way the result is a :class:`sparkdl.ml.KerasImageFileTransformer` whose model
runs in the JVM.
"""
from __future__ import annotations

import base64
import inspect
import json
import os
import pickle
import tempfile
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, cast

import numpy as np
from pyspark import keyword_only
from pyspark.ml import Estimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasLabelCol
from pyspark.ml.util import MLReadable, MLReader, MLWritable, MLWriter

from sparkdl._session import is_connect
from sparkdl.ml._distributed import (
    check_distributed_settings,
    check_no_null_labels,
    null_labels_error,
    train_distributed,
    training_model,
)
from sparkdl.ml._distributed_worker import weights_from_bytes, weights_to_bytes
from sparkdl.ml._shared import HasInputCol, HasModelFile, HasOutputCol, HasOutputMode, accessors
from sparkdl.ml.keras_image_file import KerasImageFileTransformer, _loader_udf

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd
    from pyspark.core.broadcast import Broadcast
    from pyspark.ml._typing import ParamMap
    from pyspark.sql import DataFrame, SparkSession
    from typing_extensions import Self

    #: What training gives back: (Keras weights, loss history per epoch, pid of the training process).
    _Trained = Tuple[List[npt.NDArray[Any]], Dict[str, List[float]], int]

__all__ = ["KerasImageFileEstimator", "TRAINING_JOB_GROUP"]

#: Spark job group of the training jobs of fitMultiple (to find them in the status tracker).
TRAINING_JOB_GROUP = "sparkdl-keras-training"


def _optimizer_names() -> List[str]:
    """Names ``keras.optimizers.get`` accepts: the optimizer classes, lower-cased."""
    import keras

    return sorted(n.lower() for n, c in vars(keras.optimizers).items()
                  if isinstance(c, type) and issubclass(c, keras.optimizers.Optimizer)
                  and c is not keras.optimizers.Optimizer)


def _loss_names() -> List[str]:
    """Names ``keras.losses.get`` accepts: the loss functions."""
    import keras

    return sorted(n for n, f in vars(keras.losses).items()
                  if callable(f) and not isinstance(f, type) and n.islower() and not n.startswith("_")
                  and n not in ("get", "serialize", "deserialize"))


class _EstimatorWriter(MLWriter):
    """Params as Spark ML metadata (pyspark's layout); the imageLoader pickled beside them, as
    KerasImageFileTransformer keeps it (reading it back needs an opt-in: _EstimatorReader)."""

    def __init__(self, instance: KerasImageFileEstimator) -> None:
        super(_EstimatorWriter, self).__init__()
        self.instance = instance

    def saveImpl(self, path: str) -> None:
        from pyspark import cloudpickle
        from pyspark.ml.util import DefaultParamsWriter

        est = self.instance
        params = {p.name: v for p, v in est._paramMap.items() if p.name != "imageLoader"}
        extra: Dict[str, Any] = {}
        if est.isSet(est.imageLoader):
            extra["imageLoaderPickle"] = base64.b64encode(
                cloudpickle.dumps(est.getOrDefault(est.imageLoader))).decode("ascii")  # type: ignore[no-untyped-call]
        DefaultParamsWriter.saveMetadata(est, path, self.sparkSession, extraMetadata=extra, paramMap=params)


class _EstimatorReader(MLReader["KerasImageFileEstimator"]):
    """Reads the params; the pickled imageLoader only with an opt-in (unpickling runs code)."""

    def __init__(self, allow_unsafe: bool = False) -> None:
        super(_EstimatorReader, self).__init__()
        self.allow_unsafe = allow_unsafe

    def load(self, path: str) -> KerasImageFileEstimator:
        from pyspark.ml.util import DefaultParamsReader

        from sparkdl.ml.keras_image_file import UNSAFE_CONF, _unsafe_allowed_by_conf

        metadata = DefaultParamsReader.loadMetadata(path, self.sparkSession)
        est = KerasImageFileEstimator()
        est._resetUid(metadata["uid"])
        DefaultParamsReader.getAndSetParams(est, metadata)
        if "imageLoaderPickle" in metadata:
            if not (self.allow_unsafe or _unsafe_allowed_by_conf()):
                raise PermissionError(
                    "The KerasImageFileEstimator saved at %s carries a pickled Python imageLoader: unpickling it "
                    "runs arbitrary code, so it is refused. If you trust where it comes from, load it with "
                    "KerasImageFileEstimator.load(path, allowUnsafeDeserialization=True), or set the Spark conf "
                    "%s=true (e.g. for CrossValidatorModel.load)." % (path, UNSAFE_CONF))
            est._set(imageLoader=pickle.loads(base64.b64decode(metadata["imageLoaderPickle"])))
        return est


class KerasImageFileEstimator(Estimator[KerasImageFileTransformer], HasInputCol, HasOutputCol, HasLabelCol,
                              HasModelFile, HasOutputMode, MLReadable["KerasImageFileEstimator"], MLWritable):
    """Trains a copy of the Keras model in ``modelFile`` on images loaded by ``imageLoader``.

    Labels (``labelCol``): one-hot ``Vector`` / array columns, or integer class indices for a
    sparse loss (``sparse_categorical_crossentropy``). ``kerasFitParams`` go to
    ``model.fit`` (``batch_size``, ``epochs``, ``validation_split``...; ``verbose`` is 0
    unless given). The fitted model exposes ``history`` (loss per epoch) and ``keras_model``.

    >>> estimator = KerasImageFileEstimator(inputCol="uri", outputCol="prediction", labelCol="label",
    ...     imageLoader=load_image, kerasOptimizer="adam", kerasLoss="categorical_crossentropy",
    ...     kerasFitParams={"batch_size": 100}, modelFile=model_filename)  # doctest: +SKIP
    >>> model = estimator.fit(dataframe)  # doctest: +SKIP
    """

    imageLoader: Param[Callable[[str], Any]] = Param(Params._dummy(), "imageLoader",
                                                    "function URI -> numpy array of the model's input shape")
    kerasOptimizer = Param(Params._dummy(), "kerasOptimizer", "Keras optimizer name, e.g. adam",
                           typeConverter=TypeConverters.toString)
    kerasLoss = Param(Params._dummy(), "kerasLoss", "Keras loss name, e.g. categorical_crossentropy",
                      typeConverter=TypeConverters.toString)
    kerasFitParams: Param[Any] = Param(Params._dummy(), "kerasFitParams", "dict of keyword arguments for Keras fit")
    numWorkers = Param(Params._dummy(), "numWorkers",
                       "Spark tasks that train one model together, data-parallel (1: one process trains it). With "
                       "more, kerasFitParams batch_size is the global batch, split evenly across the workers",
                       typeConverter=TypeConverters.toInt)
    checkpointDir = Param(Params._dummy(), "checkpointDir",
                          "with numWorkers > 1: a directory every executor can read and write (a shared file "
                          "system) where the chief saves the model and optimizer after each epoch, so a retried "
                          "training resumes there instead of starting over",
                          typeConverter=TypeConverters.toString)

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "uri", outputCol: str = "prediction", labelCol: str = "label",
                 imageLoader: Optional[Callable[[str], Any]] = None, modelFile: Optional[str] = None,
                 kerasOptimizer: str = "adam", kerasLoss: str = "categorical_crossentropy",
                 kerasFitParams: Optional[Dict[str, Any]] = None, outputMode: str = "vector", numWorkers: int = 1,
                 checkpointDir: Optional[str] = None) -> None:
        super(KerasImageFileEstimator, self).__init__()
        self._setDefault(inputCol="uri", outputCol="prediction", labelCol="label", kerasOptimizer="adam",
                         kerasLoss="categorical_crossentropy", kerasFitParams={}, outputMode="vector", numWorkers=1)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: str = "uri", outputCol: str = "prediction", labelCol: str = "label",
                  imageLoader: Optional[Callable[[str], Any]] = None, modelFile: Optional[str] = None,
                  kerasOptimizer: str = "adam", kerasLoss: str = "categorical_crossentropy",
                  kerasFitParams: Optional[Dict[str, Any]] = None, outputMode: str = "vector", numWorkers: int = 1,
                  checkpointDir: Optional[str] = None) -> Self:
        kwargs = {k: v for k, v in self._input_kwargs.items() if v is not None}
        return self._set(**kwargs)

    getImageLoader, setImageLoader = accessors("imageLoader", object)
    getKerasOptimizer, setKerasOptimizer = accessors("kerasOptimizer", str)
    getKerasLoss, setKerasLoss = accessors("kerasLoss", str)
    getKerasFitParams, setKerasFitParams = accessors("kerasFitParams", dict)
    getNumWorkers, setNumWorkers = accessors("numWorkers", int)
    getCheckpointDir, setCheckpointDir = accessors("checkpointDir", str)

    def write(self) -> MLWriter:
        """Saves the params and the pickled imageLoader (so a fitted CrossValidatorModel saves too)."""
        return _EstimatorWriter(self)

    @classmethod
    def read(cls) -> MLReader[KerasImageFileEstimator]:
        return _EstimatorReader()

    @classmethod
    def load(cls, path: str, allowUnsafeDeserialization: bool = False) -> KerasImageFileEstimator:
        """Reads a saved estimator; its pickled imageLoader only with ``allowUnsafeDeserialization=True``
        (or the Spark conf ``spark.sparkdl.allowUnsafeDeserialization=true``): unpickling runs code."""
        return _EstimatorReader(allow_unsafe=allowUnsafeDeserialization).load(path)

    # -- validation ---------------------------------------------------------------------------

    def _settings(self, paramMap: Optional[ParamMap] = None) -> Dict[str, Any]:
        """The params of one training run, validated before anything trains."""
        est = self.copy(paramMap) if paramMap else self
        get = est.getOrDefault
        import keras

        for p in ("imageLoader", "modelFile"):
            if not est.isDefined(getattr(est, p)):
                raise ValueError("KerasImageFileEstimator: param %s is not set" % p)
        if not callable(get(est.imageLoader)):
            raise ValueError("imageLoader must be a function URI -> numpy array")
        model_file = get(est.modelFile)
        if not os.path.isfile(model_file):
            raise ValueError("modelFile '%s' does not exist" % model_file)
        if not model_file.endswith((".keras", ".h5")):
            raise ValueError("modelFile '%s' is not a Keras model file: expected .keras or .h5" % model_file)
        try:
            keras.optimizers.get(get(est.kerasOptimizer))
        except ValueError:
            raise ValueError("kerasOptimizer '%s' is not a Keras optimizer. Accepted: %s" % (
                get(est.kerasOptimizer), ", ".join(_optimizer_names()))) from None
        try:
            keras.losses.get(get(est.kerasLoss))
        except ValueError:
            raise ValueError("kerasLoss '%s' is not a Keras loss. Accepted: %s" % (
                get(est.kerasLoss), ", ".join(_loss_names()))) from None
        fit_params = dict(get(est.kerasFitParams) or {})
        accepted = [n for n in inspect.signature(keras.Model.fit).parameters if n not in ("self", "x", "y")]
        unknown = sorted(set(fit_params) - set(accepted))
        if unknown:
            raise ValueError("kerasFitParams has %s, which Keras fit does not take. Accepted: %s" % (
                ", ".join(unknown), ", ".join(accepted)))
        fit_params.setdefault("verbose", 0)
        num_workers = get(est.numWorkers)
        if num_workers < 1:
            raise ValueError("numWorkers must be at least 1, got %d" % num_workers)
        if num_workers > 1:
            check_distributed_settings(num_workers, fit_params)
        return {"numWorkers": num_workers,
                "checkpointDir": get(est.checkpointDir) if est.isDefined(est.checkpointDir) else None,
                "imageLoader": get(est.imageLoader), "modelFile": model_file,
                "optimizer": get(est.kerasOptimizer), "loss": get(est.kerasLoss), "fitParams": fit_params,
                "inputCol": get(est.inputCol), "outputCol": get(est.outputCol), "labelCol": get(est.labelCol),
                "outputMode": get(est.outputMode)}

    # -- data ---------------------------------------------------------------------------------

    @staticmethod
    def _load(dataset: DataFrame, settings: Dict[str, Any]) -> Tuple[npt.NDArray[np.float32], npt.NDArray[Any]]:
        """(images, labels) as numpy arrays: the loader runs in Python workers, rows come back in order."""
        from pyspark.sql import functions as F

        rows = dataset.select(_loader_udf(settings["imageLoader"])(F.col(settings["inputCol"])).alias("x"),
                              F.col(settings["labelCol"]).alias("y")).collect()
        if not rows:
            raise ValueError("KerasImageFileEstimator: the training DataFrame is empty")
        nulls = sum(1 for r in rows if r.y is None)
        if nulls:
            raise null_labels_error(settings["labelCol"], nulls)
        with open(settings["modelFile"], "rb") as f:
            model_bytes = f.read()
        shape = _model_input_shape(model_bytes, settings["modelFile"])
        x = np.array([r.x for r in rows], dtype=np.float32).reshape((len(rows),) + shape)
        y = np.array([r.y.toArray() if hasattr(r.y, "toArray") else r.y for r in rows])
        return x, y

    # -- training -----------------------------------------------------------------------------

    def _fit(self, dataset: DataFrame) -> KerasImageFileTransformer:
        settings = self._settings()
        _check_training_columns(dataset, settings)
        if settings["numWorkers"] > 1:
            return _fitted_distributed(dataset, settings)
        if is_connect(dataset.sparkSession):
            check_no_null_labels(dataset, settings["labelCol"])
            (weights, history, pid), = _train_on_connect(dataset, [settings])
            return _fitted(settings, weights, history, pid)
        x, y = self._load(dataset, settings)
        with open(settings["modelFile"], "rb") as f:
            weights, history, pid = _train(f.read(), os.path.basename(settings["modelFile"]), settings, x, y)
        return _fitted(settings, weights, history, pid)

    def fitMultiple(self, dataset: DataFrame,
                    paramMaps: Sequence[ParamMap]) -> Iterator[Tuple[int, KerasImageFileTransformer]]:
        """Trains the param maps with ``numWorkers=1`` as one Spark task each, side by side, and each
        other one on its ``numWorkers`` barrier tasks, one after the other; returns pyspark's
        thread-safe (index, model) iterator."""
        from pyspark.ml.base import _FitMultipleIterator

        all_settings = [self._settings(pm) for pm in paramMaps]  # every param checked before training
        for checked in {(s["inputCol"], s["labelCol"]): s for s in all_settings}.values():
            _check_training_columns(dataset, checked)
            check_no_null_labels(dataset, checked["labelCol"])
        single = [i for i, s in enumerate(all_settings) if s["numWorkers"] == 1]
        state: Dict[str, List[_Trained]] = {}
        lock = threading.Lock()

        def fit_one(index: int) -> KerasImageFileTransformer:
            with lock:
                if all_settings[index]["numWorkers"] > 1:
                    return _fitted_distributed(dataset, all_settings[index])
                if "results" not in state:
                    train = _train_on_connect if is_connect(dataset.sparkSession) else _train_in_tasks
                    state["results"] = train(dataset, [all_settings[i] for i in single])
            weights, history, pid = state["results"][single.index(index)]
            return _fitted(all_settings[index], weights, history, pid)

        return _FitMultipleIterator(fit_one, len(paramMaps))


def _fitted_distributed(dataset: DataFrame, settings: Dict[str, Any]) -> KerasImageFileTransformer:
    """Trains on ``numWorkers`` barrier tasks; the transformer also tells which workers trained
    (``training_workers``: rank, pid, host, rows, the epoch it resumed from and the sha256 of its
    final weights, per worker)."""
    weights, history, pid, workers = train_distributed(dataset, settings)
    transformer = _fitted(settings, weights, history, pid)
    transformer.training_workers = workers
    return transformer


def _model_input_shape(model_bytes: bytes, name: str) -> Tuple[int, ...]:
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, os.path.basename(name))
        with open(path, "wb") as f:
            f.write(model_bytes)
        model = training_model(path, name)
    return tuple(int(s) for s in model.inputs[0].shape[1:])


def _train(model_bytes: bytes, name: str, settings: Dict[str, Any], x: npt.NDArray[Any],
           y: npt.NDArray[Any]) -> _Trained:
    """Trains a fresh copy of the model; returns (weights, history, pid). Runs on driver or executor.
    ``x`` has one row per image, in the model's input shape or flattened."""
    import keras

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(model_bytes)
        model = training_model(path, settings["modelFile"])
    x = x.reshape((len(x),) + tuple(int(s) for s in model.inputs[0].shape[1:]))
    model.compile(optimizer=keras.optimizers.get(settings["optimizer"]), loss=settings["loss"])
    history = model.fit(x, y, **settings["fitParams"])
    return model.get_weights(), {k: [float(v) for v in vs] for k, vs in history.history.items()}, os.getpid()


def _train_in_tasks(dataset: DataFrame, all_settings: List[Dict[str, Any]]) -> List[_Trained]:
    """One Spark task per settings; images and model files broadcast once. Results in input order."""
    sc = dataset.sparkSession.sparkContext
    data: Dict[Tuple[Any, str, str, str], Tuple[npt.NDArray[np.float32], npt.NDArray[Any]]] = {}
    for s in all_settings:
        key = (s["imageLoader"], s["inputCol"], s["labelCol"], s["modelFile"])
        if key not in data:
            data[key] = KerasImageFileEstimator._load(dataset, s)
    files: Dict[str, bytes] = {}
    for s in all_settings:
        if s["modelFile"] not in files:
            with open(s["modelFile"], "rb") as f:
                files[s["modelFile"]] = f.read()
    keys = [(s["imageLoader"], s["inputCol"], s["labelCol"], s["modelFile"]) for s in all_settings]
    unique = list(dict.fromkeys(keys))
    shipped: Broadcast[Dict[str, Any]] = sc.broadcast({"data": [data[k] for k in unique], "files": files})
    jobs = [(i, unique.index(k), {kk: v for kk, v in s.items() if kk != "imageLoader"})
            for i, (k, s) in enumerate(zip(keys, all_settings))]

    def run(job: Tuple[int, int, Dict[str, Any]]) -> Tuple[int, _Trained]:
        index, data_index, settings = job
        x, y = shipped.value["data"][data_index]
        model_bytes = shipped.value["files"][settings["modelFile"]]
        return index, _train(model_bytes, os.path.basename(settings["modelFile"]), settings, x, y)

    previous = sc.getLocalProperty("spark.jobGroup.id")
    sc.setJobGroup(TRAINING_JOB_GROUP, "sparkdl KerasImageFileEstimator: training %d param maps" % len(jobs))
    try:
        results = dict(sc.parallelize(jobs, len(jobs)).map(run).collect())
    finally:
        # None clears a local property (pyspark's hints say str)
        sc.setLocalProperty("spark.jobGroup.id", previous)  # type: ignore[arg-type]
        sc.setLocalProperty("spark.job.description", None)  # type: ignore[arg-type]
        shipped.unpersist()
    return [results[i] for i in range(len(jobs))]


def _train_on_connect(dataset: DataFrame, all_settings: List[Dict[str, Any]]) -> List[_Trained]:
    """Trains each settings in a Spark task (``mapInPandas``): the images loaded by the settings'
    imageLoader in Python workers, rows in the dataset's order, reach the training task through
    a shuffle keyed by job; nothing is collected here but the trained weights. Results in input order."""
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import functions as F

    spark = dataset.sparkSession
    keys = [(s["imageLoader"], s["inputCol"], s["labelCol"]) for s in all_settings]
    results: List[Optional[_Trained]] = [None] * len(all_settings)
    spark.addTag(TRAINING_JOB_GROUP)
    try:
        for key in dict.fromkeys(keys):
            indices = [i for i, k in enumerate(keys) if k == key]
            loader, input_col, label_col = key
            label = F.col(label_col)
            if isinstance(dataset.schema[label_col].dataType, VectorUDT):  # Arrow has no UDTs
                from pyspark.ml.functions import vector_to_array

                label = vector_to_array(label)
            data = dataset.select(_loader_udf(loader)(F.col(input_col)).alias("x"), label.alias("y"),
                                  F.monotonically_increasing_id().alias("row"))
            ids = _one_partition_each(spark, len(indices))
            jobs = spark.createDataFrame([(ids[j], pickle.dumps(_job(all_settings[i])))
                                          for j, i in enumerate(indices)], "job int, spec binary")
            trained = (data.crossJoin(jobs).repartition(len(indices), "job")
                       .mapInPandas(_train_partition, "job int, weights binary, history string, pid int"))
            for r in trained.collect():
                results[indices[ids.index(r.job)]] = (weights_from_bytes(r.weights), json.loads(r.history), r.pid)
    finally:
        spark.removeTag(TRAINING_JOB_GROUP)
    missing = [i for i, r in enumerate(results) if r is None]
    if missing:
        raise ValueError("KerasImageFileEstimator: the training DataFrame is empty (no rows reached the "
                         "training tasks of param maps %s)" % missing)
    return cast("List[_Trained]", results)  # no None left: checked above


def _one_partition_each(spark: SparkSession, n: int) -> List[int]:
    """``n`` int keys that ``repartition(n, key)`` sends to ``n`` different partitions (one task
    each): Spark's partition of a key is ``pmod(hash(key), n)``, the same Murmur3 as SQL's ``hash``."""
    rows = spark.range(64 * n).selectExpr("CAST(id AS INT) AS k", "pmod(hash(CAST(id AS INT)), %d) AS p" % n) \
        .groupBy("p").agg({"k": "min"}).collect()
    if len(rows) < n:
        raise RuntimeError("no keys found for %d partitions" % n)
    return sorted(r[1] for r in rows)[:n]


def _job(settings: Dict[str, Any]) -> Tuple[bytes, Dict[str, Any]]:
    """What a training task needs of one settings: the model file's bytes and the plain settings."""
    with open(settings["modelFile"], "rb") as f:
        model_bytes = f.read()
    return model_bytes, {k: v for k, v in settings.items() if k != "imageLoader"}


def _train_partition(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """mapInPandas body: the rows of one or more jobs -> one row per job with its trained weights."""
    import pandas as pd

    frames = list(batches)
    if not frames:
        return
    rows = pd.concat(frames, ignore_index=True)
    if rows["x"].isnull().any():
        raise ValueError("KerasImageFileEstimator: the imageLoader returned None for %d rows"
                         % int(rows["x"].isnull().sum()))
    for job, part in rows.groupby("job", sort=True):
        part = part.sort_values("row")
        model_bytes, settings = pickle.loads(part["spec"].iloc[0])
        x = np.stack([np.asarray(v, dtype=np.float32) for v in part["x"]])
        y = np.stack([np.asarray(v) for v in part["y"]]) if part["y"].dtype == object else part["y"].to_numpy()
        weights, history, pid = _train(model_bytes, os.path.basename(settings["modelFile"]), settings, x, y)
        yield pd.DataFrame({"job": [int(job)], "weights": [weights_to_bytes(weights)],
                            "history": [json.dumps(history)], "pid": [pid]})


def _fitted(settings: Dict[str, Any], weights: List[npt.NDArray[Any]], history: Dict[str, List[float]],
            pid: int) -> KerasImageFileTransformer:
    """The KerasImageFileTransformer for trained weights."""
    from sparkdl.graph.keras_io import load_keras_model

    model = load_keras_model(settings["modelFile"])
    model.set_weights(weights)
    transformer = KerasImageFileTransformer(inputCol=settings["inputCol"], outputCol=settings["outputCol"],
                                            imageLoader=settings["imageLoader"], outputMode=settings["outputMode"])
    transformer.setGraph(model)
    transformer._set(modelFile=settings["modelFile"])
    transformer.history = history
    transformer.keras_model = model
    transformer.training_pid = pid  # the process that trained it (a Python worker under fitMultiple)
    return transformer


def _check_training_columns(dataset: DataFrame, settings: Dict[str, Any]) -> None:
    """The input and label columns exist (no job): checked on the driver before anything is loaded or
    trained, naming the column. Null labels are checked where the rows are first read."""
    for role in ("inputCol", "labelCol"):
        if settings[role] not in dataset.columns:
            raise ValueError("KerasImageFileEstimator: %s '%s' does not exist. Available columns: %s"
                             % (role, settings[role], ", ".join(dataset.columns)))
