"""Registering Keras image models as Spark SQL functions over an image struct or an encoded-bytes column.

The function runs in the JVM (TensorFlow Java), so it works from SQL, Scala, Python and
in Structured Streaming queries. Without a preprocessor it feeds the model what Keras
users feed it: RGB, float pixel values 0-255 (no scaling), the image resized bilinearly
(as ``tf.image.resize``) to the model's fixed input size, grayscale expanded to 3
channels, alpha dropped. A null image gives null.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Union, cast

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt
    from pyspark.sql import Row, SparkSession
    from pyspark.sql._typing import UserDefinedFunctionLike
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession

    from sparkdl.graph.frozen import FrozenGraph

__all__ = ["registerKerasImageUDF", "registerKerasUDF"]

#: the SQL parameter type of a registered function, by ``inputType``
_INPUT_TYPES = {"image": "STRUCT<origin: STRING, height: INT, width: INT, nChannels: INT, mode: INT, data: BINARY>",
                "bytes": "BINARY"}


def _keras_model(model_or_path: Any, custom_objects: Optional[Dict[str, Any]] = None,
                 allow_unsafe: bool = False) -> Any:
    if isinstance(model_or_path, str):
        from sparkdl.graph.keras_io import load_keras_model

        return load_keras_model(model_or_path, custom_objects, allow_unsafe)
    return model_or_path


def registerKerasImageUDF(udfName: str, kerasModelOrFilePath: Any,
                          preprocessor: Optional[Callable[[npt.NDArray[np.uint8]], Any]] = None,
                          spark: Optional[SparkSession] = None, kerasCustomObjects: Optional[Dict[str, Any]] = None,
                          allowUnsafeDeserialization: bool = False, inputType: str = "image") -> str:
    """Registers ``udfName(image) -> array<float>``: the Keras model's output for each image.

    :param kerasModelOrFilePath: a Keras model, or a ``.keras`` / ``.h5`` file (loaded with
        ``safe_mode``; ``allowUnsafeDeserialization=True`` for trusted files with Lambda code)
    :param preprocessor: optional Python function taking the image as an RGB (or grayscale)
        uint8 numpy array H x W x C and returning the model's input (float array of the model's
        input shape). It runs in Python workers; the model still runs in the JVM.
    :param inputType: what the function takes (a SQL function has one parameter type): ``"image"``
        (default), Spark's image struct; ``"bytes"``, encoded image files (``binary``, as ``binaryFile``'s
        ``content`` or a Hugging Face Image column's ``bytes``), decoded in the model's batch loop as
        ``readImages`` decodes files (a file that does not decode fails the query, unless the Spark
        conf ``spark.sparkdl.sql.handleInvalid`` is ``keep``: null)
    :return: the name, for use in SQL
    """
    if inputType not in _INPUT_TYPES:
        raise ValueError("registerKerasImageUDF: inputType must be one of %s, got %r"
                         % (", ".join(sorted(_INPUT_TYPES)), inputType))
    from sparkdl._session import is_connect, sparkdl_session
    from sparkdl.graph.export import freeze_keras

    spark = sparkdl_session("registerKerasImageUDF", spark)
    model = _keras_model(kerasModelOrFilePath, kerasCustomObjects, allowUnsafeDeserialization)
    graph = freeze_keras(model)
    shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    pre_name = None
    if preprocessor is not None:
        # Python preprocessing, then the model in the JVM, composed into one SQL function.
        pre_name = "__%s_preprocess" % udfName
        spark.udf.register(pre_name, _preprocess_udf(udfName, preprocessor, shape))
    if is_connect(spark):
        _register_on_connect(spark, udfName, graph, pre_name, inputType)
        return udfName
    from sparkdl._jvm import python_api
    from sparkdl.graph.artifacts import graph_name

    api = python_api()
    # a session started before the jar was attached gets sparkdl's functions and planning now
    api.installSql(spark._jsparkSession)
    # the graph registered in the driver by name, the function over the built-in (batched) ones
    name = graph_name(graph)
    api.registerGraph(name, bytearray(graph.graph_def), graph.inputs, graph.outputs)
    _create_function(spark, udfName, _body(name, pre_name, inputType), inputType)
    return udfName


def _register_on_connect(spark: ConnectSparkSession, name: str, graph: FrozenGraph, pre_name: Optional[str],
                         input_type: str) -> None:
    """On Spark Connect: the graph travels as an artifact, and the function is a temporary SQL
    function over sparkdl's built-in ones (the server must have started with the jar)."""
    from sparkdl._session import is_missing_sparkdl_function, missing_jar_error
    from sparkdl.graph.artifacts import upload_graph

    try:
        _create_function(spark, name, _body(upload_graph(spark, graph), pre_name, input_type), input_type)
    except Exception as e:
        if is_missing_sparkdl_function(e):
            raise missing_jar_error(spark, e) from None
        raise


def _body(graph: str, pre_name: Optional[str], input_type: str) -> str:
    """The SQL function's body: the built-in function over the image, or over the preprocessor's output
    (which takes image structs: bytes are decoded for it first)."""
    graph = graph.replace("'", "")
    if pre_name is None:
        return "sparkdl_predict('%s', image)" % graph
    image = "sparkdl_decode_image(image).image" if input_type == "bytes" else "image"
    return "sparkdl_tensor('%s', %s(%s))" % (graph, pre_name, image)


def _create_function(spark: Union[SparkSession, ConnectSparkSession], name: str, body: str, input_type: str) -> None:
    spark.sql("CREATE OR REPLACE TEMPORARY FUNCTION %s(image %s) RETURNS ARRAY<FLOAT> RETURN %s"
              % (name, _INPUT_TYPES[input_type], body))


def _preprocess_udf(name: str, preprocessor: Callable[[npt.NDArray[np.uint8]], Any],
                    shape: Tuple[int, ...]) -> UserDefinedFunctionLike:
    """A Python UDF: image struct -> the preprocessor's output (the model's input), flattened."""
    from pyspark.sql.functions import udf
    from pyspark.sql.types import ArrayType, FloatType

    from sparkdl.image.imageIO import imageStructToArray

    def preprocess(image: Optional[Row]) -> Optional[List[float]]:
        if image is None:
            return None
        arr = imageStructToArray(image)
        arr = arr[:, :, [2, 1, 0]] if arr.shape[2] == 3 else (arr[:, :, [2, 1, 0, 3]] if arr.shape[2] == 4 else arr)
        out = np.asarray(preprocessor(arr), dtype=np.float32)
        if out.size != int(np.prod(shape)):
            raise ValueError("%s: preprocessor returned shape %s, the model takes %s" % (name, out.shape, shape))
        return cast(List[float], out.ravel().tolist())

    # not Arrow-optimized: an Arrow Python UDF fails on a UDT column (e.g. a Vector) beside its input
    return udf(preprocess, ArrayType(FloatType()), useArrow=False)


def registerKerasUDF(name: str, keras_model_file: Any, spark: Optional[SparkSession] = None, **kwargs: Any) -> str:
    """The talk's spelling: ``registerKerasUDF("my_fn", keras_model_file="/models/007.h5")``."""
    return registerKerasImageUDF(name, keras_model_file, spark=spark, **kwargs)
