"""Deep Learning Pipelines for Apache Spark: TensorFlow models as Spark ML stages.

Importing sparkdl is cheap: TensorFlow and Keras are imported only when a model is exported,
loaded from a Keras file or trained (by :mod:`sparkdl.graph`, :mod:`sparkdl.models`,
:mod:`sparkdl.training`, and inside the functions of the stages that take Keras models).

TensorFlow's C++ log (Python's and, through the environment, TensorFlow Java's in a driver
started from here) is quiet by default: ``TF_CPP_MIN_LOG_LEVEL=2`` unless already set, or
``SPARKDL_VERBOSE=1`` (which also shows Ivy's report when sparkdl resolves its Spark package).
"""
import os

if os.environ.get("SPARKDL_VERBOSE", "") in ("", "0"):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from sparkdl._jvm import SparkdlJarMissingError, jar_path, spark_session, submit_args  # noqa: E402
from sparkdl._version import DISTRIBUTION, __version__  # noqa: E402
from sparkdl.image.imageIO import readImages  # noqa: E402
from sparkdl.ml import (  # noqa: E402
    DeepImageFeaturizer,
    DeepImagePredictor,
    DeepTextFeaturizer,
    ImageModelTransformer,
    KerasImageFileEstimator,
    KerasImageFileTransformer,
    KerasTransformer,
    ONNXTransformer,
    TensorModelTransformer,
    TextTokenizer,
    TFImageTransformer,
    TFTransformer,
)
from sparkdl.udf import registerKerasImageUDF, registerKerasUDF  # noqa: E402

__all__ = ["jar_path", "spark_session", "submit_args", "SparkdlJarMissingError", "readImages",
           "ImageModelTransformer", "TensorModelTransformer",
           "KerasImageFileEstimator", "KerasImageFileTransformer", "KerasTransformer", "TFImageTransformer",
           "TFTransformer",
           "DeepImageFeaturizer", "DeepImagePredictor", "DeepTextFeaturizer", "ONNXTransformer", "TextTokenizer",
           "registerKerasImageUDF", "registerKerasUDF", "DISTRIBUTION", "__version__"]
