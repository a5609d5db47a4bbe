"""Deep Learning Pipelines for Apache Spark: TensorFlow models as Spark ML stages.

Importing sparkdl is cheap: TensorFlow is imported only by :mod:`sparkdl.graph`,
when a Keras model or a ``tf.function`` is exported.
"""
from sparkdl._jvm import jar_path, spark_session, SparkdlJarMissingError
from sparkdl.image.imageIO import readImages
from sparkdl.udf import registerKerasImageUDF, registerKerasUDF
from sparkdl.ml import KerasImageFileEstimator, KerasImageFileTransformer, KerasTransformer, DeepImageFeaturizer, DeepImagePredictor, TFImageTransformer, TFTransformer

__version__ = "0.1.0"

__all__ = ["jar_path", "spark_session", "SparkdlJarMissingError", "readImages", "KerasImageFileEstimator", "KerasImageFileTransformer", "KerasTransformer", "TFImageTransformer", "TFTransformer",
           "DeepImageFeaturizer", "DeepImagePredictor", "registerKerasImageUDF", "registerKerasUDF"]
