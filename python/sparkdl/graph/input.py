"""The original library's ``TFInputGraph``, kept for its users: each of its constructors gives
a :class:`sparkdl.graph.FrozenGraph` (deprecated; use ``FrozenGraph``, ``freeze_function`` or
``freeze_keras``). ``fromSavedModel`` is also how a TensorFlow SavedModel becomes a graph sparkdl
runs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence, Union

from sparkdl._compat import moved
from sparkdl.graph.frozen import FrozenGraph

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["TFInputGraph"]


def _tensor(name: str) -> str:
    return name if ":" in name else name + ":0"


class TFInputGraph(FrozenGraph):
    """A :class:`FrozenGraph` built the original library's ways."""

    @classmethod
    def fromGraphDef(cls, graph_def: Any, feed_names: Sequence[str], fetch_names: Sequence[str]) -> Self:
        """A frozen ``GraphDef`` (proto or bytes) with its input and output names (ops or tensors)."""
        moved("TFInputGraph.fromGraphDef", "sparkdl.graph.FrozenGraph(graph_def_bytes, inputs, outputs)")
        data = graph_def if isinstance(graph_def, (bytes, bytearray)) else graph_def.SerializeToString()
        return cls(data, [_tensor(n) for n in feed_names], [_tensor(n) for n in fetch_names])

    @classmethod
    def fromGraph(cls, graph: Any, sess: Any, feed_names: Sequence[str], fetch_names: Sequence[str]) -> Self:
        """A TensorFlow 1 style graph and its ``tf.compat.v1.Session``: variables folded into constants."""
        import tensorflow as tf

        moved("TFInputGraph.fromGraph", "sparkdl.graph.freeze_function")
        graph_def = tf.compat.v1.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(), [_tensor(n).split(":")[0] for n in fetch_names])
        return cls(graph_def.SerializeToString(), [_tensor(n) for n in feed_names],
                   [_tensor(n) for n in fetch_names])

    @classmethod
    def fromSavedModel(cls, saved_model_dir: str, tag_set: Union[str, Iterable[str]], signature_def_key: str) -> Self:
        """A SavedModel's signature, frozen: the signature's input keys name the placeholders
        (``key:0``) and its output keys the outputs, in ``inputMapping``/``outputMapping``."""
        import tensorflow as tf

        from sparkdl.graph.export import freeze_function

        tags = [t.strip() for t in tag_set.split(",")] if isinstance(tag_set, str) else list(tag_set)
        loaded = tf.saved_model.load(saved_model_dir, tags=tags)  # holds the variables while freezing
        signature = loaded.signatures[signature_def_key]
        spec = signature.structured_input_signature[1]
        keys = sorted(spec)
        graph = freeze_function(lambda *xs: signature(**dict(zip(keys, xs))),
                                [tf.TensorSpec(spec[k].shape, spec[k].dtype, name=k) for k in keys])
        del loaded
        return cls(graph.graph_def, graph.inputs, graph.outputs)

    @classmethod
    def fromSavedModelWithSignature(cls, saved_model_dir: str, tag_set: Union[str, Iterable[str]],
                                    signature_def_key: str) -> Self:
        """As :meth:`fromSavedModel` (signature keys are the names either way)."""
        return cls.fromSavedModel(saved_model_dir, tag_set, signature_def_key)
