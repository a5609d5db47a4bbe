"""KerasImageFileEstimator: train a Keras model on a DataFrame of image URIs and labels.

With ``numWorkers > 1``, ``fit`` trains one model data-parallel on that many Spark barrier tasks
(:mod:`sparkdl.training.distributed`: each task loads its own shard's images and trains under
``tf.distribute.MultiWorkerMirroredStrategy``), on classic and Spark Connect sessions alike.
With the default ``numWorkers=1``: on a classic session ``fit`` trains on the driver, and
``fitMultiple`` (what ``CrossValidator`` calls) trains every param map in parallel as Spark
tasks, one task per param map, with the images and model files shipped once by broadcast. On
a Spark Connect session (no driver here, no RDDs) both train in Spark tasks on the cluster
(``mapInPandas``): the loaded images go from the Python workers that load them to the task
that trains, never through the client; the server's Python workers need TensorFlow and
sparkdl. Either way the result is a :class:`sparkdl.ml.KerasImageFileTransformer` whose model
runs in the JVM.

This module keeps the params, their validation (into a :class:`~sparkdl.training.spec.TrainingSpec`)
and the dispatch of ``fit`` / ``fitMultiple``; the training paths are in :mod:`sparkdl.training`.
"""
from __future__ import annotations

import base64
import inspect
import os
import pickle
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from pyspark import keyword_only
from pyspark.ml import Estimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasLabelCol
from pyspark.ml.util import MLReadable, MLReader, MLWritable, MLWriter

from sparkdl._session import is_connect
from sparkdl.ml._shared import HasInputCol, HasModelFile, HasOutputCol, HasOutputMode, accessors
from sparkdl.ml.keras_image_file import KerasImageFileTransformer
from sparkdl.training.checks import check_distributed_settings, check_no_null_labels, check_training_columns
from sparkdl.training.per_task import TRAINING_JOB_GROUP
from sparkdl.training.spec import TrainingSpec

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap
    from pyspark.sql import DataFrame
    from typing_extensions import Self

    from sparkdl.training.local import Trained

__all__ = ["KerasImageFileEstimator", "TRAINING_JOB_GROUP"]


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

    def _spec(self, paramMap: Optional[ParamMap] = None) -> TrainingSpec:
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
        return TrainingSpec(model_file=model_file, optimizer=get(est.kerasOptimizer), loss=get(est.kerasLoss),
                            fit_params=fit_params, input_col=get(est.inputCol), output_col=get(est.outputCol),
                            label_col=get(est.labelCol), output_mode=get(est.outputMode), num_workers=num_workers,
                            checkpoint_dir=get(est.checkpointDir) if est.isDefined(est.checkpointDir) else None,
                            image_loader=get(est.imageLoader))

    # -- training -----------------------------------------------------------------------------

    def _fit(self, dataset: DataFrame) -> KerasImageFileTransformer:
        from sparkdl.training.connect import train_on_connect
        from sparkdl.training.local import load_rows, train

        spec = self._spec()
        check_training_columns(dataset, spec)
        if spec.num_workers > 1:
            return _fitted_distributed(dataset, spec)
        if is_connect(dataset.sparkSession):
            check_no_null_labels(dataset, spec.label_col)
            (trained,) = train_on_connect(dataset, [spec])
            return _fitted(spec, trained)
        x, y = load_rows(dataset, spec)
        return _fitted(spec, train(spec.read_model(), spec, x, y))

    def fitMultiple(self, dataset: DataFrame,
                    paramMaps: Sequence[ParamMap]) -> Iterator[Tuple[int, KerasImageFileTransformer]]:
        """Trains the param maps with ``numWorkers=1`` as one Spark task each, side by side, and each
        other one on its ``numWorkers`` barrier tasks, one after the other; returns pyspark's
        thread-safe (index, model) iterator."""
        from pyspark.ml.base import _FitMultipleIterator

        from sparkdl.training.connect import train_on_connect
        from sparkdl.training.per_task import train_in_tasks

        specs = [self._spec(pm) for pm in paramMaps]  # every param checked before training
        for checked in {(s.input_col, s.label_col): s for s in specs}.values():
            check_training_columns(dataset, checked)
            check_no_null_labels(dataset, checked.label_col)
        single = [i for i, s in enumerate(specs) if s.num_workers == 1]
        state: Dict[str, List[Trained]] = {}
        lock = threading.Lock()

        def fit_one(index: int) -> KerasImageFileTransformer:
            with lock:
                if specs[index].num_workers > 1:
                    return _fitted_distributed(dataset, specs[index])
                if "results" not in state:
                    train = train_on_connect if is_connect(dataset.sparkSession) else train_in_tasks
                    state["results"] = train(dataset, [specs[i] for i in single])
            return _fitted(specs[index], state["results"][single.index(index)])

        return _FitMultipleIterator(fit_one, len(paramMaps))


def _fitted_distributed(dataset: DataFrame, spec: TrainingSpec) -> KerasImageFileTransformer:
    """Trains on ``numWorkers`` barrier tasks; the transformer also tells which workers trained
    (``training_workers``: rank, pid, host, rows, the epoch it resumed from and the sha256 of its
    final weights, per worker)."""
    from sparkdl.training.distributed import train_distributed
    from sparkdl.training.local import Trained

    weights, history, pid, workers = train_distributed(dataset, spec)
    transformer = _fitted(spec, Trained(weights, history, pid))
    transformer.training_workers = workers
    return transformer


def _fitted(spec: TrainingSpec, trained: Trained) -> KerasImageFileTransformer:
    """The KerasImageFileTransformer for trained weights."""
    from sparkdl.graph.keras_io import load_keras_model

    model = load_keras_model(spec.model_file)
    model.set_weights(trained.weights)
    transformer = KerasImageFileTransformer(inputCol=spec.input_col, outputCol=spec.output_col,
                                            imageLoader=spec.image_loader, outputMode=spec.output_mode)
    transformer.setGraph(model)
    transformer._set(modelFile=spec.model_file)
    transformer.history = trained.history
    transformer.keras_model = model
    transformer.training_pid = trained.pid  # the process that trained it (a Python worker under fitMultiple)
    return transformer
