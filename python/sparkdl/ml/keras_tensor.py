"""KerasTransformer: a saved Keras model over a 1-D array column, run in the JVM."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional

from pyspark import keyword_only

from sparkdl.ml._base import SparkdlTransformer
from sparkdl.ml._shared import HasBatchSize, HasInputCol, HasKerasModelFile, HasOutputCol

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["KerasTransformer"]


class KerasTransformer(SparkdlTransformer, HasKerasModelFile, HasInputCol, HasOutputCol, HasBatchSize):
    """Applies a saved Keras model (``.keras``, or ``.h5`` where Keras 3 reads it) to a column.

    Each row of ``inputCol`` (``array<float>``, ``array<double>``, ``Vector``) is reshaped to
    the model's input shape; ``outputCol`` is ``array<float>``, as ``model.predict`` gives.
    The file is loaded here with Keras' ``safe_mode`` (models carrying Python ``Lambda`` code
    are refused unless ``allowUnsafeDeserialization=True``), frozen, and run in the JVM.
    ``kerasCustomObjects`` ({name: class}) resolves user-defined layers.

    >>> KerasTransformer(inputCol="features", outputCol="predictions", modelFile="/models/m.keras")  # doctest: +SKIP
    """

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: Optional[str] = None, outputCol: Optional[str] = None,
                 modelFile: Optional[str] = None, batchSize: int = 0,
                 kerasCustomObjects: Optional[Dict[str, Any]] = None,
                 allowUnsafeDeserialization: bool = False) -> None:
        super(KerasTransformer, self).__init__()
        self._java_obj = self._new_stage()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: Optional[str] = None, outputCol: Optional[str] = None,
                  modelFile: Optional[str] = None, batchSize: int = 0,
                  kerasCustomObjects: Optional[Dict[str, Any]] = None,
                  allowUnsafeDeserialization: bool = False) -> Self:
        return self._set(**self._set_with_model_file(self._input_kwargs))
