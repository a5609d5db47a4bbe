"""The checks on a training's data and settings made on the driver, before anything loads or trains: each
names the column or setting and the way out, where NumPy or Keras would fail later inside a task."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from sparkdl.training.spec import TrainingSpec

__all__ = ["DISTRIBUTED_FIT_PARAMS", "check_distributed_settings", "check_no_null_labels",
           "check_training_columns", "null_labels_error"]

#: The kerasFitParams a distributed fit takes (the rest of Keras ``fit`` assumes data in one process).
DISTRIBUTED_FIT_PARAMS = ("batch_size", "epochs", "shuffle", "verbose")


def check_training_columns(dataset: DataFrame, spec: TrainingSpec) -> None:
    """The input and label columns exist (no job), naming the column. Null labels are checked where the
    rows are first read."""
    for role, column in (("inputCol", spec.input_col), ("labelCol", spec.label_col)):
        if column not in dataset.columns:
            raise ValueError("KerasImageFileEstimator: %s '%s' does not exist. Available columns: %s"
                             % (role, column, ", ".join(dataset.columns)))


def check_no_null_labels(dataset: DataFrame, label_col: str) -> None:
    """Fails, naming the column and the way out, when a label is null (one small job): checked before the
    training's images are loaded, so the error is not NumPy's or Keras' from inside a task."""
    from pyspark.sql import functions as F

    nulls = dataset.filter(F.col(label_col).isNull()).count()
    if nulls:
        raise null_labels_error(label_col, nulls)


def null_labels_error(label_col: str, nulls: int) -> ValueError:
    """The error for null labels: the column, how many, and the way out."""
    return ValueError("KerasImageFileEstimator: labelCol '%s' has %d null value(s); a model cannot learn from them. "
                      "Drop or fill those rows before fit, e.g. df.na.drop(subset=['%s'])"
                      % (label_col, nulls, label_col))


def check_distributed_settings(num_workers: int, fit_params: Dict[str, Any]) -> Dict[str, Any]:
    """The global batch size, epochs, shuffle and verbosity of a training on ``num_workers`` workers."""
    unknown = sorted(set(fit_params) - set(DISTRIBUTED_FIT_PARAMS))
    if unknown:
        raise ValueError("kerasFitParams has %s, which a training with numWorkers=%d does not take. Accepted: %s"
                         % (", ".join(unknown), num_workers, ", ".join(DISTRIBUTED_FIT_PARAMS)))
    batch = fit_params.get("batch_size", 32)
    if not isinstance(batch, int) or batch < num_workers or batch % num_workers:
        raise ValueError("kerasFitParams batch_size is the global batch size; with numWorkers=%d it must be a "
                         "multiple of %d (each worker takes batch_size / numWorkers rows a step), got %r"
                         % (num_workers, num_workers, batch))
    epochs = fit_params.get("epochs", 1)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError("kerasFitParams epochs must be a positive int, got %r" % (epochs,))
    return {"globalBatch": batch, "epochs": epochs, "shuffle": bool(fit_params.get("shuffle", True)),
            "verbose": bool(fit_params.get("verbose", 0))}
