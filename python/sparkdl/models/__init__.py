"""Named pre-trained image models (InceptionV3, ResNet50, ..., EfficientNetLite0) and their export.

``python -m sparkdl.models export --model ResNet50 --out DIR`` writes what the Scala
transformers need (``modelDir``); from Python the export is automatic and cached.
"""
from sparkdl.models.export import WeightsUnavailableError, build_keras_model, cached_model_dir, export_model
from sparkdl.models.registry import MODELS, ModelSpec, get_spec, model_names

__all__ = ["MODELS", "ModelSpec", "get_spec", "model_names", "build_keras_model", "export_model",
           "cached_model_dir", "WeightsUnavailableError"]
