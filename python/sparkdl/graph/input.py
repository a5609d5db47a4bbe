"""The original library's ``TFInputGraph``, kept for its users: each of its constructors gives
a :class:`sparkdl.graph.FrozenGraph` (``fromGraph``/``fromGraphDef`` are deprecated; use
``FrozenGraph``, ``freeze_function`` or ``freeze_keras``). ``fromSavedModel`` and
``fromCheckpoint`` are also how a TensorFlow SavedModel or a TensorFlow 1 checkpoint becomes a
graph sparkdl runs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, List, Optional, Sequence, Tuple, Union

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
    def fromCheckpoint(cls, checkpoint_dir: str, feed_names: Sequence[str], fetch_names: Sequence[str]) -> Self:
        """A TensorFlow 1 checkpoint (``tf.compat.v1.train.Saver``): the latest one in ``checkpoint_dir``
        (or ``checkpoint_dir`` naming a checkpoint prefix), its meta graph restored and its variables
        folded into constants; inputs and outputs as named."""
        graph_def, _ = _restore_checkpoint(checkpoint_dir, [_tensor(n) for n in fetch_names])
        return cls(graph_def, [_tensor(n) for n in feed_names], [_tensor(n) for n in fetch_names])

    @classmethod
    def fromCheckpointWithSignature(cls, checkpoint_dir: str, signature_def_key: str) -> Self:
        """As :meth:`fromCheckpoint`, inputs and outputs from the signature ``signature_def_key`` of the
        checkpoint's meta graph; as for :meth:`fromSavedModel`, the signature's input and output keys
        become the tensor names (``key:0``)."""
        restored = _restore_checkpoint(checkpoint_dir, None, signature_def_key)
        return cls(*_named_by_signature(*restored))

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


def _checkpoint_prefix(checkpoint_dir: str) -> str:
    import tensorflow as tf

    prefix = tf.train.latest_checkpoint(checkpoint_dir) if tf.io.gfile.isdir(checkpoint_dir) else checkpoint_dir
    if not prefix or not tf.io.gfile.exists(prefix + ".meta"):
        raise ValueError("%r holds no TensorFlow 1 checkpoint with its meta graph (a 'checkpoint' file naming a "
                         "prefix P, and P.meta, P.index, P.data-*: what tf.compat.v1.train.Saver.save writes)"
                         % checkpoint_dir)
    return prefix


def _restore_checkpoint(checkpoint_dir: str, fetches: Optional[Sequence[str]],
                        signature_def_key: Optional[str] = None) -> Tuple[bytes, Any]:
    """The checkpoint's graph with its variables as constants, pruned to what ``fetches`` (or the
    signature's outputs) need; and the signature (or None)."""
    import tensorflow as tf

    prefix = _checkpoint_prefix(checkpoint_dir)
    meta = tf.compat.v1.MetaGraphDef()
    with tf.io.gfile.GFile(prefix + ".meta", "rb") as f:
        meta.ParseFromString(f.read())
    signature = None
    if signature_def_key is not None:
        if signature_def_key not in meta.signature_def:
            raise ValueError("The checkpoint %s has no signature %r; its signatures: %s" % (
                prefix, signature_def_key, sorted(meta.signature_def) or "none"))
        signature = meta.signature_def[signature_def_key]
        fetches = [t.name for t in signature.outputs.values()]
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        saver = tf.compat.v1.train.import_meta_graph(meta, clear_devices=True)
        if saver is not None:  # None: the graph has no variables
            saver.restore(sess, prefix)
        graph_def = tf.compat.v1.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(), [name.split(":")[0] for name in fetches or []])
    return graph_def.SerializeToString(), signature


def _named_by_signature(graph_def: bytes, signature: Any) -> Tuple[bytes, List[str], List[str]]:
    """``graph_def`` with a placeholder named by each input key of ``signature`` (mapped onto the
    signature's input) and an identity named by each output key: tensor names ``key:0``."""
    import tensorflow as tf

    inputs, outputs = sorted(signature.inputs), sorted(signature.outputs)
    frozen = tf.compat.v1.GraphDef.FromString(graph_def)
    graph = tf.Graph()
    with graph.as_default():
        feeds = {}
        for key in inputs:
            info = signature.inputs[key]
            shape = None if info.tensor_shape.unknown_rank else [
                d.size if d.size >= 0 else None for d in info.tensor_shape.dim]
            feeds[info.name] = tf.compat.v1.placeholder(tf.dtypes.as_dtype(info.dtype), shape, name=key)
        found = tf.compat.v1.import_graph_def(frozen, input_map=feeds, name="checkpoint",
                                              return_elements=[signature.outputs[k].name for k in outputs])
        for key, tensor in zip(outputs, found):
            tf.identity(tensor, name=key)
    return (graph.as_graph_def().SerializeToString(), [_tensor(k) for k in inputs], [_tensor(k) for k in outputs])
