"""Training one model in this process: on the driver (``fit`` on a classic session), or in the Python
worker of a Spark task (the other paths call :func:`train` there)."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Dict, List, NamedTuple, Tuple

import numpy as np

from sparkdl.training.checks import null_labels_error
from sparkdl.training.spec import TrainingSpec, input_shape, load_keras_bytes, training_model

if TYPE_CHECKING:
    import numpy.typing as npt
    from pyspark.sql import DataFrame

__all__ = ["Trained", "load_rows", "train"]


class Trained(NamedTuple):
    """What a training gives back."""

    weights: List[Any]  #: Keras weights, in the model's order
    history: Dict[str, List[float]]  #: loss (and metrics) per epoch
    pid: int  #: the process that trained (a Python worker's when a Spark task trained)


def load_rows(dataset: DataFrame, spec: TrainingSpec) -> Tuple[npt.NDArray[np.float32], npt.NDArray[Any]]:
    """(images, labels) as numpy arrays, here: the loader runs in Python workers, rows come back in order."""
    from pyspark.sql import functions as F

    from sparkdl.ml.keras_image_file import _loader_udf

    rows = dataset.select(_loader_udf(spec.loader())(F.col(spec.input_col)).alias("x"),
                          F.col(spec.label_col).alias("y")).collect()
    if not rows:
        raise ValueError("KerasImageFileEstimator: the training DataFrame is empty")
    nulls = sum(1 for r in rows if r.y is None)
    if nulls:
        raise null_labels_error(spec.label_col, nulls)
    shape = input_shape(training_model(spec.model_file, spec.model_file))  # the file is here: no copy
    x = np.array([r.x for r in rows], dtype=np.float32).reshape((len(rows),) + shape)
    y = np.array([r.y.toArray() if hasattr(r.y, "toArray") else r.y for r in rows])
    return x, y


def train(model_bytes: bytes, spec: TrainingSpec, x: npt.NDArray[Any], y: npt.NDArray[Any]) -> Trained:
    """Trains a fresh copy of the model whose file's bytes are ``model_bytes``, here. ``x`` has one row per
    image, in the model's input shape or flattened."""
    import keras

    model = load_keras_bytes(model_bytes, spec.model_file)
    x = x.reshape((len(x),) + input_shape(model))
    model.compile(optimizer=keras.optimizers.get(spec.optimizer), loss=spec.loss)
    history = model.fit(x, y, **spec.fit_params)
    return Trained(model.get_weights(), {k: [float(v) for v in vs] for k, vs in history.history.items()},
                   os.getpid())
