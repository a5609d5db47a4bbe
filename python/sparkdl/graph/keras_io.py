"""Loading saved Keras models safely on the driver (the JVM only ever sees frozen graphs)."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

__all__ = ["load_keras_model", "UnsafeKerasModelError"]


class UnsafeKerasModelError(ValueError):
    """The model file carries Python code (a Lambda layer) and unsafe loading was not allowed."""


def load_keras_model(model_file: str, custom_objects: Optional[Dict[str, Any]] = None,
                     allow_unsafe: bool = False) -> Any:
    """Loads a ``.keras`` (or ``.h5``) model file with Keras' ``safe_mode``.

    :param custom_objects: {name: class or function} for user-defined layers, resolved here,
        on the driver
    :param allow_unsafe: load a model whose file carries Python code (``Lambda`` layers); only
        for files you trust, since loading runs that code
    """
    import keras

    if not model_file or not os.path.isfile(model_file):
        raise ValueError("modelFile '%s' does not exist" % model_file)
    try:
        return keras.models.load_model(model_file, custom_objects=custom_objects, compile=False,
                                       safe_mode=not allow_unsafe)
    except ValueError as e:
        if "safe_mode" in str(e) or "unsafe" in str(e).lower():
            raise UnsafeKerasModelError(
                "modelFile '%s' contains Python code (a Lambda layer), which Keras refuses to load in safe "
                "mode. Only if you trust this file, pass allowUnsafeDeserialization=True (loading runs its "
                "code). Keras said: %s" % (model_file, str(e).splitlines()[0])) from e
        raise _missing_custom_object(model_file, e) or _not_a_model(model_file, e) from e
    except (OSError, KeyError, TypeError, AttributeError, EOFError) as e:  # h5py / zipfile / json on a damaged file
        raise _missing_custom_object(model_file, e) or _not_a_model(model_file, e) from e


def _missing_custom_object(model_file: str, e: BaseException) -> Optional[ValueError]:
    """The error for a model whose layers or functions are the user's own, not given as custom objects."""
    import re

    text = str(e)
    found = re.search(r"Could not locate (?:class|function) '([^']+)'"
                      r"|Unknown (?:layer|object|activation)[^']*'([^']+)'", text)
    if not found:
        return None
    name = found.group(1) or found.group(2)
    return ValueError(
        "modelFile '%s' uses '%s', a layer or function of your own that Keras cannot find: pass it as "
        "kerasCustomObjects={'%s': %s} (resolved on the driver; the model then runs in the JVM as a frozen graph)"
        % (model_file, name, name, name))


def _not_a_model(model_file: str, e: BaseException) -> ValueError:
    """One clear error for a file Keras cannot read (truncated, not a model, another format)."""
    size = os.path.getsize(model_file)
    first = (str(e).splitlines() or [type(e).__name__])[0]
    return ValueError("modelFile '%s' (%d bytes) is not a readable Keras model: truncated, damaged, or not a "
                      ".keras/.h5 model file (%s: %s)" % (model_file, size, type(e).__name__, first))
