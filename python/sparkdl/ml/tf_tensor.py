"""TFTransformer: a frozen graph over non-image columns, run in the JVM."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Union

from pyspark import keyword_only

from sparkdl.ml._base import SparkdlTransformer
from sparkdl.ml._shared import HasFrozenGraph, HasTensorMapping

if TYPE_CHECKING:
    from typing_extensions import Self

    from sparkdl.graph.frozen import FrozenGraph

__all__ = ["TFTransformer"]


class TFTransformer(SparkdlTransformer, HasFrozenGraph, HasTensorMapping):
    """Applies a TensorFlow graph to non-image columns.

    ``inputMapping`` maps input columns to the graph's placeholders, ``outputMapping`` the
    fetched tensors to output columns. Input columns are numeric arrays, ``Vector`` or
    numbers; a row's values are reshaped to the placeholder's shape without its batch
    dimension and fed as its dtype (float, double, int32 or int64; exactly, or the row
    fails). Outputs are ``array<float>`` (a ``float`` for a tensor of shape ``[batch]``).
    A null input gives null outputs.

    ``graph`` (alias ``tfInputGraph``) is a :class:`sparkdl.graph.FrozenGraph` (see
    :func:`sparkdl.graph.freeze_function`) or a Keras model (inputs named ``input`` or,
    for several, after the model's input layers).

    >>> t = TFTransformer(graph=g, inputMapping={"x": "input:0"}, outputMapping={"output:0": "y"})  # doctest: +SKIP
    """

    _input_kwargs: Dict[str, Any]

    @keyword_only
    def __init__(self, graph: Optional[Union[FrozenGraph, Any]] = None,
                 inputMapping: Optional[Mapping[str, str]] = None, outputMapping: Optional[Mapping[str, str]] = None,
                 batchSize: int = 0, tfInputGraph: Optional[Union[FrozenGraph, Any]] = None) -> None:
        super(TFTransformer, self).__init__()
        self._java_obj = self._new_stage()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, graph: Optional[Union[FrozenGraph, Any]] = None,
                  inputMapping: Optional[Mapping[str, str]] = None, outputMapping: Optional[Mapping[str, str]] = None,
                  batchSize: int = 0, tfInputGraph: Optional[Union[FrozenGraph, Any]] = None) -> Self:
        kwargs = self._set_mappings(self._input_kwargs)
        graph = kwargs.pop("graph", None) or kwargs.pop("tfInputGraph", None)
        kwargs.pop("tfInputGraph", None)
        if graph is not None:
            self.setGraph(graph)
        return self._set(**kwargs)

    def _tensor_name(self, name: str) -> str:
        return _tensor(name)


def _tensor(name: str) -> str:
    return name if ":" in name else name + ":0"
