"""One training run's settings, checked, and the model file loaded as every training path loads it."""
from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any, Callable, Dict, Optional, Tuple

__all__ = ["TrainingSpec", "input_shape", "load_keras_bytes", "training_model"]


@dataclasses.dataclass(frozen=True)
class TrainingSpec:
    """What one training run needs, from the estimator's params once they are checked.

    ``fit_params`` go to Keras ``fit`` (``verbose`` defaults to 0); ``image_loader`` is the user's
    function, which stays where the images are loaded: :meth:`for_tasks` is the spec without it,
    what ships to a training task.
    """

    model_file: str
    optimizer: str
    loss: str
    fit_params: Dict[str, Any]
    input_col: str
    output_col: str
    label_col: str
    output_mode: str
    num_workers: int = 1
    checkpoint_dir: Optional[str] = None
    image_loader: Optional[Callable[[str], Any]] = None

    @property
    def data_key(self) -> Tuple[Any, str, str]:
        """Specs with equal keys train on the same loaded rows."""
        return self.image_loader, self.input_col, self.label_col

    def loader(self) -> Callable[[str], Any]:
        """The image loader; a spec made :meth:`for_tasks` has none."""
        if self.image_loader is None:
            raise RuntimeError("this TrainingSpec was made for a training task: it carries no imageLoader")
        return self.image_loader

    def read_model(self) -> bytes:
        with open(self.model_file, "rb") as f:
            return f.read()

    def for_tasks(self) -> TrainingSpec:
        """This spec without the image loader (plain values only: it pickles anywhere)."""
        return dataclasses.replace(self, image_loader=None)


def training_model(path: str, model_file: str) -> Any:
    """The model to train, from ``path`` (a copy of the user's ``model_file``), in Keras' safe mode: a file that
    carries Python code, or is no model, fails naming ``model_file`` and what to do."""
    from sparkdl.graph.keras_io import UnsafeKerasModelError, load_keras_model

    try:
        return load_keras_model(path)
    except UnsafeKerasModelError:
        raise ValueError(
            "modelFile '%s' contains Python code (a Lambda layer), which Keras refuses to load in safe mode. "
            "KerasImageFileEstimator loads the file again wherever it trains and never runs code from a model "
            "file: replace the Lambda layer by a layer class of your own, registered with "
            "@keras.saving.register_keras_serializable() in a module the workers import." % model_file) from None
    except ValueError as e:
        raise ValueError(str(e).replace(path, model_file)) from None


def load_keras_bytes(model_bytes: bytes, model_file: str) -> Any:
    """The Keras model whose file's bytes are ``model_bytes`` (read from ``model_file`` wherever that is),
    loaded as :func:`training_model` loads it: a task has the bytes, not the file."""
    with tempfile.TemporaryDirectory(prefix="sparkdl-model-") as d:
        path = os.path.join(d, os.path.basename(model_file))
        with open(path, "wb") as f:
            f.write(model_bytes)
        return training_model(path, model_file)


def input_shape(model: Any) -> Tuple[int, ...]:
    """The shape of one row of the model's first input."""
    return tuple(int(s) for s in model.inputs[0].shape[1:])
