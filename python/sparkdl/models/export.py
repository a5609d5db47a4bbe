"""Building named Keras models and exporting them as frozen graphs for the JVM.

An export directory holds, per model, ``<ModelName>/graph.pb`` (one frozen graph with
two outputs: ``features:0``, the featurizer cut, and ``predictions:0``, the 1000
ImageNet probabilities; input ``input:0`` takes RGB pixels 0-255 at the model's input
size, Keras' ``preprocess_input`` is inside the graph), ``<ModelName>/model.onnx`` (the
same graph for ONNX Runtime, same tensor names, written when it equals Keras' outputs:
:mod:`sparkdl.models.onnx_form`), ``<ModelName>/model.int8.onnx`` (when asked for: the ONNX form computed
in int8, :mod:`sparkdl.models.image_int8`) and ``<ModelName>/model.json``.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Dict, Optional, Tuple, cast

from sparkdl.models.contract import CacheKey, Conf, Engine, Files, Key, Kind
from sparkdl.models.registry import get_spec, load_symbol

__all__ = ["build_keras_model", "export_model", "add_int8_form", "cached_model_dir", "weights_key",
           "WeightsUnavailableError", "conf_export_holds", "PRECISIONS"]

INPUT = "input"
FEATURES = "features"
PREDICTIONS = "predictions"


class WeightsUnavailableError(RuntimeError):
    """A named model's weights cannot be found or downloaded."""


def weights_key(weights_path: Optional[str]) -> str:
    """Short stable key for a weights choice: ``imagenet`` or a digest of the file's identity."""
    if not weights_path:
        return CacheKey.IMAGENET
    st = os.stat(weights_path)
    ident = "%s|%d|%d" % (os.path.abspath(weights_path), st.st_size, int(st.st_mtime))
    return "file-" + hashlib.sha256(ident.encode()).hexdigest()[:16]


def build_keras_model(model_name: str, weights_path: Optional[str] = None) -> Any:
    """The full Keras classifier for ``model_name`` with ImageNet weights or ``weights_path``."""
    spec = get_spec(model_name)
    builder = load_symbol(spec.builder)
    if weights_path:
        if not os.path.isfile(weights_path):
            raise WeightsUnavailableError("weightsPath '%s' for %s does not exist" % (weights_path, model_name))
        return builder(weights=weights_path, include_top=True)
    try:
        return builder(weights="imagenet", include_top=True)
    except WeightsUnavailableError:
        raise
    except Exception as e:  # Keras raises whatever its download raised
        cache = os.path.join(_keras_home(), "models")
        raise WeightsUnavailableError(
            "Cannot get the ImageNet weights of %s: Keras looks for %s and downloads it when missing, "
            "and that failed (%s: %s). Either (1) put that file there (e.g. copied from a machine with "
            "network access, where keras.applications builds %s once), or (2) pass a local Keras weights "
            "file for this architecture as weightsPath=..." % (
                model_name, os.path.join(cache, spec.keras_weights_file or "?"), type(e).__name__,
                str(e).splitlines()[0][:200] if str(e) else "", model_name)) from e


def _keras_home() -> str:
    """Where Keras caches downloads ($KERAS_HOME as read when Keras was imported, else ~/.keras)."""
    try:
        from keras.src.backend.config import keras_home

        return cast(str, keras_home())
    except ImportError:
        return os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))


def features_model(model: Any) -> Any:
    """The featurizer cut of a named model: the input of its ``predictions`` (classifier) layer."""
    import keras

    head = model.get_layer(PREDICTIONS)
    return keras.Model(model.inputs, head.input, name=model.name + "_features")


#: The steps of an export, as progress shows them.
EXPORT_STEPS = ("reading the weights", "freezing the graph", "converting it to ONNX", "writing the export")

#: The step of an int8 export (``precision="int8"``), after the ONNX conversion.
INT8_STEP = "quantizing it to int8"

#: What a named image model's export may compute in: float32 only, or also int8 (:mod:`sparkdl.models.image_int8`).
PRECISIONS = ("fp32", "int8")


