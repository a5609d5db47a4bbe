"""ImageModelTransformer: a model file of either engine over an image column, run in the JVM."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, cast

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlJavaStage, SparkdlTransformer
from sparkdl.ml._shared import (
    HasBatchSize,
    HasHandleInvalid,
    HasInputCol,
    HasModelPath,
    HasOutputCol,
    HasOutputMode,
    ImageDecodingParams,
    accessors,
    one_of,
)

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ImageModelStage", "ImageModelTransformer"]


class ImageModelStage(SparkdlTransformer, SparkdlJavaStage, HasInputCol, HasOutputCol, HasOutputMode, HasBatchSize,
                      HasHandleInvalid, ImageDecodingParams):
    """The params of a stage applying one model to a column of images (Scala's ``ImageModelParams``),
    whatever gives it the model."""

    inputTensor = Param(Params._dummy(), "inputTensor",
                        "name of the model's image input [batch, height, width, channels] (or channels first)",
                        typeConverter=TypeConverters.toString)
    outputTensor = Param(Params._dummy(), "outputTensor", "name of the model output to fetch",
                         typeConverter=TypeConverters.toString)
    outputMode = Param(Params._dummy(), "outputMode",
                       "output column type: vector (MLlib DenseVector), array (array<float>), or image (an image "
                       "struct of float32 pixels, mode CV_32FC1/3/4, channels in Spark's BGR order, for a model "
                       "whose output is an image [batch, height, width, channels])",
                       typeConverter=one_of("outputMode", ["vector", "array", "image"]))
    channelOrder = Param(Params._dummy(), "channelOrder",
                         "channel order the model expects: RGB, BGR, or L for 1-channel models",
                         typeConverter=one_of("channelOrder", ["RGB", "BGR", "L"]))

    setInputTensor = accessors("inputTensor", str)[1]
    setOutputTensor = accessors("outputTensor", str)[1]

    def __init__(self) -> None:
        super(ImageModelStage, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(inputCol="image", channelOrder="RGB")

    def getInputTensor(self) -> str:
        """The input tensor: as set, else the model's first input (on Spark Connect the client knows that only
        for a graph object set in this process; otherwise it says ``input:0``, and the server uses the first)."""
        return self._tensor(self.inputTensor, "inputs", "input:0")

    def getOutputTensor(self) -> str:
        """The output tensor: as set, else the model's first output (on Spark Connect as for the input)."""
        return self._tensor(self.outputTensor, "outputs", "output:0")

    def _tensor(self, param: Param[str], side: str, default: str) -> str:
        if not self._on_connect:  # classic: the JVM stage knows its model
            self._transfer_params_to_java()
            return cast(str, getattr(self._java_obj, "get" + param.name[0].upper() + param.name[1:])())
        if self.isSet(param):
            return self.getOrDefault(param)
        names = getattr(getattr(self, "_graph", None), side, None)  # a graph set in this process
        return names[0] if names else default

    getChannelOrder, setChannelOrder = accessors("channelOrder", str)


class ImageModelTransformer(ImageModelStage, HasModelPath):
    """Applies a model file to a column of images, the engine read from the file: an ONNX model (``.onnx``,
    run by ONNX Runtime: PyTorch's ``torch.onnx.export``, ``tf2onnx``, ...) or a frozen TensorFlow graph
    (``graph.pb`` with its ``graph.json``, as :meth:`sparkdl.graph.FrozenGraph.save` writes them). The input
    column holds Spark image structs, encoded image bytes (``binary``) or ``struct<bytes, path>``, decoded in
    the batch loop as ``readImages`` decodes files.

    Each image is resized bilinearly to the model's input size (laid out ``[h, w, c]``, or ``[c, h, w]``
    for a channels-first model), converted to float pixel values 0-255 in ``channelOrder`` and fed in
    batches; the output's row for the image fills ``outputCol`` (a ``DenseVector``, ``array<float>``, or
    with ``outputMode="image"`` an image struct of float32 pixels). Tensor names default to the model's
    first input and output. The model file is saved with the stage. :class:`TFImageTransformer` is the same
    stage taking a Keras model, a ``tf.function`` or a :class:`sparkdl.graph.FrozenGraph` object.

    >>> t = ImageModelTransformer(modelPath="resnet18.onnx", outputCol="scores")  # doctest: +SKIP
    """

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "image", outputCol: Optional[str] = None, modelPath: Optional[str] = None,
                 inputTensor: Optional[str] = None, outputTensor: Optional[str] = None, channelOrder: str = "RGB",
                 outputMode: str = "vector", batchSize: int = 0, handleInvalid: str = "error",
                 maxPixels: int = 100000000, applyExifOrientation: bool = False, draftDecode: bool = False) -> None:
        super(ImageModelTransformer, self).__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: str = "image", outputCol: Optional[str] = None, modelPath: Optional[str] = None,
                  inputTensor: Optional[str] = None, outputTensor: Optional[str] = None, channelOrder: str = "RGB",
                  outputMode: str = "vector", batchSize: int = 0, handleInvalid: str = "error",
                  maxPixels: int = 100000000, applyExifOrientation: bool = False, draftDecode: bool = False) -> Self:
        kwargs = dict(self._input_kwargs)
        if kwargs.get("modelPath") is not None:
            self.setModelPath(kwargs.pop("modelPath"))
        return self._set(**kwargs)
