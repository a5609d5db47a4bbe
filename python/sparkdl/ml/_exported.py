"""What the stages running an exported model share (Scala's ``ExportedModelParams``): the model is named,
its export is found, or made here once and cached (uploaded on Spark Connect), before the JVM stage runs or
is saved; a saved stage carries its export."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sparkdl.ml._base import SparkdlJavaStage, SparkdlTransformer

if TYPE_CHECKING:
    from pyspark.ml.param import Param
    from pyspark.ml.util import JavaMLWriter
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType
    from typing_extensions import Self

__all__ = ["ExportedModelStage"]


class ExportedModelStage(SparkdlTransformer, SparkdlJavaStage):
    """A stage whose ``modelName`` is an export the JVM reads from ``modelDir``. Subclasses say how the
    export is found or made (:meth:`_with_export`) and what to check first (:meth:`_check_model`,
    :meth:`_check_input`)."""

    modelName: Param[str]
    modelDir: Param[str]

    def _check_model(self) -> None:
        """Checks the model's params before any export or save (its name, where the stage has a list)."""

    def _check_input(self, schema: StructType) -> None:
        """Checks the input column before any export."""

    def _with_export(self, spark: SparkSession) -> Self:
        """This stage when the JVM finds its export by itself, else a copy whose ``modelDir`` is the export
        made here. The copy is for one transform or save: saving writes the export into the saved stage,
        never this machine's path."""
        raise NotImplementedError

    def _transform(self, dataset: DataFrame) -> DataFrame:
        self._check_model()
        self._check_input(dataset.schema)
        stage = self._with_export(dataset.sparkSession)
        if stage is not self:  # this transform only
            return stage._transform(dataset)
        return super(ExportedModelStage, self)._transform(dataset)

    def write(self) -> JavaMLWriter:
        """Saves the stage with its model's export inside (loading and scoring need no TensorFlow)."""
        from sparkdl._session import active_session

        self._check_model()
        return SparkdlJavaStage.write(self._with_export(active_session("save")))

    def _to_java(self) -> Any:
        """The JVM stage, as a Pipeline or CrossValidator being saved asks for it: with its export."""
        from sparkdl._session import active_session

        stage = self._with_export(active_session("save")) if self.isDefined(self.modelName) else self
        return super(ExportedModelStage, stage)._to_java()