def export_steps(precision: str) -> Tuple[str, ...]:
    """The steps of an export in ``precision``, in order."""
    return EXPORT_STEPS[:3] + ((INT8_STEP,) if precision == "int8" else ()) + EXPORT_STEPS[3:]


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError("precision must be one of %s, got %r" % (", ".join(PRECISIONS), precision))
    return precision


def export_model(model_name: str, out_dir: str, weights_path: Optional[str] = None,
                 step: Callable[[str], None] = lambda name: None, precision: str = "fp32",
                 calibration: Optional[str] = None) -> str:
    """Exports ``model_name`` into ``out_dir/<model_name>/``; returns that directory. ``step`` is
    told each of :func:`export_steps` as it starts. ``precision="int8"`` also
    writes the int8 form, calibrated on the images in the folder ``calibration`` (default: the photos of
    :data:`sparkdl.models.image_int8.PHOTOS`)."""
    check_precision(precision)
    tf = require_tensorflow(model_name)

    from sparkdl.graph.export import freeze_function

    spec = get_spec(model_name)
    step(EXPORT_STEPS[0])
    model = build_keras_model(model_name, weights_path)
    features = features_model(model)
    preprocess = load_symbol(spec.preprocessor)

    def fn(x: Any) -> Dict[str, Any]:
        pre = preprocess(x)
        return {FEATURES: features(pre, training=False), PREDICTIONS: model(pre, training=False)}

    step(EXPORT_STEPS[1])
    graph = freeze_function(fn, [tf.TensorSpec([None, spec.height, spec.width, 3], tf.float32, name=INPUT)])
    step(EXPORT_STEPS[2])
    from sparkdl.models.onnx_form import onnx_form

    def keras_outputs(images: Any) -> Tuple[Any, Any]:
        out = fn(tf.constant(images))
        return out[FEATURES].numpy(), out[PREDICTIONS].numpy()

    tensors = [FEATURES + ":0", PREDICTIONS + ":0"]
    onnx_model, onnx_meta = onnx_form(graph.graph_def, [INPUT + ":0"], tensors, keras_outputs, spec.height,
                                      spec.width)
    written = {Files.ONNX: onnx_model} if onnx_model else {}
    if precision == "int8":
        step(INT8_STEP)
        int8_model, int8_meta = _int8(onnx_model, onnx_meta, spec.height, spec.width, calibration)
        onnx_meta.update(int8_meta)
        if int8_model:
            written[Files.INT8_ONNX] = int8_model
    step(EXPORT_STEPS[3])
    meta = {
        Key.MODEL_NAME: model_name, Key.KIND: Kind.IMAGE, Key.HEIGHT: spec.height, Key.WIDTH: spec.width,
        "featureSize": spec.feature_size, "numClasses": 1000,
        Key.INPUT_TENSOR: INPUT + ":0", Key.FEATURES_TENSOR: FEATURES + ":0",
        Key.PREDICTIONS_TENSOR: PREDICTIONS + ":0", Key.GRAPH_SHA256: graph.sha256,
        "weights": os.path.abspath(weights_path) if weights_path else "imagenet",
        "exportedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **onnx_meta,
    }
    return write_export(out_dir, model_name, graph.graph_def, meta, written=written)


def _int8(onnx_model: Optional[bytes], meta: Dict[str, Any], height: int, width: int,
          calibration: Optional[str]) -> Tuple[Optional[bytes], Dict[str, Any]]:
    """(the int8 form or None, its ``model.json`` entries) of an export's ONNX form."""
    if onnx_model is None:
        return None, {Key.INT8_REFUSED: "the export has no ONNX form to quantize (%s)"
                                        % meta.get(Key.ONNX_REFUSED, "none was written")}
    from sparkdl.models.image_int8 import describe, int8_form

    model, int8_meta = int8_form(onnx_model, INPUT + ":0", FEATURES + ":0", PREDICTIONS + ":0", height, width,
                                 calibration)
    _say("sparkdl: " + describe(int8_meta))
    return model, int8_meta


