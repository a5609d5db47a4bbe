"""Writes what the Scala suites compare against (run by `make test-scala`):

  <out>/models/EfficientNetLite0/   the export, made by the real CLI (python -m sparkdl.models export)
  <out>/images/                     chelsea.png, coffee.png, camera_gray.png (real photos)
  <out>/shapes/{red,blue}/          a small labelled set for a Pipeline
  <out>/expected.json               Keras' features and top-5 predictions for images/, computed here
"""
import json
import os
import subprocess
import sys

import numpy as np


def main(out):
    import skimage.data as data
    from PIL import Image

    from sparkdl.models.efficientnet_lite0 import efficientnet_lite0, preprocess_input
    from tests.fixtures import write_shapes

    subprocess.check_call([sys.executable, "-m", "sparkdl.models", "export", "--model", "EfficientNetLite0",
                           "--out", os.path.join(out, "models")])
    images = os.path.join(out, "images")
    os.makedirs(images, exist_ok=True)
    arrays = {"chelsea.png": data.chelsea(), "coffee.png": data.coffee(), "camera_gray.png": data.camera()}
    for name, arr in arrays.items():
        Image.fromarray(arr).save(os.path.join(images, name))
    write_shapes(os.path.join(out, "shapes"), n_per_class=20, seed=3)

    import keras
    import tensorflow as tf

    model = efficientnet_lite0(weights="imagenet")
    features = keras.Model(model.inputs, model.get_layer("predictions").input)
    expected = {}
    for name, arr in arrays.items():
        rgb = np.repeat(arr[:, :, None], 3, axis=2) if arr.ndim == 2 else arr
        x = preprocess_input(tf.image.resize(rgb.astype(np.float32)[None], (224, 224), method="bilinear",
                                             antialias=False).numpy())
        probs = model.predict(x, verbose=0)[0]
        top = np.argsort(-probs, kind="stable")[:5]
        expected[name] = {"features": features.predict(x, verbose=0)[0].tolist(),
                          "topIndices": top.tolist(), "topProbabilities": probs[top].tolist()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    print("wrote", out)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    main(sys.argv[1])
