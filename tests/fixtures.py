"""What the Python tests share: real photos that ship inside scikit-image and scikit-learn,
written as JPEG and PNG files of several sizes and channel layouts, plus broken files; the
demo's labelled shapes; and the Keras-side view of images to compare against."""
import hashlib
import os

import numpy as np
from PIL import Image

from examples.sample_images import write_shapes  # noqa: F401  (the demo's labelled shapes, also for tests)
from sparkdl.image.imageIO import imageStructToArray

#: files readImages must decode, with the channel count Spark should give them
GOOD = {
    "chelsea.jpg": 3, "coffee.png": 3, "astronaut_small.jpg": 3, "china.jpg": 3,
    "camera_gray.png": 1, "moon_gray.jpg": 1, "logo_rgba.png": 4, "rocket_tall.png": 3,
}
#: files that must come back as null images with a reason
BAD = ["zero_bytes.jpg", "truncated.jpg", "corrupt.png", "notes.txt"]


def write_sample_images(directory):
    import skimage.data as data
    from sklearn.datasets import load_sample_images

    def save(name, arr, **kw):
        Image.fromarray(arr).save(os.path.join(directory, name), **kw)

    save("chelsea.jpg", data.chelsea(), quality=92)
    save("coffee.png", data.coffee())
    save("astronaut_small.jpg", np.asarray(Image.fromarray(data.astronaut()).resize((97, 131))), quality=90)
    save("china.jpg", load_sample_images().images[0], quality=90)
    save("camera_gray.png", data.camera())
    save("moon_gray.jpg", data.moon(), quality=95)
    save("logo_rgba.png", data.logo())
    save("rocket_tall.png", np.ascontiguousarray(data.rocket().transpose(1, 0, 2)[::2, ::2]))

    open(os.path.join(directory, "zero_bytes.jpg"), "wb").close()
    with open(os.path.join(directory, "chelsea.jpg"), "rb") as f:
        jpeg = f.read()
    with open(os.path.join(directory, "truncated.jpg"), "wb") as f:
        f.write(jpeg[:200])
    with open(os.path.join(directory, "corrupt.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with open(os.path.join(directory, "notes.txt"), "w") as f:
        f.write("not an image\n")
    return directory


def keras_inputs(image_rows, height, width):
    """What a Keras user feeds: RGB float 0-255, tf.image.resize bilinear, no antialias."""
    import tensorflow as tf

    batch = []
    for row in image_rows:
        arr = imageStructToArray(row)
        rgb = np.repeat(arr, 3, axis=2) if arr.shape[2] == 1 else arr[:, :, [2, 1, 0]]
        batch.append(tf.image.resize(rgb.astype(np.float32), (height, width), method="bilinear",
                                     antialias=False).numpy())
    return np.stack(batch)


def image_rows(df):
    """``{file name: [[height, width, channels, sha256 of the pixels] or None, imageError]}`` of a
    readImages DataFrame (lists, so that it survives JSON from a Spark Connect client)."""
    rows = {}
    for r in df.collect():
        img = r.image
        pixels = None if img is None else [img.height, img.width, img.nChannels,
                                           hashlib.sha256(bytes(img.data)).hexdigest()]
        rows[os.path.basename(r.filePath)] = [pixels, r.imageError]
    return rows


def small_onnx_cnn(path, height=40, width=56, seed=2):
    """A PyTorch-style ONNX image model saved at ``path``: pixels float [N, 3, h, w] (channels first)
    -> conv 3x3 -> relu -> global average pool -> [N, 4]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array((rng.normal(size=(4, 3, 3, 3)) / 50).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.normal(size=(4,)).astype(np.float32), "B")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["pixels", "W", "B"], ["c"], kernel_shape=[3, 3], strides=[2, 2]),
         helper.make_node("Relu", ["c"], ["r"]), helper.make_node("GlobalAveragePool", ["r"], ["g"]),
         helper.make_node("Flatten", ["g"], ["features"])],
        "cnn", [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 3, height, width])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 4])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)