def add_int8_form(export: str, calibration: Optional[str] = None) -> str:
    """Adds the int8 form to the export of a named image model in the folder ``export``
    (``<dir>/<modelName>``), calibrated on the images in the folder ``calibration`` (default: the photos
    of :data:`sparkdl.models.image_int8.PHOTOS`); an older int8 form is replaced. Returns ``export``."""
    with open(os.path.join(export, Files.MODEL_JSON)) as f:
        meta = json.load(f)
    if meta.get(Key.KIND, Kind.IMAGE) != Kind.IMAGE:
        raise ValueError("%s is the export of a %s model: int8 forms are made for named image models here "
                         "(text models: `python -m sparkdl.models export --precision int8`)" % (export, meta[Key.KIND]))
    onnx_model = None
    if Key.ONNX_SHA256 in meta:
        with open(os.path.join(export, Files.ONNX), "rb") as f:
            onnx_model = f.read()
    model, int8_meta = _int8(onnx_model, meta, meta[Key.HEIGHT], meta[Key.WIDTH], calibration)
    for key in [k for k in meta if k.startswith("int8")]:
        del meta[key]
    meta.update(int8_meta)
    if model is not None:
        _replace(os.path.join(export, Files.INT8_ONNX), model)
    _replace(os.path.join(export, Files.MODEL_JSON), json.dumps(meta, indent=2).encode())
    return export


def _replace(path: str, data: bytes) -> None:
    """Writes ``path`` whole or not at all (a temporary file beside it, then renamed over it)."""
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + "-", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def require_tensorflow(model_name: str) -> Any:
    """The ``tensorflow`` module, or an error saying how to get an export of ``model_name`` without it."""
    try:
        import tensorflow as tf
    except ImportError as e:
        raise ModuleNotFoundError(
            "Exporting %s needs TensorFlow, which this environment lacks (%s). Install sparkdl with its tf extra "
            "(`pip install \".[spark,tf]\"` from a clone), or use an export made where TensorFlow is: `python -m "
            "sparkdl.models export --model %s --out DIR`, then modelDir=DIR on the stage (or the Spark conf %s)."
            % (model_name, e, model_name, Conf.MODEL_DIR), name="tensorflow") from None
    return tf


def write_export(out_dir: str, name: str, graph_def: bytes, meta: Dict[str, Any],
                 copies: Optional[Dict[str, str]] = None, model_file: str = Files.GRAPH,
                 written: Optional[Dict[str, bytes]] = None) -> str:
    """Writes ``out_dir/<name>/`` (the model as ``model_file``: ``graph.pb``, or ``model.onnx``;
    ``model.json``, ``copies``: {file name: source path}, and ``written``: {file name: bytes}) all
    at once: into a temporary folder beside it, which then replaces any older export. Returns the
    folder."""
    target = os.path.join(out_dir, name)
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + name + "-", dir=out_dir)
    try:
        with open(os.path.join(tmp, model_file), "wb") as g:
            g.write(graph_def)
        for file, source in (copies or {}).items():
            shutil.copy(source, os.path.join(tmp, file))
        for file, data in (written or {}).items():
            with open(os.path.join(tmp, file), "wb") as w:
                w.write(data)
        with open(os.path.join(tmp, Files.MODEL_JSON), "w") as f:
            json.dump(meta, f, indent=2)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp)
    return target


