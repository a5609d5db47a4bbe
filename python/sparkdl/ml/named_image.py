"""DeepImageFeaturizer and DeepImagePredictor: pre-trained models, run in the JVM.

From Python, the named model is exported to a frozen graph on first use and cached
(per model and weights) under ``~/.cache/sparkdl/models`` (``$SPARKDL_MODEL_CACHE``);
set ``modelDir`` (or the Spark conf ``spark.sparkdl.modelDir``) to use an export
made with ``python -m sparkdl.models export`` instead.

The input column holds Spark image structs (``readImages``), encoded image bytes (``binary``, as
``binaryFile``'s ``content``) or ``struct<bytes, path>`` (a Hugging Face Image column): bytes are decoded
in the model's batch loop, as ``readImages`` decodes files (``maxPixels``, ``applyExifOrientation``,
``draftDecode`` apply to them).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, cast

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._exported import ExportedModelStage
from sparkdl.ml._shared import (
    HasBatchSize,
    HasHandleInvalid,
    HasInputCol,
    HasOutputCol,
    ImageDecodingParams,
    accessors,
    int_in_range,
)
from sparkdl.models.contract import Conf
from sparkdl.models.export import conf_export_holds
from sparkdl.models.registry import model_names

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession
    from pyspark.sql.types import StructType
    from typing_extensions import Self

__all__ = ["DeepImageFeaturizer", "DeepImagePredictor"]


def _model_name(value: object) -> str:
    """modelName's converter: a known name, else the registry's error listing them (as Scala's)."""
    from sparkdl.models.registry import get_spec

    value = TypeConverters.toString(value)
    get_spec(value)
    return value


#: Values of ``engine`` (Scala's ``Engines.Values``).
ENGINES = ("auto", "tf", "onnx")


def _engine(value: object) -> str:
    """engine's converter: one of :data:`ENGINES`."""
    value = TypeConverters.toString(value)
    if value not in ENGINES:
        raise ValueError("engine must be one of %s; got '%s'" % (", ".join(ENGINES), value))
    return value


def _precision(value: object) -> str:
    """precision's converter: one of :data:`sparkdl.models.export.PRECISIONS`."""
    from sparkdl.models.export import check_precision

    return check_precision(TypeConverters.toString(value))


class _NamedImageModel(ExportedModelStage, HasInputCol, HasOutputCol, HasBatchSize, HasHandleInvalid,
                       ImageDecodingParams):
    """Params and export handling shared by the two named-model stages."""

    modelName = Param(Params._dummy(), "modelName", "pre-trained model, one of %s; no default" % ", ".join(
        model_names()), typeConverter=_model_name)
    modelDir = Param(Params._dummy(), "modelDir",
                     "directory written by `python -m sparkdl.models export` (default: automatic cached export)",
                     typeConverter=TypeConverters.toString)
    weightsPath = Param(Params._dummy(), "weightsPath",
                        "local Keras weights file for the architecture (default: Keras' ImageNet weights)",
                        typeConverter=TypeConverters.toString)
    engine = Param(Params._dummy(), "engine",
                   "engine that runs the model: tf (TensorFlow, the export's frozen graph), onnx (ONNX Runtime, its "
                   "ONNX form) or auto (the faster of the two, measured on the first batches in each executor JVM "
                   "together with the batch size). Default: the Spark conf %s, else auto" % Conf.ENGINE,
                   typeConverter=_engine)

    precision = Param(Params._dummy(), "precision",
                      "what the model computes in: fp32 (as Keras), or int8 (its int8 form, on ONNX Runtime: "
                      "convolutions and classifier in int8 arithmetic, with the accuracy it costs measured at "
                      "export and kept in model.json; added to the cached export once). Default: fp32",
                      typeConverter=_precision)

    def __init__(self) -> None:
        super(_NamedImageModel, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(inputCol="image", precision="fp32")

    def _check_model(self) -> None:
        from sparkdl.models.registry import get_spec

        if not self.isDefined(self.modelName):
            raise ValueError("%s: modelName is not set" % type(self).__name__)
        get_spec(self.getModelName())  # unknown names: ValueError listing the valid ones

    def _check_input(self, schema: StructType) -> None:
        """The input column exists and holds images (structs or encoded files): checked before any export."""
        from sparkdl.image.imageIO import IMAGE_INPUT_TYPES, imageSchema, is_encoded_like, is_image_like

        t = self._input_type(schema)
        if not (is_image_like(t) or is_encoded_like(t)):
            raise ValueError("Input column '%s' must be %s, but is %s" % (
                self.getInputCol(), IMAGE_INPUT_TYPES % imageSchema.simpleString(), t.simpleString()))

    def _with_export(self, spark: SparkSession) -> Self:
        """This stage when its export is known (``modelDir``, or the Spark conf's directory when it holds
        this model: the conf adds a place to look, it never turns the export off), else a copy whose
        ``modelDir`` is the export made here: a cached directory in a classic session, an uploaded
        archive on Spark Connect."""
        if self.isSet(self.modelDir) or conf_export_holds(spark, self.getModelName()):
            return self
        if self._on_connect:
            import importlib.util

            if importlib.util.find_spec("tensorflow") is None:  # the server's own exports, or its error
                return self
            return self.copy({self.modelDir: self._upload_export(cast("ConnectSparkSession", spark))})
        from sparkdl.models.export import cached_model_dir

        weights = self.getOrDefault(self.weightsPath) if self.isDefined(self.weightsPath) else None
        return self.copy({self.modelDir: cached_model_dir(self.getModelName(), weights, self.getPrecision())})

    def _upload_export(self, spark: ConnectSparkSession) -> str:
        """On Spark Connect with TensorFlow here: exports the model here (once, cached) and uploads
        it; the name of the upload is this transform's modelDir (nothing client-local is persisted).
        The server's SQL functions find it too, by the model's name, for the rest of the session."""
        from sparkdl.graph.artifacts import upload_export
        from sparkdl.models.export import cached_model_dir

        weights = self.getOrDefault(self.weightsPath) if self.isDefined(self.weightsPath) else None
        return upload_export(spark, cached_model_dir(self.getModelName(), weights, self.getPrecision()),
                             self.getModelName())

    getModelName, setModelName = accessors("modelName", str)
    getModelDir, setModelDir = accessors("modelDir", str)
    getWeightsPath, setWeightsPath = accessors("weightsPath", str)
    setEngine = accessors("engine", str)[1]
    getPrecision, setPrecision = accessors("precision", str)

    def getEngine(self) -> str:
        """The engine set, else the active session's Spark conf ``spark.sparkdl.engine``, else ``auto``."""
        if self.isSet(self.engine):
            return self.getOrDefault(self.engine)
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        return _engine(spark.conf.get(Conf.ENGINE, None) or "auto") if spark is not None else "auto"


class DeepImageFeaturizer(_NamedImageModel):
    """Features from a pre-trained model (the values before its ImageNet classifier), as a Vector.

    >>> featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName="InceptionV3")
    >>> p = Pipeline(stages=[featurizer, LogisticRegression(labelCol="label")])  # doctest: +SKIP
    """

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "image", outputCol: Optional[str] = None, modelName: Optional[str] = None,
                 modelDir: Optional[str] = None, weightsPath: Optional[str] = None, batchSize: int = 0,
                 handleInvalid: str = "error", maxPixels: int = 100000000, applyExifOrientation: bool = False,
                 draftDecode: bool = False, engine: Optional[str] = None, precision: str = "fp32") -> None:
        super(DeepImageFeaturizer, self).__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: str = "image", outputCol: Optional[str] = None, modelName: Optional[str] = None,
                  modelDir: Optional[str] = None, weightsPath: Optional[str] = None, batchSize: int = 0,
                  handleInvalid: str = "error", maxPixels: int = 100000000, applyExifOrientation: bool = False,
                  draftDecode: bool = False, engine: Optional[str] = None, precision: str = "fp32") -> Self:
        return self._set(**self._input_kwargs)


