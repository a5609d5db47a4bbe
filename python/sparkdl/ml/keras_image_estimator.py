"""KerasImageFileEstimator: train a Keras model on a DataFrame of image URIs and labels.

``fit`` trains on the driver; ``fitMultiple`` (what ``CrossValidator`` calls) trains every
param map in parallel as Spark tasks, one task per param map, with the images and model
files shipped once by broadcast. Either way the result is a
:class:`sparkdl.ml.KerasImageFileTransformer` whose model runs in the JVM.
"""
import inspect
import os
import tempfile
import threading

import numpy as np
from pyspark import keyword_only
from pyspark.ml import Estimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasLabelCol

from sparkdl.ml._shared import HasInputCol, HasModelFile, HasOutputCol, HasOutputMode
from sparkdl.ml.keras_image_file import KerasImageFileTransformer, _loader_udf

__all__ = ["KerasImageFileEstimator", "TRAINING_JOB_GROUP"]

#: Spark job group of the training jobs of fitMultiple (to find them in the status tracker).
TRAINING_JOB_GROUP = "sparkdl-keras-training"


def _optimizer_names():
    """Names ``keras.optimizers.get`` accepts: the optimizer classes, lower-cased."""
    import keras

    return sorted(n.lower() for n, c in vars(keras.optimizers).items()
                  if isinstance(c, type) and issubclass(c, keras.optimizers.Optimizer)
                  and c is not keras.optimizers.Optimizer)


def _loss_names():
    """Names ``keras.losses.get`` accepts: the loss functions."""
    import keras

    return sorted(n for n, f in vars(keras.losses).items()
                  if callable(f) and not isinstance(f, type) and n.islower() and not n.startswith("_")
                  and n not in ("get", "serialize", "deserialize"))


class KerasImageFileEstimator(Estimator, HasInputCol, HasOutputCol, HasLabelCol, HasModelFile, HasOutputMode):
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

    imageLoader = Param(Params._dummy(), "imageLoader", "function URI -> numpy array of the model's input shape")
    kerasOptimizer = Param(Params._dummy(), "kerasOptimizer", "Keras optimizer name, e.g. adam",
                           typeConverter=TypeConverters.toString)
    kerasLoss = Param(Params._dummy(), "kerasLoss", "Keras loss name, e.g. categorical_crossentropy",
                      typeConverter=TypeConverters.toString)
    kerasFitParams = Param(Params._dummy(), "kerasFitParams", "dict of keyword arguments for Keras fit")

    @keyword_only
    def __init__(self, inputCol="uri", outputCol="prediction", labelCol="label", imageLoader=None, modelFile=None,
                 kerasOptimizer="adam", kerasLoss="categorical_crossentropy", kerasFitParams=None,
                 outputMode="vector"):
        super(KerasImageFileEstimator, self).__init__()
        self._setDefault(inputCol="uri", outputCol="prediction", labelCol="label", kerasOptimizer="adam",
                         kerasLoss="categorical_crossentropy", kerasFitParams={}, outputMode="vector")
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol="uri", outputCol="prediction", labelCol="label", imageLoader=None, modelFile=None,
                  kerasOptimizer="adam", kerasLoss="categorical_crossentropy", kerasFitParams=None,
                  outputMode="vector"):
        kwargs = {k: v for k, v in self._input_kwargs.items() if v is not None}
        return self._set(**kwargs)

    # -- validation ---------------------------------------------------------------------------

    def _settings(self, paramMap=None):
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
        return {"imageLoader": get(est.imageLoader), "modelFile": model_file,
                "optimizer": get(est.kerasOptimizer), "loss": get(est.kerasLoss), "fitParams": fit_params,
                "inputCol": get(est.inputCol), "outputCol": get(est.outputCol), "labelCol": get(est.labelCol),
                "outputMode": get(est.outputMode)}

    # -- data ---------------------------------------------------------------------------------

    @staticmethod
    def _load(dataset, settings):
        """(images, labels) as numpy arrays: the loader runs in Python workers, rows come back in order."""
        from pyspark.sql import functions as F

        rows = dataset.select(_loader_udf(settings["imageLoader"])(F.col(settings["inputCol"])).alias("x"),
                              F.col(settings["labelCol"]).alias("y")).collect()
        if not rows:
            raise ValueError("KerasImageFileEstimator: the training DataFrame is empty")
        with open(settings["modelFile"], "rb") as f:
            model_bytes = f.read()
        shape = _model_input_shape(model_bytes, settings["modelFile"])
        x = np.array([r.x for r in rows], dtype=np.float32).reshape((len(rows),) + shape)
        y = np.array([r.y.toArray() if hasattr(r.y, "toArray") else r.y for r in rows])
        return x, y

    # -- training -----------------------------------------------------------------------------

    def _fit(self, dataset):
        settings = self._settings()
        x, y = self._load(dataset, settings)
        with open(settings["modelFile"], "rb") as f:
            weights, history, pid = _train(f.read(), os.path.basename(settings["modelFile"]), settings, x, y)
        return _fitted(settings, weights, history, pid)

    def fitMultiple(self, dataset, paramMaps):
        """Trains every param map as one Spark task each; returns pyspark's thread-safe (index, model) iterator."""
        from pyspark.ml.base import _FitMultipleIterator

        all_settings = [self._settings(pm) for pm in paramMaps]  # every param checked before training
        state = {}
        lock = threading.Lock()

        def fit_one(index):
            with lock:
                if "results" not in state:
                    state["results"] = _train_in_tasks(dataset, all_settings)
            weights, history, pid = state["results"][index]
            return _fitted(all_settings[index], weights, history, pid)

        return _FitMultipleIterator(fit_one, len(paramMaps))


