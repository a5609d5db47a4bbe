"""TFImageTransformer: any frozen graph over an image column, run in the JVM."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Union, cast

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlTransformer
from sparkdl.ml._shared import (
    HasBatchSize,
    HasFrozenGraph,
    HasHandleInvalid,
    HasInputCol,
    HasOutputCol,
    HasOutputMode,
    ImageDecodingParams,
    accessors,
    one_of,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from sparkdl.graph.frozen import FrozenGraph

__all__ = ["TFImageTransformer"]


class TFImageTransformer(SparkdlTransformer, HasFrozenGraph, HasInputCol, HasOutputCol, HasOutputMode, HasBatchSize,
                         HasHandleInvalid, ImageDecodingParams):
    """Applies a TensorFlow graph (or an ONNX model) to a column of images: Spark image structs, encoded
    image bytes (``binary``, as ``binaryFile``'s ``content``) or ``struct<bytes, path>`` (a Hugging Face
    Image column), bytes decoded in the model's batch loop as ``readImages`` decodes files.

    Each image is resized bilinearly (as ``tf.image.resize``) to the graph's input
    size, converted to float pixel values 0-255 in ``channelOrder`` and fed in batches
    of ``batchSize``; the output tensor's row for the image fills ``outputCol`` (an
    MLlib ``DenseVector``, or ``array<float>`` with ``outputMode="array"``). With
    ``outputMode="image"``, for a graph whose output is an image (``[batch, height, width,
    channels]``, 1, 3 or 4 channels, height and width known), each output is an image struct
    of float32 pixels (mode ``CV_32FC1``/``CV_32FC3``/``CV_32FC4``, channels put back in Spark's
    BGR order, empty origin) that :func:`sparkdl.image.imageStructToArray` reads as a float32
    array. The graph runs in the executors' JVMs (TensorFlow Java), loaded once per JVM.

    ``graph`` is a Keras model, a :class:`sparkdl.graph.FrozenGraph`, or None (set it
    later with :py:meth:`setGraph`). Tensor names default to the graph's first input
    and output.

    >>> import keras, sparkdl
    >>> model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(4, 3),
    ...                           keras.layers.GlobalAveragePooling2D()])
    >>> t = sparkdl.TFImageTransformer(inputCol="image", outputCol="features", graph=model)
    >>> t.transform(sparkdl.readImages("/data/images")).select("filePath", "features")  # doctest: +SKIP
    """

    inputTensor = Param(Params._dummy(), "inputTensor",
                        "name of the graph's image placeholder [batch, height, width, channels]",
                        typeConverter=TypeConverters.toString)
    outputTensor = Param(Params._dummy(), "outputTensor", "name of the graph tensor to output",
                         typeConverter=TypeConverters.toString)
    outputMode = Param(Params._dummy(), "outputMode",
                       "output column type: vector (MLlib DenseVector), array (array<float>), or image (an image "
                       "struct of float32 pixels, mode CV_32FC1/3/4, channels in Spark's BGR order, for a graph "
                       "whose output is an image [batch, height, width, channels])",
                       typeConverter=one_of("outputMode", ["vector", "array", "image"]))
    channelOrder = Param(Params._dummy(), "channelOrder",
                         "channel order the graph expects: RGB, BGR, or L for 1-channel graphs",
                         typeConverter=one_of("channelOrder", ["RGB", "BGR", "L"]))

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "image", outputCol: Optional[str] = None,
                 graph: Optional[Union[FrozenGraph, Any]] = None, inputTensor: Optional[str] = None,
                 outputTensor: Optional[str] = None, channelOrder: str = "RGB", outputMode: str = "vector",
                 batchSize: int = 0, handleInvalid: str = "error", maxPixels: int = 100000000,
                 applyExifOrientation: bool = False, draftDecode: bool = False) -> None:
        super(TFImageTransformer, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(inputCol="image", channelOrder="RGB", batchSize=0)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: str = "image", outputCol: Optional[str] = None,
                  graph: Optional[Union[FrozenGraph, Any]] = None, inputTensor: Optional[str] = None,
                  outputTensor: Optional[str] = None, channelOrder: str = "RGB", outputMode: str = "vector",
                  batchSize: int = 0, handleInvalid: str = "error", maxPixels: int = 100000000,
                  applyExifOrientation: bool = False, draftDecode: bool = False) -> Self:
        kwargs = dict(self._input_kwargs)
        graph = kwargs.pop("graph", None)
        if graph is not None:
            self.setGraph(graph)
        return self._set(**kwargs)

    setInputTensor = accessors("inputTensor", str)[1]
    setOutputTensor = accessors("outputTensor", str)[1]

    def getInputTensor(self) -> str:
        """The input tensor: as set, else the graph's first input."""
        return self._tensor(self.inputTensor, "inputs", "input:0")

    def getOutputTensor(self) -> str:
        """The output tensor: as set, else the graph's first output."""
        return self._tensor(self.outputTensor, "outputs", "output:0")

    def _tensor(self, param: Param[str], side: str, default: str) -> str:
        if not self._on_connect:  # classic: the JVM stage knows its graph
            self._transfer_params_to_java()
            return cast(str, getattr(self._java_obj, "get" + param.name[0].upper() + param.name[1:])())
        if self.isSet(param):
            return self.getOrDefault(param)
        names = getattr(getattr(self, "_graph", None), side, None)
        return names[0] if names else default

    getChannelOrder, setChannelOrder = accessors("channelOrder", str)
