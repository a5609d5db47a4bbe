"""int8 ONNX encoders whose matrix products run in int8 arithmetic, and what that costs in accuracy.

An ONNX model can hold int8 weights and still compute in float: each weight is cast back to float
before its ``MatMul`` (weight-only quantization: a smaller file, the same float arithmetic, no
gain in speed). :func:`int8_matmuls` makes the arithmetic itself int8: every ``MatMul`` with a
constant weight becomes ONNX Runtime's ``MatMulInteger`` (weights int8 per output channel,
activations quantized per run), which uses the CPU's int8 dot-product instructions (AVX-512 VNNI,
AVX-VNNI, ARM dot products). Measured here (AVX-512 VNNI, all-MiniLM-L6-v2): 2.0-2.5x the float
model on one thread, 2.4x its compute bound on 2 cores (docs/PERFORMANCE.md).

Activations are quantized with one scale per run, so an int8 output depends slightly on the
other rows of its batch; :func:`cosine_agreement` measures the cost against the source model
computed in float.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Dict, Iterable, List, Set, Tuple

import numpy as np

__all__ = ["float_weights", "int8_matmuls", "cosine_agreement", "used_domains_only", "PRECISIONS"]

#: what an export may run in: float32 as the source model computes, or int8 matrix products
PRECISIONS = ("fp32", "int8")


def float_weights(model: bytes) -> bytes:
    """``model`` with constant subgraphs folded (ONNX Runtime's basic optimizations, standard ONNX
    ops only): weights stored as int8 and cast to float at run time become float weights."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="sparkdl-quantize-") as tmp:
        folded = os.path.join(tmp, "folded.onnx")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = folded
        ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        with open(folded, "rb") as f:
            return used_domains_only(f.read())


def int8_matmuls(model: bytes) -> bytes:
    """``model`` (float weights: see :func:`float_weights`) with each ``MatMul`` by a constant weight
    run in int8: ONNX Runtime's dynamic quantization, int8 weights per output channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="sparkdl-quantize-") as tmp:
        source, target = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
        with open(source, "wb") as f:
            f.write(model)
        quantize_dynamic(source, target, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        with open(target, "rb") as f:
            return used_domains_only(f.read())


def used_domains_only(model: bytes) -> bytes:
    """``model`` importing only the operator domains its nodes use (in the graph, its subgraphs and
    the model's functions): ONNX Runtime's writer imports every domain it knows, which sparkdl
    refuses by default (``spark.sparkdl.onnx.allowDomains``)."""
    import onnx

    def domains(nodes: Iterable[Any]) -> Set[str]:
        found: Set[str] = set()
        for node in nodes:
            found.add(node.domain or "")
            for attribute in node.attribute:
                for graph in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                    found |= domains(graph.node)
        return found

    proto = onnx.load_from_string(model)
    used = domains(proto.graph.node) | {"", "ai.onnx"} | {f.domain for f in proto.functions}
    for function in proto.functions:
        used |= domains(function.node)
    kept = [o for o in proto.opset_import if (o.domain or "") in used]
    del proto.opset_import[:]
    proto.opset_import.extend(kept)
    return bytes(proto.SerializeToString())


def cosine_agreement(reference: bytes, candidate: bytes, feeds: Iterable[Dict[str, Any]],
                     output: str) -> Tuple[float, float, int]:
    """(lowest, mean, rows): the cosine of each row of ``output`` from ``candidate`` to the same row
    from ``reference``, over every feed (one thread each, as an executor task runs them)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    sessions = [ort.InferenceSession(m, options, providers=["CPUExecutionProvider"]) for m in (reference, candidate)]
    cosines: List[float] = []
    for feed in feeds:
        want, got = (s.run([output], feed)[0].reshape(len(next(iter(feed.values()))), -1) for s in sessions)
        norms = np.linalg.norm(want, axis=1) * np.linalg.norm(got, axis=1)
        cosines += ((want * got).sum(axis=1) / np.maximum(norms, 1e-30)).tolist()
    return float(min(cosines)), float(np.mean(cosines)), len(cosines)
