"""DeepTextFeaturizer: sentence embeddings, tokenized and encoded in the executor JVM.

From Python, the model (the built-in ``all-MiniLM-L6-v2``, or any BERT-family
sentence-transformers folder given as ``modelDir``) is exported to a frozen graph on first
use and cached under ``~/.cache/sparkdl/models`` (``$SPARKDL_MODEL_CACHE``); Scala
applications use ``python -m sparkdl.models export --model all-MiniLM-L6-v2 --out DIR``.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, Optional, cast

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._exported import ExportedModelStage
from sparkdl.ml._shared import (
    HasBatchSize,
    HasHandleInvalid,
    HasInputCol,
    HasOutputCol,
    HasOutputMode,
    accessors,
    int_in_range,
)
from sparkdl.models.export import conf_export_holds

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession
    from pyspark.sql.types import StructType
    from typing_extensions import Self

__all__ = ["DeepTextFeaturizer"]


class DeepTextFeaturizer(ExportedModelStage, HasInputCol, HasOutputCol, HasOutputMode, HasBatchSize,
                         HasHandleInvalid):
    """Sentence embeddings of a string column (384 values for all-MiniLM-L6-v2), as a Vector
    (or ``array<float>`` with ``outputMode="array"``): tokenization (the folder's ``tokenizer.json``, or a
    BERT ``vocab.txt``) and the encoder run in the executor JVM, batched, rows sorted by length so padding
    costs little. ``modelDir`` may also be an ONNX encoder folder of any architecture (an ``optimum``
    export: ``model.onnx``, ``config.json``, ``tokenizer.json``, the pooling config). A null text
    gives null; an empty string the embedding of ``[CLS] [SEP]``.

    >>> embed = DeepTextFeaturizer(inputCol="text", outputCol="embedding")
    >>> Pipeline(stages=[embed, LogisticRegression(featuresCol="embedding")])  # doctest: +SKIP
    """

    modelName = Param(Params._dummy(), "modelName",
                      "sentence encoder: all-MiniLM-L6-v2 (built in), or the name of an export in modelDir",
                      typeConverter=TypeConverters.toString)
    modelDir = Param(Params._dummy(), "modelDir",
                     "an export directory (python -m sparkdl.models export), or, from Python, a sentence-"
                     "transformers folder (config.json, vocab.txt or tokenizer.json, model.safetensors or an ONNX "
                     "encoder's model.onnx), exported on first use",
                     typeConverter=TypeConverters.toString)
    maxLength = Param(Params._dummy(), "maxLength",
                      "tokens per text, [CLS] and [SEP] included (0: the model's own, 256 for all-MiniLM-L6-v2)",
                      typeConverter=int_in_range("maxLength", 0, 512))

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, inputCol: str = "text", outputCol: Optional[str] = None,
                 modelName: str = "all-MiniLM-L6-v2", modelDir: Optional[str] = None, maxLength: int = 0,
                 outputMode: str = "vector", batchSize: int = 0, handleInvalid: str = "error") -> None:
        super(DeepTextFeaturizer, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(inputCol="text", modelName="all-MiniLM-L6-v2", maxLength=0)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol: str = "text", outputCol: Optional[str] = None,
                  modelName: str = "all-MiniLM-L6-v2", modelDir: Optional[str] = None, maxLength: int = 0,
                  outputMode: str = "vector", batchSize: int = 0, handleInvalid: str = "error") -> Self:
        return self._set(**self._input_kwargs)

    def _check_input(self, schema: StructType) -> None:
        """The input column exists and holds text: checked before any export."""
        t = self._input_type(schema)
        if t.simpleString() != "string":
            raise ValueError("Input column '%s' must hold text (string) but is %s"
                             % (self.getInputCol(), t.simpleString()))

    def _with_export(self, spark: SparkSession) -> Self:
        """This stage when its export is known, else a copy pointing at the export made here (cached;
        uploaded on Spark Connect): of the built-in model, or of the sentence-transformers folder in modelDir."""
        folder = self.getOrDefault(self.modelDir) if self.isSet(self.modelDir) else None
        if folder is not None and not os.path.isfile(os.path.join(folder, "config.json")):
            return self  # an export directory
        if folder is None and conf_export_holds(spark, self.getOrDefault(self.modelName)):
            return self
        from sparkdl.models.text import cached_text_model_dir, check_model_name

        if folder is None:
            check_model_name(self.getOrDefault(self.modelName))
        root, name = cached_text_model_dir(folder or self.getOrDefault(self.modelName))
        if self._on_connect:
            from sparkdl.graph.artifacts import upload_export

            root = upload_export(cast("ConnectSparkSession", spark), root, name)
        return self.copy({self.modelDir: root, self.modelName: name})

    getModelName, setModelName = accessors("modelName", str)
    getModelDir, setModelDir = accessors("modelDir", str)
    getMaxLength, setMaxLength = accessors("maxLength", int)
