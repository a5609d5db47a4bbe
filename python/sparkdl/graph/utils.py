"""The original library's ``sparkdl.graph.utils`` helpers for tensor and op names (deprecated)."""
from __future__ import annotations

from typing import Any, Union

from sparkdl._compat import moved

__all__ = ["op_name", "tensor_name"]

moved("sparkdl.graph.utils", "tensor names as strings ('name:0')")


def tensor_name(name: Union[str, Any]) -> str:
    """``'x'`` or ``'x:0'`` -> ``'x:0'`` (a tensor or Tensor object's name)."""
    name = getattr(name, "name", name)
    return name if ":" in name else name + ":0"


def op_name(name: Union[str, Any]) -> str:
    """``'x:0'`` -> ``'x'``."""
    return tensor_name(name).split(":")[0]
