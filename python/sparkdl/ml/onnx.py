"""TensorModelTransformer: a model file of either engine over non-image columns, run in the JVM; and
ONNXTransformer, its name for ONNX models only."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional

from pyspark import keyword_only

from sparkdl.ml._base import SparkdlTransformer
from sparkdl.ml._shared import HasModelPath, HasTensorMapping

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["ONNXTransformer", "TensorModelTransformer"]


class _TensorModelStage(SparkdlTransformer, HasModelPath, HasTensorMapping):
    """What :class:`TensorModelTransformer` and :class:`ONNXTransformer` share (Scala's ``TensorModelStage``)."""

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, modelPath: Optional[str] = None, inputMapping: Optional[Mapping[str, str]] = None,
                 outputMapping: Optional[Mapping[str, str]] = None, batchSize: int = 0) -> None:
        super(_TensorModelStage, self).__init__()
        self._java_obj = self._new_stage()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, modelPath: Optional[str] = None, inputMapping: Optional[Mapping[str, str]] = None,
                  outputMapping: Optional[Mapping[str, str]] = None, batchSize: int = 0) -> Self:
        kwargs = self._set_mappings(self._input_kwargs)
        if kwargs.get("modelPath") is not None:
            self.setModelPath(kwargs.pop("modelPath"))
        return self._set(**kwargs)


class TensorModelTransformer(_TensorModelStage):
    """Applies a model file to non-image columns in the executor JVMs, the engine read from the file: an
    ONNX model (``.onnx``: ``torch.onnx.export``, Hugging Face ``optimum``, ``tf2onnx``...) run by ONNX
    Runtime, or a frozen TensorFlow graph (``graph.pb`` with its ``graph.json``) run by TensorFlow Java; no
    Python worker, no PyTorch.

    ``inputMapping`` maps input columns to the model's input names, ``outputMapping`` its output
    names to output columns. Inputs may be float, double, int32 or int64 (numbers are fed exactly,
    or the row fails); input columns are numeric arrays, ``Vector`` or numbers, reshaped to the
    input's shape without its batch dimension. Outputs are float32 with the batch first:
    ``array<float>`` columns (a ``float`` for an output of shape ``[batch]``). A null input gives
    null outputs. The model file is saved with the stage.

    >>> t = TensorModelTransformer(modelPath="model.onnx", inputMapping={"x": "input"},
    ...                            outputMapping={"logits": "y"})  # doctest: +SKIP
    """


class ONNXTransformer(_TensorModelStage):
    """:class:`TensorModelTransformer` for ONNX models only (``modelPath`` a ``.onnx`` file), run by ONNX
    Runtime in the executor JVMs.

    >>> t = ONNXTransformer(modelPath="model.onnx", inputMapping={"x": "input"},
    ...                     outputMapping={"logits": "y"})  # doctest: +SKIP
    """

    _onnx_only = True
