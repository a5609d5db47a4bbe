"""KerasImageFileTransformer: a Keras image model over a column of image URIs."""
from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, cast

import numpy as np
from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlTransformer
from sparkdl.ml._shared import (
    HasBatchSize,
    HasInputCol,
    HasKerasModelFile,
    HasOutputCol,
    HasOutputMode,
    accessors,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql._typing import UserDefinedFunctionLike
    from typing_extensions import Self

__all__ = ["KerasImageFileTransformer"]


class KerasImageFileTransformer(SparkdlTransformer, HasKerasModelFile, HasInputCol, HasOutputCol,
                                HasOutputMode, HasBatchSize):
    """Applies a Keras image model to files named in ``inputCol`` (URIs).

    ``imageLoader`` is a Python function URI -> numpy array of the model's input shape (with
    or without a leading batch dimension of 1): it runs in Python workers, and the model
    runs in the JVM. Without it, the JVM decodes each file and resizes it bilinearly to the
    model's input, RGB float pixels 0-255. Output: ``Vector`` (``outputMode="vector"``) or
    ``array<float>``. Files that cannot be loaded give null (JVM loading) or fail the task
    with the loader's error (Python loading).

    The loader is saved with the stage (pickled). Reading it back runs code, so a loaded stage's
    loader is refused unless the reader opts in (:meth:`getImageLoader`).

    >>> t = KerasImageFileTransformer(inputCol="uri", outputCol="predictions", modelFile="/m/model.keras",
    ...                               imageLoader=load_and_scale)  # doctest: +SKIP
    """

    imageLoaderPickle = Param(Params._dummy(), "imageLoaderPickle",
                              "the imageLoader, pickled and base64-encoded", typeConverter=TypeConverters.toString)
    loadedCol = Param(Params._dummy(), "loadedCol",
                      "column of images already loaded (each the model's input, flattened, e.g. by a Python "
                      "imageLoader): when set, it feeds the graph instead of the files of inputCol, and is dropped "
                      "from the output", typeConverter=TypeConverters.toString)

    _input_kwargs: Dict[str, Any]
    # set on the transformer that KerasImageFileEstimator.fit returns
    history: Dict[str, List[float]]
    keras_model: Any
    training_pid: int
    training_workers: List[Dict[str, Any]]  # with numWorkers > 1

    @keyword_only
    def __init__(self, inputCol: Optional[str] = None, outputCol: Optional[str] = None,
                 modelFile: Optional[str] = None, imageLoader: Optional[Callable[[str], Any]] = None,
                 outputMode: str = "vector", batchSize: int = 0, kerasCustomObjects: Optional[Dict[str, Any]] = None,
                 allowUnsafeDeserialization: bool = False) -> None:
        super(KerasImageFileTransformer, self).__init__()
        self._java_obj = self._new_stage()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: Optional[str] = None, outputCol: Optional[str] = None,
                  modelFile: Optional[str] = None, imageLoader: Optional[Callable[[str], Any]] = None,
                  outputMode: str = "vector", batchSize: int = 0, kerasCustomObjects: Optional[Dict[str, Any]] = None,
                  allowUnsafeDeserialization: bool = False) -> Self:
        kwargs = self._set_with_model_file(self._input_kwargs)
        loader = kwargs.pop("imageLoader", None)
        if loader is not None:
            self.setImageLoader(loader)
        return self._set(**kwargs)

    def setImageLoader(self, loader: Callable[[str], Any]) -> Self:
        from pyspark import cloudpickle

        if not callable(loader):
            raise TypeError("imageLoader must be a function URI -> numpy array, got %r" % (loader,))
        self._image_loader = loader  # set in this process: trusted, never unpickled
        return self._set(imageLoaderPickle=base64.b64encode(
            cloudpickle.dumps(loader)).decode("ascii"))  # type: ignore[no-untyped-call]  # cloudpickle is untyped

    def getImageLoader(self) -> Optional[Callable[[str], Any]]:
        """The imageLoader function, or None for JVM loading.

        A stage read from disk carries its loader pickled, and unpickling runs whatever code the
        pickle holds: like Keras' ``safe_mode``, it is refused unless the reader opted in, with
        ``KerasImageFileTransformer.load(path, allowUnsafeDeserialization=True)`` or the Spark
        conf ``spark.sparkdl.allowUnsafeDeserialization=true`` set while it is read (e.g. for
        ``PipelineModel.load``) or when the loader is first needed.
        """
        import pickle

        if not self.isDefined(self.imageLoaderPickle):
            return None
        own = getattr(self, "_image_loader", None)
        if own is not None:
            return cast(Callable[[str], Any], own)
        if not (getattr(self, "_allow_unsafe_loader", False) or _unsafe_allowed_by_conf()):
            raise PermissionError(
                "%s carries a pickled Python imageLoader (read from a saved stage): unpickling it runs "
                "arbitrary code, so it is refused. If you trust where the stage comes from, load it with "
                "KerasImageFileTransformer.load(path, allowUnsafeDeserialization=True), or set the Spark conf "
                "%s=true (for PipelineModel.load); or set a loader yourself with setImageLoader(fn)."
                % (self.uid, UNSAFE_CONF))
        loader = cast(Callable[[str], Any], pickle.loads(base64.b64decode(self.getOrDefault(self.imageLoaderPickle))))
        self._image_loader = loader
        return loader

    @classmethod
    def load(cls, path: str, allowUnsafeDeserialization: bool = False) -> Self:
        """Reads a saved stage. Its pickled imageLoader (if any) is only unpickled with
        ``allowUnsafeDeserialization=True`` (see :meth:`getImageLoader`)."""
        stage = super(KerasImageFileTransformer, cls).load(path)
        if allowUnsafeDeserialization:
            stage._allow_unsafe_loader = True
        return stage

    def _transfer_params_from_java(self) -> None:
        """Every read of a saved stage (``load``, ``PipelineModel.load``, ...) comes through here:
        the conf's opt-in, as it is at read time, stays with the stage read."""
        super(KerasImageFileTransformer, self)._transfer_params_from_java()
        if _unsafe_allowed_by_conf():
            self._allow_unsafe_loader = True

    getLoadedCol, setLoadedCol = accessors("loadedCol", str)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        """With an imageLoader: a Python UDF loads each URI into ``loadedCol``, then the JVM stage
        runs the graph on that column (the same plan on a classic and a Spark Connect session)."""
        loader = self.getImageLoader()
        if loader is None or self.isSet(self.loadedCol):
            return super(KerasImageFileTransformer, self)._transform(dataset)
        loaded = "__%s_loaded" % self.uid
        df = dataset.withColumn(loaded, _loader_udf(loader)(dataset[self.getOrDefault(self.inputCol)]))
        return self.copy({self.loadedCol: loaded})._transform(df)


UNSAFE_CONF = "spark.sparkdl.allowUnsafeDeserialization"


def _unsafe_allowed_by_conf() -> bool:
    from sparkdl._session import active_session

    try:
        return str(active_session("KerasImageFileTransformer").conf.get(UNSAFE_CONF, "false")).lower() == "true"
    except Exception:
        return False


def _loader_udf(loader: Callable[[str], Any]) -> UserDefinedFunctionLike:
    """A Python UDF: URI -> the loader's array, flattened to array<float> (the JVM reshapes it)."""
    from pyspark.sql.functions import udf
    from pyspark.sql.types import ArrayType, FloatType

    def load(uri: Optional[str]) -> Optional[List[float]]:
        if uri is None:
            return None
        return cast(List[float], np.asarray(loader(uri), dtype=np.float32).ravel().tolist())

    # not Arrow-optimized: an Arrow Python UDF fails on a UDT column (e.g. a Vector) beside its input
    return udf(load, ArrayType(FloatType()), useArrow=False)
