"""ONNXTransformer: an ONNX model over non-image columns, run by ONNX Runtime in the JVM."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, cast

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlJavaStage, SparkdlTransformer
from sparkdl.ml._shared import HasTensorMapping, accessors

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession
    from typing_extensions import Self

__all__ = ["ONNXTransformer"]


class ONNXTransformer(SparkdlTransformer, SparkdlJavaStage, HasTensorMapping):
    """Applies an ONNX model (``torch.onnx.export``, Hugging Face ``optimum``, ...) to non-image
    columns with ONNX Runtime in the executor JVMs: no Python worker, no PyTorch.

    ``inputMapping`` maps input columns to the model's input names, ``outputMapping`` its output
    names to output columns. Inputs may be float, double, int32 or int64 (numbers are fed exactly,
    or the row fails); input columns are numeric arrays, ``Vector`` or numbers, reshaped to the
    input's shape without its batch dimension. Outputs are float32 with the batch first:
    ``array<float>`` columns (a ``float`` for an output of shape ``[batch]``). A null input gives
    null outputs. The model file is saved with the stage.

    >>> t = ONNXTransformer(modelPath="model.onnx", inputMapping={"x": "input"},
    ...                     outputMapping={"logits": "y"})  # doctest: +SKIP
    """

    modelPath = Param(Params._dummy(), "modelPath",
                      "the ONNX model file (.onnx): a path on any Hadoop file system (a local file on Spark "
                      "Connect is uploaded); saved with the stage", typeConverter=TypeConverters.toString)
    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, modelPath: Optional[str] = None, inputMapping: Optional[Mapping[str, str]] = None,
                 outputMapping: Optional[Mapping[str, str]] = None, batchSize: int = 0) -> None:
        super(ONNXTransformer, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(batchSize=0)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, modelPath: Optional[str] = None, inputMapping: Optional[Mapping[str, str]] = None,
                  outputMapping: Optional[Mapping[str, str]] = None, batchSize: int = 0) -> Self:
        kwargs = self._set_mappings(self._input_kwargs)
        if kwargs.get("modelPath") is not None:
            self.setModelPath(kwargs.pop("modelPath"))
        return self._set(**kwargs)

    def setModelPath(self, path: str) -> Self:
        """The ``.onnx`` file; on Spark Connect a local file is uploaded to the session first."""
        if self._on_connect and os.path.isfile(path):
            from sparkdl._session import active_session
            from sparkdl.graph.artifacts import upload_model_file

            path = upload_model_file(cast("ConnectSparkSession", active_session("setModelPath")), path)
        return self._set(modelPath=path)

    getModelPath = accessors("modelPath", str)[0]
