"""Measures the TensorFlow op types that the graphs sparkdl exports use, and writes the allow-list the
JVM checks every graph against (scala/src/main/resources/sparkdl/tf/allowed-ops.txt): the named models
(every architecture, with random weights: the ops do not depend on them), the text encoder, Keras
layers of every common kind (convolutions, recurrent layers, attention, normalization, preprocessing,
activations) frozen as `sparkdl.graph.freeze_keras` freezes them, and `tf.function`s of everyday tensor
math. An op outside the list is refused unless named in `spark.sparkdl.graph.allowOps`.

Run: `.venv/bin/python tools/measure_tf_ops.py` (a few minutes; rerun when TensorFlow's version changes).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "scala", "src", "main", "resources", "sparkdl", "tf", "allowed-ops.txt")


# Everyday compute ops that tf.functions and TensorFlow 1 graphs use beside the measured ones (comparisons,
# elementwise math, reductions, shape ops, fused batch norm, control flow v2, function calls): pure
# tensor computations, listed by hand. Nothing here touches files, processes, Python or the network.
EVERYDAY_OPS = {
    "Add", "AddN", "All", "Any", "ArgMin", "BatchMatMul", "BatchMatMulV3", "BroadcastArgs", "BroadcastTo", "Ceil",
    "ClipByValue", "ConcatV2", "Concat", "Conv", "Conv1D", "DepthToSpace", "Div", "DivNoNan", "Equal", "Expm1",
    "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "FusedConv2DBiasActivation", "GatherNd",
    "GreaterEqual", "If", "Inv", "IsFinite", "IsNan", "L2Loss", "LessEqual", "Log", "LogicalNot", "LogicalOr",
    "MirrorPad", "MulNoNan", "NotEqual", "PadV2", "PartitionedCall", "Reciprocal", "Relu6", "ResizeBilinearGrad",
    "Rint", "Select", "Sign", "Size", "Slice", "Snapshot", "SpaceToDepth", "SplitV", "StatefulPartitionedCall",
    "StatelessIf", "StatelessWhile", "Tan", "TruncateDiv", "Unpack", "Where", "While", "Xdivy", "Xlogy", "ZerosLike",
    "Asin", "Acos", "Atan", "Atan2", "Cosh", "Sinh", "Asinh", "Acosh", "Atanh", "Softsign", "Selu", "Elu",
    "Relu", "BiasAddV1", "MaxPoolV2", "AvgPool3D", "Conv2DBackpropInputV2", "Conv3DBackpropInputV2",
    "DepthwiseConv2dNativeBackpropInput", "ResizeNearestNeighbor", "ShapeN", "Rank", "Bitcast", "CheckNumerics",
    "EnsureShape", "PreventGradient", "Reshape", "ScatterNd", "TensorScatterUpdate", "TensorScatterAdd",
    "UnsortedSegmentSum", "SegmentSum",
}


def op_types(graph_def_bytes):
    from tensorflow.core.framework import graph_pb2

    g = graph_pb2.GraphDef()
    g.ParseFromString(graph_def_bytes)
    ops = {n.op for n in g.node}
    for f in g.library.function:
        ops |= {n.op for n in f.node_def}
    return ops


def named_models():
    import tensorflow as tf

    from sparkdl.graph.export import freeze_function
    from sparkdl.models.export import features_model
    from sparkdl.models.registry import get_spec, load_symbol, model_names

    for name in model_names():
        spec = get_spec(name)
        model = load_symbol(spec.builder)(weights=None, include_top=True)
        features, preprocess = features_model(model), load_symbol(spec.preprocessor)

        def fn(x, model=model, features=features, preprocess=preprocess):
            pre = preprocess(x)
            return {"features": features(pre, training=False), "predictions": model(pre, training=False)}

        graph = freeze_function(fn, [tf.TensorSpec([None, spec.height, spec.width, 3], tf.float32, name="input")])
        yield name, graph.graph_def


def text_encoder():
    import tempfile

    from sparkdl.models.text import export_text_model

    with tempfile.TemporaryDirectory() as d:
        export = export_text_model("all-MiniLM-L6-v2", d)
        with open(os.path.join(export, "graph.pb"), "rb") as f:
            yield "all-MiniLM-L6-v2", f.read()


def keras_layers():
    import keras
    from keras import layers

    from sparkdl.graph.export import freeze_keras

    keras.utils.set_random_seed(0)
    image = keras.Input((32, 32, 3))
    x = layers.Rescaling(1 / 255.0)(image)
    x = layers.Normalization(mean=0.5, variance=0.25)(x)
    x = layers.Resizing(28, 28)(x)
    x = layers.CenterCrop(24, 24)(x)
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = layers.SeparableConv2D(8, 3, activation="swish")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="gelu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.AveragePooling2D(2)(x)
    x = layers.ZeroPadding2D(1)(x)
    x = layers.Cropping2D(1)(x)
    x = layers.UpSampling2D(interpolation="bilinear")(x)
    x = layers.LayerNormalization()(x)
    x = layers.GroupNormalization(groups=2)(x)
    x = layers.Dropout(0.2)(x)
    x = layers.SpatialDropout2D(0.1)(x)
    pooled = layers.GlobalAveragePooling2D()(x)
    pooled2 = layers.GlobalMaxPooling2D()(x)
    seq = layers.Reshape((-1, 8))(x)
    seq = layers.Conv1D(8, 3, padding="causal", activation="elu")(seq)
    seq = layers.MultiHeadAttention(num_heads=2, key_dim=4)(seq, seq)
    seq = layers.LSTM(8, return_sequences=True)(seq)
    seq = layers.GRU(8, return_sequences=True)(seq)
    seq = layers.Bidirectional(layers.SimpleRNN(4))(seq)
    merged = layers.Concatenate()([pooled, pooled2, seq])
    merged = layers.Dense(16, activation="tanh")(merged)
    merged = layers.Add()([merged, layers.Dense(16, activation="sigmoid")(merged)])
    merged = layers.Multiply()([merged, layers.Dense(16, activation="softplus")(merged)])
    merged = layers.Maximum()([merged, layers.Dense(16, activation="selu")(merged)])
    merged = layers.LeakyReLU()(merged)
    merged = layers.PReLU()(merged)
    out = layers.Dense(5, activation="softmax")(merged)
    yield "keras image layers", freeze_keras(keras.Model(image, out)).graph_def

    tokens = keras.Input((12,), dtype="int32")
    e = layers.Embedding(100, 8)(tokens)
    e = layers.Conv1D(8, 3, activation="relu")(e)
    e = layers.GlobalMaxPooling1D()(e)
    volume = keras.Input((8, 8, 8, 1))
    v = layers.Conv3D(4, 3, activation="relu")(volume)
    v = layers.MaxPooling3D(2)(v)
    v = layers.GlobalAveragePooling3D()(v)
    tab = keras.Input((6,))
    t = layers.Dense(8, activation="log_softmax")(tab)
    t = layers.UnitNormalization()(t)
    t = layers.Activation("hard_sigmoid")(t)
    joined = layers.Concatenate()([e, v, t, layers.Flatten()(layers.Permute((2, 1))(layers.RepeatVector(2)(t)))])
    yield "keras other layers", freeze_keras(keras.Model([tokens, volume, tab], layers.Dense(3)(joined))).graph_def


def tensor_math():
    import tensorflow as tf

    from sparkdl.graph.export import freeze_function

    def fn(x):
        y = tf.abs(x) + tf.sqrt(tf.square(x) + 1.0) - tf.exp(-x) * tf.math.log1p(tf.abs(x))
        y = tf.clip_by_value(y, -5.0, 5.0) / tf.maximum(tf.reduce_max(tf.abs(y), axis=1, keepdims=True), 1e-6)
        y = tf.concat([y, tf.reverse(y, [1]), tf.tile(y[:, :1], [1, 2])], axis=1)
        z = tf.matmul(y, tf.transpose(y)) + tf.linalg.band_part(tf.ones_like(tf.matmul(y, y, transpose_b=True)), 0, -1)
        idx = tf.argmax(z, axis=1)
        onehot = tf.one_hot(idx, depth=4)
        top = tf.math.top_k(y, k=2).values
        s = tf.reduce_sum(tf.gather(y, [0, 1], axis=1), axis=1, keepdims=True)
        m = tf.reduce_mean(tf.pow(y, 2.0), axis=1, keepdims=True) + tf.math.rsqrt(tf.reduce_min(z) ** 2 + 1.0)
        w = tf.where(y > 0, tf.sin(y), tf.cos(y)) * tf.tanh(y) + tf.sigmoid(y) + tf.nn.softmax(y) + tf.math.erf(y)
        w = tf.cast(tf.cast(w * 100.0, tf.int32), tf.float32) / 100.0 + tf.math.floor(w) + tf.math.round(w)
        w = tf.reshape(tf.expand_dims(w, -1), [-1, tf.shape(w)[1]]) + tf.stop_gradient(tf.squeeze(s, -1))[:, None]
        return tf.concat([w, top, s, m, onehot, tf.cumsum(y, axis=1), tf.math.floordiv(y, 2.0),
                          tf.math.mod(y, 2.0), tf.nn.relu(y) - tf.nn.l2_normalize(y, axis=1)], axis=1)

    yield "tensor math", freeze_function(fn, [tf.TensorSpec([None, 4], tf.float32, name="input")]).graph_def

    def image_fn(x):
        r = tf.image.resize(x, [16, 16], method="bilinear") + tf.image.resize(x, [16, 16], method="nearest")
        r = tf.image.resize(r, [12, 12], method="bicubic") + tf.image.resize(r, [12, 12], method="area")
        gray = tf.image.rgb_to_grayscale(tf.image.flip_left_right(r))
        return gray + tf.reduce_mean(tf.image.per_image_standardization(r))

    yield "image ops", freeze_function(image_fn, [tf.TensorSpec([None, 20, 20, 3], tf.float32, name="input")]).graph_def


def main():
    sys.path.insert(0, os.path.join(ROOT, "python"))
    measured = set()
    for source in (named_models, text_encoder, keras_layers, tensor_math):
        for name, graph_def in source():
            ops = op_types(graph_def)
            print("%-24s %3d ops" % (name, len(ops)), file=sys.stderr)
            measured |= ops
    measured |= EVERYDAY_OPS
    import tensorflow as tf

    with open(OUT, "w") as f:
        f.write("# TensorFlow op types a graph may use (tools/measure_tf_ops.py, TensorFlow %s): the ops of the\n"
                "# named models, the text encoder, Keras layers of every common kind and everyday tensor math\n"
                "# (measured), with the everyday compute ops listed in the script. Any other op is refused unless\n"
                "# allowed by the Spark conf spark.sparkdl.graph.allowOps.\n" % tf.__version__)
        f.write("\n".join(sorted(measured)) + "\n")
    print("%d op types -> %s" % (len(measured), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
