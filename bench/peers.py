"""The peers' side of `make bench` that runs in Spark's Python workers (shipped with addPyFile).

Each peer is measured at its best: the Keras model is built once per worker process (kept here
across UDFs, as a user's module-level cache would), and called through a ``tf.function``, not
``model.predict`` per batch (which pays a heavy per-call cost).
"""
import io

import numpy as np

_models = {}


def keras_features(name, weights):
    """The named model's featurizer cut as a tf.function, built once per process."""
    key = (name, weights)
    if key not in _models:
        import tensorflow as tf

        from sparkdl.models.export import features_model
        from sparkdl.models.registry import get_spec, load_symbol

        spec = get_spec(name)
        model = features_model(load_symbol(spec.builder)(weights=weights or "imagenet", include_top=True))
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        _models[key] = (fn, load_symbol(spec.preprocessor), spec.height)
    return _models[key]


def make_predict_fn(name, weights):
    """predict_batch_udf's factory: JPEG bytes -> Pillow decode + bilinear resize -> the model."""
    def make():
        from PIL import Image

        fn, preprocess, size = keras_features(name, weights)

        def predict(contents):
            batch = np.stack([np.asarray(Image.open(io.BytesIO(c)).convert("RGB").resize(
                (size, size), Image.BILINEAR), np.float32) for c in contents])
            return fn(preprocess(batch)).numpy()
        return predict
    return make
