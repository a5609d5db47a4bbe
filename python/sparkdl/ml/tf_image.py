"""TFImageTransformer: a frozen graph (or an ONNX model) over an image column, run in the JVM: the original
library's name for :class:`sparkdl.ml.ImageModelTransformer` given a graph object."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from pyspark import keyword_only

from sparkdl.ml._shared import HasFrozenGraph
from sparkdl.ml.image_model import ImageModelStage

if TYPE_CHECKING:
    from typing_extensions import Self

    from sparkdl.graph.frozen import FrozenGraph

__all__ = ["TFImageTransformer"]


class TFImageTransformer(ImageModelStage, HasFrozenGraph):
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

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "image", outputCol: Optional[str] = None,
                 graph: Optional[Union[FrozenGraph, Any]] = None, inputTensor: Optional[str] = None,
                 outputTensor: Optional[str] = None, channelOrder: str = "RGB", outputMode: str = "vector",
                 batchSize: int = 0, handleInvalid: str = "error", maxPixels: int = 100000000,
                 applyExifOrientation: bool = False, draftDecode: bool = False) -> None:
        super(TFImageTransformer, self).__init__()
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

