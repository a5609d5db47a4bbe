"""The peers' side of `make bench` that runs in Spark's Python workers (shipped with addPyFile).

Each peer is measured at its best: the Keras model is built once per worker process (kept here
across UDFs, as a user's module-level cache would), and called through a ``tf.function``, not
``model.predict`` per batch (which pays a heavy per-call cost).
"""
import io

import numpy as np

_models = {}


def _model_of(key):
    """The model an entry was built for: a Keras model's name, the folder of an ONNX file (an export's folder,
    which a text encoder's entry names too)."""
    import os

    return os.path.dirname(key[1]) if key[0] == "onnx" else key[1]


def forget(path):
    """Drops the sessions built for the ONNX file ``path``."""
    for key in [k for k in _models if k[:2] == ("onnx", path)]:
        del _models[key]


def _keep_only(model):
    """Drops what was built for other models (a worker serves every model of the run in turn: keeping all of
    them, ResNet50's included, took the machine out of memory), keeping every setting of ``model``."""
    for key in [k for k in _models if _model_of(k) != model]:
        del _models[key]


def keras_features(name, weights):
    """The named model's featurizer cut as a tf.function, built once per process."""
    key = ("keras", name, weights)
    if key not in _models:
        _keep_only(_model_of(key))
        import tensorflow as tf

        from sparkdl.models.export import features_model
        from sparkdl.models.registry import get_spec, load_symbol

        spec = get_spec(name)
        model = features_model(load_symbol(spec.builder)(weights=weights or "imagenet", include_top=True))
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        _models[key] = (fn, load_symbol(spec.preprocessor), spec.height)
    return _models[key]


def pillow_batch(contents, size):
    """JPEG bytes -> Pillow decode + bilinear resize to size x size: a float32 NHWC RGB batch, 0-255."""
    from PIL import Image

    return np.stack([np.asarray(Image.open(io.BytesIO(c)).convert("RGB").resize((size, size), Image.BILINEAR),
                                np.float32) for c in contents])


def make_predict_fn(name, weights):
    """predict_batch_udf's factory: JPEG bytes -> Pillow decode + bilinear resize -> the model."""
    def make():
        fn, preprocess, size = keras_features(name, weights)

        def predict(contents):
            return fn(preprocess(pillow_batch(contents, size))).numpy()
        return predict
    return make


def onnx_session(path, threads=0):
    """An ONNX Runtime session for `path` with `threads` threads per op (0: the engine's default, all
    cores), built once per process."""
    key = ("onnx", path, threads)
    if key not in _models:
        _keep_only(_model_of(key))
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        _models[key] = ort.InferenceSession(path, options)
    return _models[key]


def make_onnx_image_predict_fn(path, size, threads=1):
    """predict_batch_udf's factory: JPEG bytes -> Pillow decode + bilinear resize -> an ONNX image model
    (raw 0-255 pixels in, NHWC) in ONNX Runtime, one session per worker process."""
    def make():
        session = onnx_session(path, threads)
        name = session.get_inputs()[0].name

        def predict(contents):
            return session.run(None, {name: pillow_batch(contents, size)})[0]
        return predict
    return make


def text_encoder(export_dir, threads=0):
    """The exported sentence encoder as a function of (ids, mask) NumPy arrays, run as the export says
    (a pruned TensorFlow graph, or an ONNX Runtime session), with `threads` threads per op (0: the
    engine's default, all cores), and Hugging Face's tokenizer for it (Rust, batch-parallel),
    truncating as the export says; built once per process."""
    key = ("text", export_dir, threads)
    if key not in _models:
        _keep_only(_model_of(key))
        import json
        import os

        from tokenizers import Tokenizer

        meta = json.load(open(os.path.join(export_dir, "model.json")))
        if meta.get("engine") == "onnx":
            session = onnx_session(os.path.join(export_dir, "model.onnx"), threads)
            type_ids = meta.get("tokenTypeIdsTensor")

            def fn(ids, mask):
                feeds = {meta["inputIdsTensor"]: ids.astype(np.int64),
                         meta["attentionMaskTensor"]: mask.astype(np.int64)}
                if type_ids:
                    feeds[type_ids] = np.zeros_like(feeds[meta["inputIdsTensor"]])
                return session.run([meta["embeddingTensor"]], feeds)[0]
        else:
            import tensorflow as tf

            graph = tf.Graph()
            with graph.as_default():
                graph_def = tf.compat.v1.GraphDef.FromString(open(os.path.join(export_dir, "graph.pb"), "rb").read())
                tf.compat.v1.import_graph_def(graph_def, name="")
            # a session of its own threads (per-session pools: the process may hold other sessions)
            config = tf.compat.v1.ConfigProto(use_per_session_threads=True, intra_op_parallelism_threads=threads,
                                              inter_op_parallelism_threads=1 if threads else 0)
            session = tf.compat.v1.Session(graph=graph, config=config)
            out = graph.get_tensor_by_name(meta["embeddingTensor"])
            ids_t = graph.get_tensor_by_name(meta["inputIdsTensor"])
            mask_t = graph.get_tensor_by_name(meta["attentionMaskTensor"])

            def fn(ids, mask):
                return session.run(out, {ids_t: ids, mask_t: mask})
        folder = meta.get("tokenizerSource") or meta["source"]  # ONNX exports: source is the model.onnx
        tokenizer = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=int(meta["maxLength"]))
        _models[key] = (fn, tokenizer)
    return _models[key]


def embed(fn, tokenizer, texts):
    """One batch: tokenized together, padded to its own longest text, through the encoder."""
    encodings = tokenizer.encode_batch(list(texts))
    longest = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), longest), np.int32)
    mask = np.zeros((len(encodings), longest), np.int32)
    for i, e in enumerate(encodings):
        ids[i, :len(e.ids)] = e.ids
        mask[i, :len(e.ids)] = 1
    return fn(ids, mask)


def make_text_predict_fn(export_dir, threads=1):
    """predict_batch_udf's factory: a batch of strings -> the encoder's embeddings. One thread per op by
    default: Spark runs one worker per core, so workers with all cores each would fight over them."""
    def make():
        fn, tokenizer = text_encoder(export_dir, threads)
        return lambda texts: embed(fn, tokenizer, texts)
    return make
