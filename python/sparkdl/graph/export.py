"""Freezing Keras 3 models and tf.functions into GraphDefs the JVM can run.

Recipe: wrap the call in a ``tf.function`` with named ``TensorSpec`` inputs, call the
model with ``training=False`` (a training-mode graph keeps variable updates and
cannot be frozen), name each output with ``tf.identity``, then fold variables into
constants with ``convert_variables_to_constants_v2``.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, cast

from sparkdl.graph.frozen import FrozenGraph

__all__ = ["freeze_keras", "freeze_function"]


def _tf() -> Any:
    import tensorflow as tf

    return tf


def freeze_keras(model: Any, input_names: Optional[Sequence[str]] = None,
                 output_names: Optional[Sequence[str]] = None) -> FrozenGraph:
    """Freezes a Keras model into a :class:`FrozenGraph`.

    A single input is named ``input`` and a single output ``output``; several inputs or
    outputs keep the names of the model's input layers and output layers (``keras.Input(name=
    "a")`` -> ``a:0``), unless names are given. Every input must have a known shape apart
    from the batch dimension.
    """
    tf = _tf()
    inputs = list(model.inputs)
    n_in = len(inputs)
    input_names = input_names or (["input"] if n_in == 1 else _layer_names(inputs, "input"))
    if len(input_names) != n_in:
        raise ValueError("The model has %d inputs but %d input names were given" % (n_in, len(input_names)))
    specs = [tf.TensorSpec([None] + list(x.shape[1:]), x.dtype, name=name)
             for x, name in zip(inputs, input_names)]

    n_out = len(model.outputs)
    if output_names is None and n_out > 1:
        output_names = _layer_names(model.outputs, "output")

    def call(*xs: Any) -> Any:
        return model(xs[0] if n_in == 1 else list(xs), training=False)

    return freeze_function(call, specs, output_names=output_names)


def _layer_names(tensors: Sequence[Any], prefix: str) -> List[str]:
    """Names of the layers producing Keras tensors; ``prefix_i`` where a name is unknown or repeated."""
    names: List[Optional[str]] = []
    for t in tensors:
        history = getattr(t, "_keras_history", None)
        names.append(getattr(history[0], "name", None) if history else None)
    if None in names or len(set(names)) != len(names):
        return ["%s_%d" % (prefix, i) for i in range(len(tensors))]
    return cast(List[str], names)  # no None left: checked above


def freeze_function(fn: Callable[..., Any], input_signature: Iterable[Any],
                    output_names: Optional[Sequence[str]] = None) -> FrozenGraph:
    """Freezes a Python function of tensors (or a ``tf.function``) into a :class:`FrozenGraph`.

    :param fn: callable taking one tensor per spec and returning a tensor, a list/tuple
        of tensors, or a dict of tensors (outputs then take the dict's keys as names)
    :param input_signature: list of ``tf.TensorSpec``; each spec's ``name`` names its input
    :param output_names: names for the outputs (default: ``output`` or ``output_0, ...``)
    """
    tf = _tf()
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    specs = list(input_signature)
    for i, spec in enumerate(specs):
        if not spec.name:
            raise ValueError("TensorSpec %d has no name; name every input (e.g. name='input')" % i)
    names_box: Dict[str, List[str]] = {}

    @tf.function(input_signature=specs, autograph=False)  # type: ignore[untyped-decorator]  # TensorFlow is untyped
    def frozen_call(*xs: Any) -> List[Any]:
        out = fn(*xs)
        keys: Optional[List[Any]]
        if isinstance(out, dict):
            keys = list(out.keys())
            values = [out[k] for k in keys]
        elif isinstance(out, (list, tuple)):
            keys, values = None, list(out)
        else:
            keys, values = None, [out]
        names = output_names or keys or (["output"] if len(values) == 1
                                         else ["output_%d" % i for i in range(len(values))])
        if len(names) != len(values):
            raise ValueError("%d outputs but %d output names" % (len(values), len(names)))
        names_box["names"] = list(names)
        return [tf.identity(v, name=n) for v, n in zip(values, names)]

    concrete = frozen_call.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    graph_def = frozen.graph.as_graph_def()
    ops = {n.name: n.op for n in graph_def.node}
    stateful = sorted({op for op in ops.values() if op in ("VarHandleOp", "AssignVariableOp",
                                                          "ReadVariableOp", "AssignAddVariableOp")})
    if stateful:
        raise ValueError("The graph still holds variable operations %s after freezing; "
                         "call the model with training=False" % stateful)
    inputs = [spec.name for spec in specs]
    for name in inputs:
        if ops.get(name) != "Placeholder":
            raise ValueError("Input '%s' did not become a placeholder of the frozen graph" % name)
    return FrozenGraph(graph_def.SerializeToString(), inputs, names_box["names"])
