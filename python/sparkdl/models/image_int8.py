"""The int8 form of a named image model: its convolutions and classifier computed in int8.

Made from the export's ONNX form (``model.onnx``, checked equal to Keras) with ONNX Runtime's static
quantization: weights int8 with one scale per output channel, activations uint8 with one scale per
tensor, calibrated on real photos. Two steps matter for accuracy (docs/PERFORMANCE.md, "int8 image
models"):

- batch normalization is folded into the convolution before it first (ONNX Runtime's basic graph
  optimizations). tf2onnx leaves the normalization of Keras' depthwise convolutions as a ``Mul`` and an
  ``Add`` after them; quantized there, the convolution's raw outputs share one scale across channels
  whose ranges differ by orders of magnitude. EfficientNet-Lite0 with real weights, on its calibration
  photos: feature cosine to float 0.53 lowest / 0.83 mean without the fold, 0.96 / 0.99 with it.
- activation ranges are the 99.99th percentile of what the calibration photos produce, not the
  extremes.

The form is written beside the float one (``model.int8.onnx``) with what it costs, measured at export on
crops of the photos the calibration did not see: the cosine of its features to the float model's (lowest
and mean), how often its top class is the float model's, and its speed relative to the float form on
one thread. It runs only when a stage asks for ``precision="int8"``.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from sparkdl.models.contract import Key

__all__ = ["PHOTOS", "describe", "int8_form", "photo_sets"]

#: The photos of ``skimage.data`` (scikit-image, offline) a calibration uses when none are given.
PHOTOS = ("astronaut", "camera", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
          "retina", "clock", "moon", "coins", "grass", "gravel", "brick")

#: Percentile of each activation's values that bounds its int8 range.
PERCENTILE = 99.99

#: The calibration's batch size (every batch the same size: the percentile calibrator stacks them).
CALIBRATION_BATCH = 4

#: The float model's top probability from which a crop counts as one it is sure of (photos of things outside
#: ImageNet's classes, a texture, the moon, get a top class by a hair, which int8's small differences flip).
SURE = 0.3

#: Images extensions read from a calibration folder.
_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def _photos(folder: Optional[str]) -> Tuple[List[Any], str]:
    """(RGB uint8 arrays, what they are): the images in ``folder``, else :data:`PHOTOS`."""
    from PIL import Image

    if folder:
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(_EXTENSIONS))
        if len(files) < 2:
            raise ValueError("int8 calibration: %s holds %d images (%s); give a folder of at least 2 photos like "
                             "the ones the model will see" % (folder, len(files), ", ".join(_EXTENSIONS)))
        photos = []
        for f in files:
            with Image.open(os.path.join(folder, f)) as im:
                photos.append(np.asarray(im.convert("RGB")))
        return photos, "%d images in %s" % (len(photos), os.path.abspath(folder))
    try:
        import skimage.data
    except ImportError:
        raise ModuleNotFoundError(
            "int8 calibration needs photos: give a folder of images like the ones the model will see "
            "(`python -m sparkdl.models export --model NAME --precision int8 --calibration DIR`), or install "
            "scikit-image, whose sample photos are used when none are given", name="skimage") from None
    photos = []
    for name in PHOTOS:
        image = np.asarray(getattr(skimage.data, name)())
        photos.append(np.stack([image] * 3, -1) if image.ndim == 2 else image[..., :3])
    return photos, "%d photos of skimage.data (%s)" % (len(photos), ", ".join(PHOTOS))


def _crops(photos: Sequence[Any], height: int, width: int, per_photo: int, seed: int, whole: bool) -> Any:
    """Random crops (50-90% of each side, some mirrored) of every photo, resized bilinearly to
    ``height`` x ``width`` as the JVM resizes: float32 RGB 0-255, [n, height, width, 3]."""
    from PIL import Image

    rng = np.random.RandomState(seed)
    out = []
    for photo in photos:
        image = Image.fromarray(np.ascontiguousarray(photo, dtype=np.uint8))
        h, w = photo.shape[:2]
        if whole:
            out.append(np.asarray(image.resize((width, height), Image.Resampling.BILINEAR), dtype=np.float32))
        for k in range(per_photo):
            s = rng.uniform(0.5, 0.9)
            ch, cw = int(h * s), int(w * s)
            y, x = rng.randint(0, h - ch + 1), rng.randint(0, w - cw + 1)
            crop = np.asarray(image.crop((x, y, x + cw, y + ch)).resize((width, height), Image.Resampling.BILINEAR),
                              dtype=np.float32)
            out.append(crop[:, ::-1] if k % 2 else crop)
    return np.stack(out)


def photo_sets(height: int, width: int, folder: Optional[str] = None) -> Tuple[Any, Any, str]:
    """(calibration images, evaluation images, what they are): each photo whole and 3 random crops to
    calibrate; 2 other random crops of each to measure the int8 form on."""
    photos, what = _photos(folder)
    calibration = _crops(photos, height, width, 3, seed=20171017, whole=True)
    evaluation = _crops(photos, height, width, 2, seed=20261208, whole=False)
    keep = len(calibration) - len(calibration) % CALIBRATION_BATCH
    return calibration[:keep], evaluation, what


def _quantize(model: bytes, input_name: str, calibration: Any) -> bytes:
    """``model`` (float) with batch normalization folded, then statically quantized on ``calibration``."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    from sparkdl.models.quantize import float_weights, used_domains_only

    class Batches(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.at = 0

        def get_next(self) -> Optional[Dict[str, Any]]:
            if self.at >= len(calibration):
                return None
            self.at += CALIBRATION_BATCH
            return {input_name: calibration[self.at - CALIBRATION_BATCH:self.at]}

    with tempfile.TemporaryDirectory(prefix="sparkdl-int8-") as tmp:
        source, target = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
        with open(source, "wb") as f:
            f.write(float_weights(model))
        with _quiet():
            quantize_static(source, target, Batches(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                            calibrate_method=CalibrationMethod.Percentile,
                            extra_options={"CalibPercentile": PERCENTILE})
        with open(target, "rb") as g:
            return used_domains_only(g.read())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Without the quantizer's prints (stdout) and its advice on the root logger, which would land in the
    user's notebook or driver log for every export."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.setLevel(level)


def _rate(session: Any, input_name: str, images: Any, runs: int = 3) -> float:
    """Images per second of ``session`` on ``images`` (one warm-up run, then the fastest of ``runs``)."""
    session.run(None, {input_name: images})
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {input_name: images})
        best = min(best, time.perf_counter() - start)
    return len(images) / best


def int8_form(model: bytes, input_name: str, features: str, predictions: str, height: int, width: int,
              calibration_folder: Optional[str] = None) -> Tuple[bytes, Dict[str, Any]]:
    """(``model.int8.onnx`` bytes, the ``model.json`` entries describing it) for the float ONNX form
    ``model``, calibrated on the photos in ``calibration_folder`` (default :data:`PHOTOS`)."""
    import onnxruntime as ort

    calibration, evaluation, what = photo_sets(height, width, calibration_folder)
    quantized = _quantize(model, input_name, calibration)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # as one executor task runs it
    sessions = [ort.InferenceSession(m, options, providers=["CPUExecutionProvider"]) for m in (model, quantized)]
    (want_f, want_p), (got_f, got_p) = (s.run([features, predictions], {input_name: evaluation}) for s in sessions)
    want_f, got_f = want_f.reshape(len(evaluation), -1), got_f.reshape(len(evaluation), -1)
    cosines = (want_f * got_f).sum(1) / np.maximum(np.linalg.norm(want_f, axis=1) * np.linalg.norm(got_f, axis=1),
                                                   1e-30)
    same = want_p.argmax(1) == got_p.argmax(1)
    sure = want_p.max(1) >= SURE
    batch = evaluation[:8]
    float_rate, int8_rate = (_rate(s, input_name, batch) for s in sessions)
    return quantized, {
        Key.INT8_SHA256: hashlib.sha256(quantized).hexdigest(),
        "int8CosineMin": float(cosines.min()), "int8CosineMean": float(cosines.mean()),
        "int8Top1Agreement": float(same.mean()),
        "int8Top1AgreementSure": float(same[sure].mean()) if sure.any() else None, "int8SureCrops": int(sure.sum()),
        "int8Speedup": int8_rate / float_rate,
        "int8Calibration": "%s; measured on %d other crops of them" % (what, len(evaluation)),
    }


def describe(meta: Dict[str, Any]) -> str:
    """One line saying what an export's int8 form costs and gains, from its ``model.json``."""
    if Key.INT8_SHA256 not in meta:
        return "no int8 form (%s)" % meta.get(Key.INT8_REFUSED, "not made")
    sure = meta.get("int8Top1AgreementSure")
    sure_text = ("none of them gets >= %.0f%% from the float model" % (100 * SURE) if sure is None else
                 "%.0f%% of the %d the float model gives >= %.0f%%" % (100 * sure, meta["int8SureCrops"], 100 * SURE))
    return ("int8: features at cosine %.4f (lowest) / %.4f (mean) to float, top class equal on %.0f%% of "
            "images (%s), %.2fx the float form's speed on one thread (calibration: %s)"
            % (meta["int8CosineMin"], meta["int8CosineMean"], 100 * meta["int8Top1Agreement"], sure_text,
               meta["int8Speedup"], meta["int8Calibration"]))
