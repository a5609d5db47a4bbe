"""Keras weights as bytes, and their digest: what a training task sends back."""
from __future__ import annotations

import hashlib
import io
from typing import Any, List

import numpy as np

__all__ = ["weights_digest", "weights_from_bytes", "weights_to_bytes"]


def weights_digest(weights: List[Any]) -> str:
    """sha256 of the weights' bytes, in order: equal digests mean bit-identical replicas."""
    h = hashlib.sha256()
    for w in weights:
        h.update(np.ascontiguousarray(w).tobytes())
    return h.hexdigest()


def weights_to_bytes(weights: List[Any]) -> bytes:
    """Keras weights as an .npz (numpy's own format: no pickle across numpy versions)."""
    buf = io.BytesIO()
    np.savez(buf, *weights)
    return buf.getvalue()


def weights_from_bytes(data: bytes) -> List[Any]:
    with np.load(io.BytesIO(data)) as npz:
        return [npz["arr_%d" % i] for i in range(len(npz.files))]
