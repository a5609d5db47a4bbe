"""FrozenGraph: GraphDef bytes plus the tensor names a caller feeds and fetches."""
from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Union

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["FrozenGraph"]


class FrozenGraph(object):
    """A frozen TensorFlow graph, ready for the JVM.

    :param graph_def: serialized ``GraphDef`` (bytes)
    :param inputs: names of the input tensors (``"input:0"``)
    :param outputs: names of the output tensors (``"output:0"``)
    """

    def __init__(self, graph_def: Union[bytes, bytearray], inputs: Iterable[str], outputs: Iterable[str]) -> None:
        if not graph_def:
            raise ValueError("FrozenGraph needs non-empty GraphDef bytes")
        self.graph_def = bytes(graph_def)
        self.inputs = [_tensor_name(n) for n in inputs]
        self.outputs = [_tensor_name(n) for n in outputs]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.graph_def).hexdigest()

    def save(self, directory: Union[str, os.PathLike[str]]) -> None:
        """Writes ``graph.pb`` and ``graph.json`` (tensor names) into ``directory``."""
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "graph.pb"), "wb") as f:
            f.write(self.graph_def)
        with open(os.path.join(directory, "graph.json"), "w") as f:
            json.dump({"inputs": self.inputs, "outputs": self.outputs, "sha256": self.sha256}, f, indent=2)

    @classmethod
    def load(cls, directory: Union[str, os.PathLike[str]]) -> Self:
        """The graph :meth:`save` wrote into ``directory``."""
        return cls.load_file(os.path.join(directory, "graph.pb"))

    @classmethod
    def load_file(cls, path: Union[str, os.PathLike[str]]) -> Self:
        """The graph in the file ``path`` (``graph.pb``), its tensor names from the ``.json`` of the same name
        beside it (``graph.json``), as the JVM reads a graph file."""
        names = os.path.splitext(os.fspath(path))[0] + ".json"
        if not os.path.isfile(names):
            raise ValueError("%s has no %s beside it: a frozen graph file needs its tensor names (FrozenGraph.save "
                             "writes both)" % (os.fspath(path), os.path.basename(names)))
        with open(names) as f:
            meta = json.load(f)
        with open(path, "rb") as f:
            return cls(f.read(), meta["inputs"], meta["outputs"])

    @classmethod
    def _from_java(cls, jgraph: Any) -> Self:
        return cls(bytes(jgraph.graphDef()), list(_list(jgraph.inputs())), list(_list(jgraph.outputs())))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FrozenGraph) and self.graph_def == other.graph_def
                and self.inputs == other.inputs and self.outputs == other.outputs)

    def __repr__(self) -> str:
        return "FrozenGraph(%d bytes, sha256=%s, inputs=%s, outputs=%s)" % (
            len(self.graph_def), self.sha256[:12], self.inputs, self.outputs)


def _tensor_name(name: str) -> str:
    return name if ":" in name else name + ":0"


def _list(jseq: Any) -> Iterator[Any]:
    it = jseq.iterator()
    while it.hasNext():
        yield it.next()
