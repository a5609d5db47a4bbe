"""The ONNX form of a named image model's export, for ONNX Runtime.

The frozen graph an export writes is converted by ``tf2onnx`` (the same graph, so the same
preprocessing and both outputs, under the same tensor names), then run by ONNX Runtime on
generated images and compared with the Keras model the graph was frozen from. Only a form within
:data:`TOLERANCE` of Keras is written (``model.onnx``, its digest in ``model.json``); otherwise
``model.json`` says why there is none, and the JVM runs the model on TensorFlow only.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from sparkdl.models.contract import Key

__all__ = ["TOLERANCE", "onnx_form"]

#: Largest difference allowed between the ONNX form's outputs and Keras', relative to the largest
#: Keras value of each output (as the parity tests measure).
TOLERANCE = 1e-4

#: Largest frozen graph converted: tf2onnx holds many copies of the constants while it converts (VGG16's 528 MB
#: graph took the Python process past 16 GB of memory on a 24 GB machine), so VGG16 and VGG19 run on TensorFlow
#: only.
MAX_GRAPH_BYTES = 256 << 20

#: ONNX opset of the conversion (ONNX Runtime 1.29 runs up to 23; 17 is tf2onnx's tested default).
OPSET = 17


def sample_images(height: int, width: int, count: int = 3) -> Any:
    """``count`` RGB images 0-255: uniform noise, and smooth gradients with noise (photos are
    neither, so both kinds are compared)."""
    rng = np.random.RandomState(20171017)
    noise = rng.uniform(0, 255, (count, height, width, 3))
    yy, xx = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    gradient = np.stack([255 * yy, 255 * xx, 127.5 * (yy + xx)], axis=-1)
    images = noise
    images[1:] = np.clip(gradient + rng.normal(0, 12, (count - 1, height, width, 3)), 0, 255)
    return images.astype(np.float32)


def relative_error(got: Any, expected: Any) -> float:
    """Largest absolute difference, over the largest absolute expected value."""
    return float(np.abs(got - expected).max() / max(1e-6, float(np.abs(expected).max())))


def convert(graph_def: bytes, inputs: Sequence[str], outputs: Sequence[str]) -> bytes:
    """The frozen graph as an ONNX model with the same input and output names, converted in a child
    process (:func:`_convert_here`), so the memory the conversion takes (ResNet50's 98 MB graph: a 4 GB
    peak) is given back to the system when it ends, not kept by this one."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory(prefix="sparkdl-onnx-") as tmp:
        graph_file, onnx_file = os.path.join(tmp, "graph.pb"), os.path.join(tmp, "model.onnx")
        with open(graph_file, "wb") as f:
            f.write(graph_def)
        done = subprocess.run([sys.executable, "-m", "sparkdl.models.onnx_form", graph_file, onnx_file,
                               json.dumps(list(inputs)), json.dumps(list(outputs))],
                              capture_output=True, text=True, env=env)
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise RuntimeError(lines[-1] if lines else "the converter exited with %d" % done.returncode)
        with open(onnx_file, "rb") as f:
            return f.read()


def _convert_here(graph_file: str, onnx_file: str, inputs: Sequence[str], outputs: Sequence[str]) -> None:
    """tf2onnx on a frozen graph file. Without tf2onnx's rollback of each graph optimizer that fails
    (``TF2ONNX_CATCH_ERRORS=FALSE``: it deep-copies the graph, constants included, before every one), a failure
    ends the conversion instead, and the peak memory halves (ResNet50: 8.6 -> 4.2 GB)."""
    os.environ["TF2ONNX_CATCH_ERRORS"] = "FALSE"
    import tensorflow as tf
    import tf2onnx

    parsed = tf.compat.v1.GraphDef()
    with open(graph_file, "rb") as f:
        parsed.ParseFromString(f.read())
    tf2onnx.convert.from_graph_def(parsed, input_names=list(inputs), output_names=list(outputs), opset=OPSET,
                                   output_path=onnx_file)


def onnx_form(graph_def: bytes, inputs: Sequence[str], outputs: Sequence[str],
              reference: Callable[[Any], Sequence[Any]], height: int, width: int
              ) -> Tuple[Optional[bytes], Dict[str, Any]]:
    """(``model.onnx`` bytes or None, the ``model.json`` entries saying which and why).

    ``reference(images)`` gives the Keras outputs in the order of ``outputs`` for a batch of RGB
    images 0-255 of ``height`` x ``width``.
    """
    try:
        import onnxruntime
        import tf2onnx  # noqa: F401
    except ImportError as e:
        return None, {Key.ONNX_REFUSED: "%s is not installed where the model was exported "
                                        "(pip install tf2onnx onnxruntime)" % e.name}
    if len(graph_def) > MAX_GRAPH_BYTES:
        return None, {Key.ONNX_REFUSED: "its frozen graph is %d MB, more than the %d MB converted (tf2onnx needs many "
                                        "times the graph's size in memory)" % (len(graph_def) >> 20,
                                                                              MAX_GRAPH_BYTES >> 20)}
    try:
        model = convert(graph_def, inputs, outputs)
    except (RuntimeError, OSError) as e:  # the child's last line: whatever tf2onnx raised
        return None, {Key.ONNX_REFUSED: "tf2onnx could not convert the graph: %s" % str(e)[:300]}
    images = sample_images(height, width)
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    got = session.run(list(outputs), {inputs[0]: images})
    expected = [np.asarray(e) for e in reference(images)]
    error = max(relative_error(g, e) for g, e in zip(got, expected))
    if not error <= TOLERANCE:
        return None, {Key.ONNX_MAX_ERROR: error,
                      Key.ONNX_REFUSED: "its outputs differ from Keras' by %.3g of their scale (more than %g)"
                                        % (error, TOLERANCE)}
    return model, {Key.ONNX_SHA256: hashlib.sha256(model).hexdigest(), Key.ONNX_MAX_ERROR: error}


if __name__ == "__main__":  # convert(): GRAPH_FILE ONNX_FILE INPUTS_JSON OUTPUTS_JSON
    _convert_here(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4]))
