"""Writes what the Scala suites compare against (run by `make test-scala`):

  <out>/models/EfficientNetLite0/   the export, made by the real CLI (python -m sparkdl.models export), with its
                                    int8 form (--precision int8)
  <out>/images/                     chelsea.png, coffee.png, camera_gray.png (real photos)
  <out>/shapes/{red,blue}/          a small labelled set for a Pipeline
  <out>/expected.json               Keras' features and top-5 predictions for images/, computed here, and the int8
                                    form's features (ONNX Runtime Python on the same pixels)
  <out>/onnx/                       ONNX models (an MLP, one of model-local functions, one importing a custom
                                    domain) and expected.json: ONNX Runtime Python's outputs for the MLP
  <out>/tokenizers/                 tokenizer.json files of each family (fixtures.write_tokenizers), MiniLM's
                                    vocab.txt, and expected.json: Python tokenizers' ids for varied texts
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
    from tests.support.fixtures import write_shapes

    write_tokenizer_fixtures(os.path.join(out, "tokenizers"))
    write_onnx_fixtures(os.path.join(out, "onnx"))

    subprocess.check_call([sys.executable, "-m", "sparkdl.models", "export", "--model", "EfficientNetLite0",
                           "--out", os.path.join(out, "models"), "--precision", "int8"])
    images = os.path.join(out, "images")
    os.makedirs(images, exist_ok=True)
    arrays = {"chelsea.png": data.chelsea(), "coffee.png": data.coffee(), "camera_gray.png": data.camera()}
    for name, arr in arrays.items():
        Image.fromarray(arr).save(os.path.join(images, name))
    write_shapes(os.path.join(out, "shapes"), n_per_class=20, seed=3)

    import keras
    import onnxruntime as ort
    import tensorflow as tf

    model = efficientnet_lite0(weights="imagenet")
    features = keras.Model(model.inputs, model.get_layer("predictions").input)
    int8 = ort.InferenceSession(os.path.join(out, "models", "EfficientNetLite0", "model.int8.onnx"),
                                providers=["CPUExecutionProvider"])
    expected = {}
    for name, arr in arrays.items():
        rgb = np.repeat(arr[:, :, None], 3, axis=2) if arr.ndim == 2 else arr
        pixels = tf.image.resize(rgb.astype(np.float32)[None], (224, 224), method="bilinear",
                                 antialias=False).numpy()
        x = preprocess_input(pixels.copy())
        probs = model.predict(x, verbose=0)[0]
        top = np.argsort(-probs, kind="stable")[:5]
        expected[name] = {"features": features.predict(x, verbose=0)[0].tolist(),
                          "topIndices": top.tolist(), "topProbabilities": probs[top].tolist(),
                          "int8Features": int8.run(["features:0"], {"input:0": pixels})[0][0].tolist()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    print("wrote", out)


def write_onnx_fixtures(out):
    import onnxruntime as ort
    from onnx import TensorProto, helper, save

    from tests.support.fixtures import mlp, onnx_with_local_functions

    os.makedirs(out, exist_ok=True)
    path = mlp(os.path.join(out, "mlp.onnx"))
    x = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5) / 3
    y, s = ort.InferenceSession(path).run(["y", "s"], {"x": x})
    onnx_with_local_functions(os.path.join(out, "local_functions.onnx"),
                              {"Outer": ("Inner", "pkg.local"), "Inner": ("Relu", "")}, "Outer")
    graph = helper.make_graph([helper.make_node("Evil", ["x"], ["y"], domain="com.example.native")], "custom",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18),
                                                 helper.make_opsetid("com.example.native", 1)]),
         os.path.join(out, "custom_domain.onnx"))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"x": x.tolist(), "y": y.tolist(), "s": s.tolist()}, f)


#: texts that write special tokens literally (each tokenizer matches its own added tokens whole)
SPECIAL_LITERALS = ["hello [MASK] world", "[CLS][SEP]x[PAD]", "a[UNK]b [mask]", "<s>hi</s> <pad>", "[MASK]"]


def write_tokenizer_fixtures(out):
    """Each family's tokenizer.json, and the ids Python ``tokenizers`` gives for varied texts, with no
    truncation (beyond 512) and truncated at 16, no padding."""
    import shutil

    from tokenizers import Tokenizer

    from sparkdl.models.text import model_folder
    from tests.support.fixtures import varied_strings, write_tokenizers

    os.makedirs(out, exist_ok=True)
    files = write_tokenizers(out)
    shutil.copy(files["minilm"], os.path.join(out, "minilm.json"))
    shutil.copy(os.path.join(model_folder("all-MiniLM-L6-v2"), "vocab.txt"), os.path.join(out, "minilm-vocab.txt"))
    texts = varied_strings(n=400, seed=17) + [" ".join(varied_strings(n=80, seed=19))] + SPECIAL_LITERALS
    expected = {"texts": texts}
    for name, path in files.items():
        tok = Tokenizer.from_file(path)
        tok.no_padding()
        ids = {}
        for limit in (512, 16):
            tok.enable_truncation(limit)
            ids[str(limit)] = [e.ids for e in tok.encode_batch(texts)]
        expected[name] = ids
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main(sys.argv[1])