def cache_root() -> str:
    return os.environ.get("SPARKDL_MODEL_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "sparkdl", "models"))


def conf_export_holds(spark: Any, model_name: str) -> bool:
    """True when the Spark conf ``spark.sparkdl.modelDir`` names a directory holding an export of
    ``model_name``: then the JVM reads it there, and nothing is exported here. A directory on another
    file system (``hdfs://``, ``s3a://``) is taken to hold it (the JVM says so if not); a local one is
    looked at, so a conf set for some models never stops Python exporting the others."""
    from urllib.parse import urlparse

    from sparkdl._session import is_connect

    conf_dir = spark.conf.get(Conf.MODEL_DIR, None)
    if not conf_dir:
        return False
    url = urlparse(conf_dir)
    if url.scheme not in ("", "file") or is_connect(spark):  # not a folder of this machine
        return True
    return os.path.isfile(os.path.join(url.path if url.scheme else conf_dir, model_name, Files.MODEL_JSON))


def cached_model_dir(model_name: str, weights_path: Optional[str] = None, precision: str = "fp32") -> str:
    """An export directory holding ``model_name`` for these weights; exports once, then reuses. With
    ``precision="int8"``, the export also holds the int8 form (added once to a cached export without one).

    Returns the directory to give as ``modelDir`` (it contains ``<model_name>/``).
    """
    get_spec(model_name)
    check_precision(precision)
    root = os.path.join(cache_root(), weights_key(weights_path))
    exists = os.path.isfile(os.path.join(root, model_name, Files.MODEL_JSON))
    damage = _damage(os.path.join(root, model_name)) if exists else None
    if damage:
        _say("sparkdl: the cached export of %s at %s is damaged (%s): exporting it again"
             % (model_name, root, damage))
    stale = exists and not damage and _without_onnx_form(os.path.join(root, model_name))
    if stale:
        _say("sparkdl: the cached export of %s at %s predates ONNX forms: exporting it again to add one"
             % (model_name, root))
    if not exists or damage or stale:
        from sparkdl._progress import Progress

        with Progress("sparkdl: exporting %s (weights: %s) to %s, once per model and weights"
                      % (model_name, weights_path or "imagenet", root), export_steps(precision),
                      done="sparkdl: exported %s" % model_name) as progress:
            export_model(model_name, root, weights_path, progress.step, precision)
    elif precision == "int8" and _without_int8_form(os.path.join(root, model_name)):
        from sparkdl._progress import Progress

        with Progress("sparkdl: adding the int8 form of %s to its export at %s, once" % (model_name, root),
                      [INT8_STEP], done="sparkdl: added the int8 form of %s" % model_name) as progress:
            progress.step(INT8_STEP)
            add_int8_form(os.path.join(root, model_name))
    return root


_checked: Dict[Tuple[str, int, float], bool] = {}  # model files (path, size, mtime) found intact in this process


def _without_onnx_form(export: str) -> bool:
    """Whether a named image model's export was written before exports carried an ONNX form (its
    model.json says neither the form's digest nor why there is none)."""
    with open(os.path.join(export, Files.MODEL_JSON)) as f:
        meta = json.load(f)
    return meta.get(Key.KIND, Kind.IMAGE) == Kind.IMAGE and Key.ONNX_SHA256 not in meta and \
        Key.ONNX_REFUSED not in meta


def _without_int8_form(export: str) -> bool:
    """Whether an export says neither its int8 form's digest nor why it has none."""
    with open(os.path.join(export, Files.MODEL_JSON)) as f:
        meta = json.load(f)
    return Key.INT8_SHA256 not in meta and Key.INT8_REFUSED not in meta


def _damage(export: str) -> Optional[str]:
    """Why a cached export cannot be used (unreadable model.json, graph.pb or model.onnx missing or
    not the bytes exported), or None. Each model file is hashed once per process."""
    try:
        with open(os.path.join(export, Files.MODEL_JSON)) as f:
            meta = json.load(f)
        model_file = Files.ONNX if meta.get(Key.ENGINE) == Engine.ONNX else Files.GRAPH
        files = [(model_file, meta.get(Key.GRAPH_SHA256))]
        if model_file == Files.GRAPH and Key.ONNX_SHA256 in meta:  # a named image model's ONNX form
            files.append((Files.ONNX, meta[Key.ONNX_SHA256]))
        if Key.INT8_SHA256 in meta:  # and its int8 form
            files.append((Files.INT8_ONNX, meta[Key.INT8_SHA256]))
        for name, recorded in files:
            path = os.path.join(export, name)
            stat = os.stat(path)
            key = (path, stat.st_size, stat.st_mtime)
            if key not in _checked:
                with open(path, "rb") as g:
                    digest = hashlib.sha256(g.read()).hexdigest()
                if recorded not in (None, digest):
                    return "%s does not match the SHA-256 recorded at export: truncated or changed" % name
                _checked[key] = True
        return None
    except (OSError, ValueError) as e:
        return "%s: %s" % (type(e).__name__, e)


def _say(line: str) -> None:
    """One line of progress on stderr (shown by terminals and notebooks alike)."""
    print(line, file=sys.stderr, flush=True)
