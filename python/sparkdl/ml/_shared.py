"""Params shared by the sparkdl wrappers: one mixin per param, mirroring the Scala traits of
``sparkdl/ml/SharedParams.scala`` name for name (``HasInputCol`` <-> ``trait HasInputCol``).
Stage-specific defaults are set by the stage, as in Scala."""
from __future__ import annotations

import os
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    Mapping,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)

from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param import shared as _spark_shared

from sparkdl.ml._base import SparkdlJavaStage

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession
    from pyspark.sql.types import DataType, StructType
    from typing_extensions import Self

    from sparkdl.graph.frozen import FrozenGraph

_T = TypeVar("_T")

__all__ = ["accessors", "one_of", "int_at_least", "int_in_range", "HasInputCol", "HasOutputCol", "HasBatchSize",
           "HasHandleInvalid", "HasOutputMode", "HasModelFile", "HasFrozenGraph", "HasKerasModelFile", "HasMaxPixels",
           "HasApplyExifOrientation", "HasDraftDecode", "ImageDecodingParams"]


def _capitalized(name: str) -> str:
    return name[0].upper() + name[1:]


def accessors(name: str, kind: Type[_T]) -> Tuple[Callable[[Any], _T], Callable[[Any, _T], Any]]:
    """``(getX, setX)`` for the param ``name`` whose values are ``kind``: the Python side of a Scala
    param's getter and setter, typed (for type checkers and ``help()``)."""

    def getter(self: Params) -> Any:
        return self.getOrDefault(getattr(self, name))

    def setter(self: Params, value: Any) -> Params:
        return self._set(**{name: value})

    getter.__name__, setter.__name__ = "get" + _capitalized(name), "set" + _capitalized(name)
    getter.__doc__ = "Gets the value of %s or its default value." % name
    setter.__doc__ = "Sets the value of :py:attr:`%s`." % name
    getter.__annotations__ = {"return": kind.__name__}
    setter.__annotations__ = {"value": kind.__name__, "return": "Self"}
    return getter, setter


def one_of(name: str, values: Iterable[str]) -> Callable[[Any], str]:
    """A ``typeConverter`` checking at ``set`` time that param ``name`` is one of ``values`` (the
    error lists them, and names the right spelling of a wrong-case value)."""
    values = list(values)

    def convert(value: object) -> str:
        value = TypeConverters.toString(value)
        if value not in values:
            near = [v for v in values if v.lower() == value.lower()]
            raise ValueError("%s '%s' is not valid%s. Valid values: %s" % (
                name, value, " (did you mean '%s'?)" % near[0] if near else "", ", ".join(values)))
        return value

    return convert


def int_in_range(name: str, low: int, high: int) -> Callable[[Any], int]:
    """A ``typeConverter``: an int in ``[low, high]``, else an error naming the param and the range."""

    def convert(value: object) -> int:
        value = TypeConverters.toInt(value)
        if not low <= value <= high:
            raise ValueError("%s must be in [%d, %d], got %d" % (name, low, high, value))
        return value

    return convert


def int_at_least(name: str, low: int) -> Callable[[Any], int]:
    """A ``typeConverter``: an int >= ``low``."""

    def convert(value: object) -> int:
        value = TypeConverters.toInt(value)
        if value < low:
            raise ValueError("%s must be >= %d, got %d" % (name, low, value))
        return value

    return convert


# One mixin ``HasX`` per param ``x``: the param, ``getX``/``setX``, and Scala's default where it has one.

class HasInputCol(_spark_shared.HasInputCol):
    """Mixin for param inputCol: input column name (pyspark's ``HasInputCol``, so code written against
    pyspark's mixins sees sparkdl's stages)."""

    inputCol = Param(Params._dummy(), "inputCol", "input column name", typeConverter=TypeConverters.toString)
    getInputCol, setInputCol = accessors("inputCol", str)

    def _input_type(self, schema: StructType) -> DataType:
        """The input column's type in ``schema``, or an error naming the column and those there are."""
        name = self.getOrDefault(self.inputCol)
        field = next((f for f in schema.fields if f.name == name), None)
        if field is None:
            raise ValueError("Input column '%s' does not exist. Available columns: %s"
                             % (name, ", ".join(schema.fieldNames())))
        return field.dataType