def _model_input_shape(model_bytes, name):
    import keras

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, os.path.basename(name))
        with open(path, "wb") as f:
            f.write(model_bytes)
        model = keras.models.load_model(path, compile=False)
    return tuple(int(s) for s in model.inputs[0].shape[1:])


def _train(model_bytes, name, settings, x, y):
    """Trains a fresh copy of the model; returns (weights, history, pid). Runs on driver or executor."""
    import keras

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(model_bytes)
        model = keras.models.load_model(path, compile=False)
    model.compile(optimizer=keras.optimizers.get(settings["optimizer"]), loss=settings["loss"])
    history = model.fit(x, y, **settings["fitParams"])
    return model.get_weights(), {k: [float(v) for v in vs] for k, vs in history.history.items()}, os.getpid()


def _train_in_tasks(dataset, all_settings):
    """One Spark task per settings; images and model files broadcast once. Results in input order."""
    sc = dataset.sparkSession.sparkContext
    data = {}
    for s in all_settings:
        key = (s["imageLoader"], s["inputCol"], s["labelCol"], s["modelFile"])
        if key not in data:
            data[key] = KerasImageFileEstimator._load(dataset, s)
    files = {}
    for s in all_settings:
        if s["modelFile"] not in files:
            with open(s["modelFile"], "rb") as f:
                files[s["modelFile"]] = f.read()
    keys = [(s["imageLoader"], s["inputCol"], s["labelCol"], s["modelFile"]) for s in all_settings]
    unique = list(dict.fromkeys(keys))
    shipped = sc.broadcast({"data": [data[k] for k in unique], "files": files})
    jobs = [(i, unique.index(k), {kk: v for kk, v in s.items() if kk != "imageLoader"})
            for i, (k, s) in enumerate(zip(keys, all_settings))]

    def run(job):
        index, data_index, settings = job
        x, y = shipped.value["data"][data_index]
        model_bytes = shipped.value["files"][settings["modelFile"]]
        return index, _train(model_bytes, os.path.basename(settings["modelFile"]), settings, x, y)

    previous = sc.getLocalProperty("spark.jobGroup.id")
    sc.setJobGroup(TRAINING_JOB_GROUP, "sparkdl KerasImageFileEstimator: training %d param maps" % len(jobs))
    try:
        results = dict(sc.parallelize(jobs, len(jobs)).map(run).collect())
    finally:
        sc.setLocalProperty("spark.jobGroup.id", previous)
        sc.setLocalProperty("spark.job.description", None)
        shipped.unpersist()
    return [results[i] for i in range(len(jobs))]


def _fitted(settings, weights, history, pid):
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
