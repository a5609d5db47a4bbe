"""TFTransformer: a frozen graph over non-image columns, run in the JVM."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Union

from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlTransformer
from sparkdl.ml._shared import HasBatchSize, HasFrozenGraph

if TYPE_CHECKING:
    from typing_extensions import Self

    from sparkdl.graph.frozen import FrozenGraph

__all__ = ["TFTransformer"]


class TFTransformer(SparkdlTransformer, HasFrozenGraph, HasBatchSize):
    """Applies a TensorFlow graph to non-image columns.

    ``inputMapping`` maps input columns to the graph's placeholders, ``outputMapping`` the
    fetched tensors to output columns. Input columns are ``array<float>``,
    ``array<double>``, ``Vector`` or numbers; a row's values are reshaped to the
    placeholder's shape without its batch dimension. Outputs are ``array<float>`` (a
    ``float`` for a tensor of shape ``[batch]``). A null input gives null outputs.

    ``graph`` (alias ``tfInputGraph``) is a :class:`sparkdl.graph.FrozenGraph` (see
    :func:`sparkdl.graph.freeze_function`) or a Keras model (inputs named ``input`` or,
    for several, after the model's input layers).

    >>> t = TFTransformer(graph=g, inputMapping={"x": "input:0"}, outputMapping={"output:0": "y"})  # doctest: +SKIP
    """

    inputCols = Param(Params._dummy(), "inputCols", "input columns, fed to inputTensors (same order)",
                      typeConverter=TypeConverters.toListString)
    inputTensors = Param(Params._dummy(), "inputTensors", "graph placeholders fed from inputCols",
                         typeConverter=TypeConverters.toListString)
    outputTensors = Param(Params._dummy(), "outputTensors", "graph tensors fetched into outputCols",
                          typeConverter=TypeConverters.toListString)
    outputCols = Param(Params._dummy(), "outputCols", "output columns", typeConverter=TypeConverters.toListString)

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, graph: Optional[Union[FrozenGraph, Any]] = None,
                 inputMapping: Optional[Mapping[str, str]] = None, outputMapping: Optional[Mapping[str, str]] = None,
                 batchSize: int = 0, tfInputGraph: Optional[Union[FrozenGraph, Any]] = None) -> None:
        super(TFTransformer, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(batchSize=0)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, graph: Optional[Union[FrozenGraph, Any]] = None,
                  inputMapping: Optional[Mapping[str, str]] = None, outputMapping: Optional[Mapping[str, str]] = None,
                  batchSize: int = 0, tfInputGraph: Optional[Union[FrozenGraph, Any]] = None) -> Self:
        kwargs = dict(self._input_kwargs)
        graph = kwargs.pop("graph", None) or kwargs.pop("tfInputGraph", None)
        kwargs.pop("tfInputGraph", None)
        if graph is not None:
            self.setGraph(graph)
        if kwargs.get("inputMapping") is not None:
            self.setInputMapping(kwargs.pop("inputMapping"))
        if kwargs.get("outputMapping") is not None:
            self.setOutputMapping(kwargs.pop("outputMapping"))
        kwargs.pop("inputMapping", None)
        kwargs.pop("outputMapping", None)
        return self._set(**kwargs)

    def setInputMapping(self, mapping: Mapping[str, str]) -> Self:
        """{input column: placeholder name}"""
        items = list(mapping.items())
        return self._set(inputCols=[c for c, _ in items], inputTensors=[_tensor(t) for _, t in items])

    def getInputMapping(self) -> Dict[str, str]:
        # ignore here and below: mypy takes getOrDefault's T from zip's context, Iterable[str] (Param is invariant)
        return dict(zip(
            self.getOrDefault(self.inputCols), self.getOrDefault(self.inputTensors)))  # type: ignore[arg-type]

    def setOutputMapping(self, mapping: Mapping[str, str]) -> Self:
        """{tensor name: output column}"""
        items = list(mapping.items())
        return self._set(outputTensors=[_tensor(t) for t, _ in items], outputCols=[c for _, c in items])

    def getOutputMapping(self) -> Dict[str, str]:
        return dict(zip(
            self.getOrDefault(self.outputTensors), self.getOrDefault(self.outputCols)))  # type: ignore[arg-type]


def _tensor(name: str) -> str:
    return name if ":" in name else name + ":0"