class DeepImagePredictor(_NamedImageModel):
    """ImageNet predictions from a pre-trained model: a Vector of 1000 probabilities, or with
    ``decodePredictions=True`` the ``topK`` classes as
    ``array<struct<class, description, probability>>``, highest first.

    >>> predictor = DeepImagePredictor(inputCol="image", outputCol="predicted_labels",
    ...                                modelName="InceptionV3", decodePredictions=True, topK=10)
    >>> predictions_df = predictor.transform(image_df)  # doctest: +SKIP
    """

    decodePredictions = Param(Params._dummy(), "decodePredictions",
                              "output the topK classes with labels instead of the probability vector",
                              typeConverter=TypeConverters.toBoolean)
    topK = Param(Params._dummy(), "topK", "how many classes decodePredictions keeps, 1 to 1000",
                 typeConverter=int_in_range("topK", 1, 1000))

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "image", outputCol: Optional[str] = None, modelName: Optional[str] = None,
                 decodePredictions: bool = False, topK: int = 5, modelDir: Optional[str] = None,
                 weightsPath: Optional[str] = None, batchSize: int = 0, handleInvalid: str = "error",
                 maxPixels: int = 100000000, applyExifOrientation: bool = False, draftDecode: bool = False,
                 engine: Optional[str] = None, precision: str = "fp32") -> None:
        super(DeepImagePredictor, self).__init__()
        self._setDefault(decodePredictions=False, topK=5)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: str = "image", outputCol: Optional[str] = None, modelName: Optional[str] = None,
                  decodePredictions: bool = False, topK: int = 5, modelDir: Optional[str] = None,
                  weightsPath: Optional[str] = None, batchSize: int = 0, handleInvalid: str = "error",
                  maxPixels: int = 100000000, applyExifOrientation: bool = False, draftDecode: bool = False,
                  engine: Optional[str] = None, precision: str = "fp32") -> Self:
        return self._set(**self._input_kwargs)

    getDecodePredictions, setDecodePredictions = accessors("decodePredictions", bool)
    getTopK, setTopK = accessors("topK", int)
