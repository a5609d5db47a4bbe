"""Spark ML stages; each wraps the Scala class of the same name in ``sparkdl.ml``."""
from sparkdl.ml.image_model import ImageModelTransformer
from sparkdl.ml.keras_image_estimator import KerasImageFileEstimator
from sparkdl.ml.keras_image_file import KerasImageFileTransformer
from sparkdl.ml.keras_tensor import KerasTransformer
from sparkdl.ml.named_image import DeepImageFeaturizer, DeepImagePredictor
from sparkdl.ml.onnx import ONNXTransformer, TensorModelTransformer
from sparkdl.ml.text import DeepTextFeaturizer
from sparkdl.ml.tf_image import TFImageTransformer
from sparkdl.ml.tf_tensor import TFTransformer
from sparkdl.ml.tokenizer import TextTokenizer

__all__ = [
    "ImageModelTransformer",
    "TensorModelTransformer",
    "KerasImageFileEstimator",
    "KerasImageFileTransformer",
    "KerasTransformer",
    "TFImageTransformer",
    "TFTransformer",
    "DeepImageFeaturizer",
    "DeepImagePredictor",
    "DeepTextFeaturizer",
    "ONNXTransformer",
    "TextTokenizer",
]

# Spark (pyspark's readers, classic and Spark Connect) finds a stage's JVM class from its Python
# class's module: the Scala stages live in package sparkdl.ml, so their wrappers say they do too.
for _stage in (ImageModelTransformer, TensorModelTransformer, KerasImageFileTransformer, KerasTransformer,
               TFImageTransformer, TFTransformer, DeepImageFeaturizer, DeepImagePredictor, DeepTextFeaturizer,
               ONNXTransformer, TextTokenizer):
    _stage.__module__ = "sparkdl.ml"
del _stage
