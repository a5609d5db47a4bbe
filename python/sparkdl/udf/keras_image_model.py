"""Registering Keras image models as Spark SQL functions over the image struct column.

The function runs in the JVM (TensorFlow Java), so it works from SQL, Scala, Python and
in Structured Streaming queries. Without a preprocessor it feeds the model what Keras
users feed it: RGB, float pixel values 0-255 (no scaling), the image resized bilinearly
(as ``tf.image.resize``) to the model's fixed input size, grayscale expanded to 3
channels, alpha dropped. A null image gives null.
"""
import numpy as np

__all__ = ["registerKerasImageUDF", "registerKerasUDF"]


def _keras_model(model_or_path, custom_objects=None, allow_unsafe=False):
    if isinstance(model_or_path, str):
        from sparkdl.graph.keras_io import load_keras_model

        return load_keras_model(model_or_path, custom_objects, allow_unsafe)
    return model_or_path


def registerKerasImageUDF(udfName, kerasModelOrFilePath, preprocessor=None, spark=None,
                          kerasCustomObjects=None, allowUnsafeDeserialization=False):
    """Registers ``udfName(image) -> array<float>``: the Keras model's output for each image.

    :param kerasModelOrFilePath: a Keras model, or a ``.keras`` / ``.h5`` file (loaded with
        ``safe_mode``; ``allowUnsafeDeserialization=True`` for trusted files with Lambda code)
    :param preprocessor: optional Python function taking the image as an RGB (or grayscale)
        uint8 numpy array H x W x C and returning the model's input (float array of the model's
        input shape). It runs in Python workers; the model still runs in the JVM.
    :return: the name, for use in SQL
    """
    from sparkdl._jvm import python_api
    from sparkdl._session import active_session, is_connect
    from sparkdl.graph.export import freeze_keras

    spark = spark or active_session("registerKerasImageUDF")
    if is_connect(spark):
        raise NotImplementedError("registerKerasImageUDF needs a classic SparkSession: registering SQL functions "
                                  "from a Spark Connect client is not supported yet")
    api = python_api()
    model = _keras_model(kerasModelOrFilePath, kerasCustomObjects, allowUnsafeDeserialization)
    graph = freeze_keras(model)
    if preprocessor is None:
        api.registerImageModel(spark._jsparkSession, udfName, bytearray(graph.graph_def), graph.inputs[0],
                      graph.outputs[0], "RGB")
        return udfName
    # Python preprocessing, then the model in the JVM, composed into one SQL function.
    from pyspark.sql.functions import udf
    from pyspark.sql.types import ArrayType, FloatType

    from sparkdl.image.imageIO import imageSchema, imageStructToArray

    shape = tuple(int(d) for d in model.inputs[0].shape[1:])

    def preprocess(image):
        if image is None:
            return None
        arr = imageStructToArray(image)
        arr = arr[:, :, [2, 1, 0]] if arr.shape[2] == 3 else (arr[:, :, [2, 1, 0, 3]] if arr.shape[2] == 4 else arr)
        out = np.asarray(preprocessor(arr), dtype=np.float32)
        if out.size != int(np.prod(shape)):
            raise ValueError("%s: preprocessor returned shape %s, the model takes %s" % (udfName, out.shape, shape))
        return out.ravel().tolist()

    pre_name, model_name = "__%s_preprocess" % udfName, "__%s_model" % udfName
    spark.udf.register(pre_name, udf(preprocess, ArrayType(FloatType())))
    api.registerTensorModel(spark._jsparkSession, model_name, bytearray(graph.graph_def), graph.inputs[0],
                             graph.outputs[0])
    spark.sql("CREATE OR REPLACE TEMPORARY FUNCTION %s(image %s) RETURNS ARRAY<FLOAT> RETURN %s(%s(image))"
              % (udfName, imageSchema.simpleString(), model_name, pre_name))
    return udfName


def registerKerasUDF(name, keras_model_file, spark=None, **kwargs):
    """The talk's spelling: ``registerKerasUDF("my_fn", keras_model_file="/models/007.h5")``."""
    return registerKerasImageUDF(name, keras_model_file, spark=spark, **kwargs)