class HasOutputCol(_spark_shared.HasOutputCol):
    """Mixin for param outputCol: output column name (pyspark's ``HasOutputCol``, without its
    ``<uid>__output`` default: as in Scala, a stage's outputCol is set by the user)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(HasOutputCol, self).__init__(*args, **kwargs)
        self._defaultParamMap.pop(self.outputCol, None)

    outputCol = Param(Params._dummy(), "outputCol", "output column name", typeConverter=TypeConverters.toString)
    getOutputCol, setOutputCol = accessors("outputCol", str)


class HasBatchSize(Params):
    """Mixin for param batchSize: rows fed to the model per run; memory per task is bounded by one batch.

    0 (the default) is auto: the fastest size measured on the first batches of real input, per
    model and executor JVM (see the README's "Batch size").
    """

    batchSize = Param(Params._dummy(), "batchSize",
                      "rows fed to the model per run; memory per task is bounded by one batch. 0 (the "
                      "default): auto, the fastest size measured on the first batches, per model and executor JVM",
                      typeConverter=int_at_least("batchSize", 0))
    getBatchSize, setBatchSize = accessors("batchSize", int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(HasBatchSize, self).__init__(*args, **kwargs)
        self._setDefault(batchSize=0)


class HasHandleInvalid(_spark_shared.HasHandleInvalid):
    ("Mixin for param handleInvalid: what to do with an input row the model cannot take (an image without "
     "pixels or with unsupported channels, a wrong number of values): error, keep (null) or skip (drop the row).")

    handleInvalid = Param(Params._dummy(), "handleInvalid",
                          "what to do with an input the model cannot take (an image without pixels or with "
                          "unsupported channels, a wrong number of values): error (fail), keep (null output) or "
                          "skip (drop the row). Null inputs give null, or are dropped by skip. Default: error",
                          typeConverter=one_of("handleInvalid", ["error", "keep", "skip"]))
    getHandleInvalid, setHandleInvalid = accessors("handleInvalid", str)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(HasHandleInvalid, self).__init__(*args, **kwargs)
        self._setDefault(handleInvalid="error")


class HasMaxPixels(Params):
    """Mixin for param maxPixels: for an input column of encoded image bytes, images declaring more pixels are
    not decoded (a row the model cannot take: ``handleInvalid``). Default 100,000,000."""

    maxPixels = Param(Params._dummy(), "maxPixels",
                      "for an input column of encoded image bytes: images declaring more pixels are not decoded (a "
                      "row the model cannot take: handleInvalid). Default: 100000000",
                      typeConverter=int_at_least("maxPixels", 1))
    getMaxPixels, setMaxPixels = accessors("maxPixels", int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(HasMaxPixels, self).__init__(*args, **kwargs)
        self._setDefault(maxPixels=100000000)


class HasApplyExifOrientation(Params):
    """Mixin for param applyExifOrientation: for an input column of encoded image bytes, turn JPEGs upright as
    their EXIF orientation says (default False: the pixels as stored, as Keras and Pillow load them)."""

    applyExifOrientation = Param(Params._dummy(), "applyExifOrientation",
                                 "for an input column of encoded image bytes: turn JPEGs upright as their EXIF "
                                 "orientation says. Default: false", typeConverter=TypeConverters.toBoolean)
    getApplyExifOrientation, setApplyExifOrientation = accessors("applyExifOrientation", bool)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(HasApplyExifOrientation, self).__init__(*args, **kwargs)
        self._setDefault(applyExifOrientation=False)


class HasDraftDecode(Params):
    """Mixin for param draftDecode: for an input column of encoded image bytes, decode each JPEG at the smallest
    DCT scale (1/2, 1/4, 1/8) that keeps it at least the model's input size (readImages' ``draftSize``):
    faster, not equal to the exact decode. Default False."""

    draftDecode = Param(Params._dummy(), "draftDecode",
                        "for an input column of encoded image bytes: decode JPEGs at the smallest DCT scale that keeps "
                        "them at least the model's input size: faster, not equal to the exact decode. Default: false",
                        typeConverter=TypeConverters.toBoolean)
    getDraftDecode, setDraftDecode = accessors("draftDecode", bool)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(HasDraftDecode, self).__init__(*args, **kwargs)
        self._setDefault(draftDecode=False)


class ImageDecodingParams(HasMaxPixels, HasApplyExifOrientation, HasDraftDecode):
    """How an image stage decodes an input column of encoded bytes (Scala's ``ImageDecodingParams``)."""


class HasOutputMode(Params):
    """Mixin for param outputMode: output column type: vector (MLlib DenseVector) or array (array<float>)."""

    outputMode = Param(Params._dummy(), "outputMode",
                       "output column type: vector (MLlib DenseVector) or array (array<float>)",
                       typeConverter=one_of("outputMode", ["vector", "array"]))
    getOutputMode, setOutputMode = accessors("outputMode", str)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super(HasOutputMode, self).__init__(*args, **kwargs)
        self._setDefault(outputMode="vector")


class HasTensorMapping(HasBatchSize):
    """Columns fed to a model's inputs, its outputs fetched into columns (TFTransformer,
    ONNXTransformer): Scala's ``TensorMappingParams``."""

    inputCols = Param(Params._dummy(), "inputCols", "input columns, fed to inputTensors (same order)",
                      typeConverter=TypeConverters.toListString)
    inputTensors = Param(Params._dummy(), "inputTensors", "model inputs fed from inputCols",
                         typeConverter=TypeConverters.toListString)
    outputTensors = Param(Params._dummy(), "outputTensors", "model outputs fetched into outputCols",
                          typeConverter=TypeConverters.toListString)
    outputCols = Param(Params._dummy(), "outputCols", "output columns", typeConverter=TypeConverters.toListString)

    def _tensor_name(self, name: str) -> str:
        """A name as the engine spells it (TensorFlow: ``x`` is ``x:0``)."""
        return name

    def _set_mappings(self, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """Sets ``inputMapping`` / ``outputMapping`` from a ``setParams`` call; returns the other params."""
        kwargs = dict(kwargs)
        for key, setter in (("inputMapping", self.setInputMapping), ("outputMapping", self.setOutputMapping)):
            mapping = kwargs.pop(key, None)
            if mapping is not None:
                setter(mapping)
        return kwargs

    def setInputMapping(self, mapping: Mapping[str, str]) -> Self:
        """{input column: model input name}"""
        items = list(mapping.items())
        return self._set(inputCols=[c for c, _ in items], inputTensors=[self._tensor_name(t) for _, t in items])

    def getInputMapping(self) -> Dict[str, str]:
        # ignore here and below: mypy takes getOrDefault's T from zip's context, Iterable[str] (Param is invariant)
        return dict(zip(
            self.getOrDefault(self.inputCols), self.getOrDefault(self.inputTensors)))  # type: ignore[arg-type]

    def setOutputMapping(self, mapping: Mapping[str, str]) -> Self:
        """{model output name: output column}"""
        items = list(mapping.items())
        return self._set(outputTensors=[self._tensor_name(t) for t, _ in items], outputCols=[c for _, c in items])

    def getOutputMapping(self) -> Dict[str, str]:
        return dict(zip(
            self.getOrDefault(self.outputTensors), self.getOrDefault(self.outputCols)))  # type: ignore[arg-type]


class HasModelFile(Params):
    """Mixin for param modelFile: the Keras model file (.keras or .h5) the graph was frozen from."""

    modelFile = Param(Params._dummy(), "modelFile", "the Keras model file (.keras or .h5) the graph was frozen from",
                      typeConverter=TypeConverters.toString)
    getModelFile, setModelFile = accessors("modelFile", str)


class HasModelPath(SparkdlJavaStage):
    """Mixin for param modelPath: a model file of either engine, the engine read from the file
    (Scala's ``HasModelPath``)."""

    modelPath = Param(Params._dummy(), "modelPath",
                      "the model file: an ONNX model (.onnx, run by ONNX Runtime) or, except for ONNXTransformer, "
                      "a frozen TensorFlow graph (graph.pb with graph.json beside it), a path on any Hadoop file "
                      "system (a local file on Spark Connect is uploaded); saved with the stage",
                      typeConverter=TypeConverters.toString)
    getModelPath = accessors("modelPath", str)[0]

    if TYPE_CHECKING:  # from the Params class every stage mixes this into
        def _set(self, **kwargs: Any) -> Self: ...

    def setModelPath(self, path: str) -> Self:
        """The model file; on Spark Connect a local file is uploaded to the session first (a frozen graph
        with the ``.json`` of its tensor names beside it)."""
        if self._on_connect and os.path.isfile(path):
            from sparkdl._session import active_session
            from sparkdl.graph.artifacts import upload_model_path

            path = upload_model_path(cast("ConnectSparkSession", active_session("setModelPath")), path,
                                     onnx_only=self._onnx_only)
        return self._set(modelPath=path)

    #: whether the stage takes ONNX models only (ONNXTransformer)
    _onnx_only = False


class HasFrozenGraph(SparkdlJavaStage):
    """A frozen graph: on a classic session it lives on the JVM stage (it can be large); on Spark
    Connect it travels as an artifact file named by ``graphPath`` (a param cannot carry it)."""

    graphPath = Param(Params._dummy(), "graphPath",
                      "frozen graph file used when no graph object is set: graph.pb with graph.json beside it, "
                      "as a Spark Connect artifact name or a path on any Hadoop file system",
                      typeConverter=TypeConverters.toString)
    getGraphPath, setGraphPath = accessors("graphPath", str)
    _graph: Optional[FrozenGraph]  # the graph set in this process (Spark Connect: the server has it)

    if TYPE_CHECKING:  # from the Params class every stage mixes this into
        def _set(self, **kwargs: Any) -> Self: ...

        @overload
        def getOrDefault(self, param: str) -> Any: ...

        @overload
        def getOrDefault(self, param: Param[_T]) -> _T: ...

        def getOrDefault(self, param: Union[str, Param[_T]]) -> Union[Any, _T]: ...

    def setGraph(self, graph: Union[FrozenGraph, str, Any]) -> Self:
        """Sets the graph: a :class:`sparkdl.graph.FrozenGraph`, a Keras model (frozen here), or the
        path of an ONNX model (``.onnx``, run by ONNX Runtime; uploaded from a Spark Connect client)."""
        from sparkdl.graph.frozen import FrozenGraph

        if isinstance(graph, (str, os.PathLike)):
            path = os.fspath(graph)
            if not path.lower().endswith(".onnx"):
                raise ValueError("graph %r: a path must name an ONNX model (.onnx); load a frozen graph with "
                                 "FrozenGraph.load(directory)" % path)
            self._graph = None
            if self._on_connect and os.path.isfile(path):
                from sparkdl._session import active_session
                from sparkdl.graph.artifacts import upload_model_path

                path = upload_model_path(cast("ConnectSparkSession", active_session("setGraph")), path)
            return self._set(graphPath=path)
        if not isinstance(graph, FrozenGraph):
            graph = _freeze(graph)
        self._graph = graph
        if self._on_connect:  # the server builds the stage from its params
            from sparkdl._session import active_session
            from sparkdl.graph.artifacts import upload_graph

            return self._set(graphPath=upload_graph(cast("ConnectSparkSession", active_session("setGraph")), graph))
        from sparkdl._jvm import python_api

        python_api().setGraph(self._java_obj, bytearray(graph.graph_def), graph.inputs, graph.outputs)
        return self

    def getGraph(self) -> FrozenGraph:
        """The :class:`sparkdl.graph.FrozenGraph` this stage runs."""
        from sparkdl.graph.frozen import FrozenGraph

        if self._on_connect:
            graph: Optional[FrozenGraph] = getattr(self, "_graph", None)
            if graph is None:
                raise ValueError("On Spark Connect the graph stays on the server (graphPath=%r); only a graph "
                                 "set in this process can be read back" % self.getOrDefault(self.graphPath))
            return graph
        return FrozenGraph._from_java(self._java_obj.getGraph())


class HasKerasModelFile(HasFrozenGraph, HasModelFile):
    """A stage that runs a saved Keras model, loaded in this process (Keras' ``safe_mode``), frozen,
    and run in the JVM. ``kerasCustomObjects`` and ``allowUnsafeDeserialization`` are keyword
    arguments of the constructor and ``setParams``, not params: they serve loading only."""

    def setModelFile(self, value: str, kerasCustomObjects: Optional[Dict[str, Any]] = None,
                     allowUnsafeDeserialization: bool = False) -> Self:
        """Loads the Keras file (safe mode: models carrying Python ``Lambda`` code are refused unless
        ``allowUnsafeDeserialization=True``), freezes it and hands the graph to the JVM stage."""
        from sparkdl.graph.keras_io import load_keras_model

        self.setGraph(load_keras_model(value, kerasCustomObjects, allowUnsafeDeserialization))
        return self._set(modelFile=value)

    def _set_with_model_file(self, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        """``setParams``' keywords: loads ``modelFile`` with the loading options among them, and
        returns the others (params to set)."""
        kwargs = dict(kwargs)
        custom = kwargs.pop("kerasCustomObjects", None)
        unsafe = kwargs.pop("allowUnsafeDeserialization", False)
        model_file = kwargs.pop("modelFile", None)
        if model_file is not None:
            self.setModelFile(model_file, kerasCustomObjects=custom, allowUnsafeDeserialization=unsafe)
        return kwargs


def _freeze(model: Any) -> FrozenGraph:
    """A Keras model's frozen graph; TensorFlow is needed here, and only here."""
    try:
        from sparkdl.graph.export import freeze_keras
    except ImportError as e:
        raise ImportError("Freezing a Keras model needs TensorFlow (the tf extra: `pip install \".[spark,tf]\"` "
                          "from a clone). Where TensorFlow is not installed (e.g. a Spark Connect client), freeze it "
                          "elsewhere with sparkdl.graph.freeze_keras(model).save(dir) and pass FrozenGraph.load(dir)"
                          ) from e
    return freeze_keras(model)
