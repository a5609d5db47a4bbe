"""The Python wrappers mirror the Scala stages name for name: same params, same defaults."""
import pytest

import sparkdl
from sparkdl import DeepImageFeaturizer, DeepImagePredictor, TFImageTransformer
from sparkdl.ml._base import SparkdlJavaStage

#: every public stage the JVM runs (a new one is mirrored the day it is exported)
STAGES = sorted((c for c in (getattr(sparkdl, n) for n in sparkdl.__all__)
                 if isinstance(c, type) and issubclass(c, SparkdlJavaStage)), key=lambda c: c.__name__)


def test_the_stage_list_is_the_packages():
    assert [c.__name__ for c in STAGES] == [
        "DeepImageFeaturizer", "DeepImagePredictor", "DeepTextFeaturizer", "ImageModelTransformer",
        "KerasImageFileTransformer", "KerasTransformer", "ONNXTransformer", "TFImageTransformer", "TFTransformer",
        "TensorModelTransformer", "TextTokenizer"]


@pytest.mark.parametrize("cls", STAGES, ids=lambda c: c.__name__)
def test_python_params_and_defaults_equal_the_jvm_stage(spark, cls):
    stage = cls()
    jstage = stage._java_obj
    jvm_params = {p.name(): p for p in jstage.params()}
    py_params = {p.name: p for p in stage.params}
    # the frozen graph lives on the JVM stage only (set through setGraph), never as a Python param
    assert set(jvm_params) - set(py_params) <= {"graph"}
    assert set(py_params) <= set(jvm_params), "Python params the Scala stage lacks: %s" % (
        set(py_params) - set(jvm_params))
    for name, param in py_params.items():
        jparam = jvm_params[name]
        assert stage.hasDefault(param) == jstage.hasDefault(jparam), name
        if stage.hasDefault(param):
            assert stage.getOrDefault(param) == jstage.getDefault(jparam).get(), name


def test_params_are_checked_when_set_and_the_error_lists_the_valid_values(spark):
    from sparkdl import TFTransformer

    cases = [
        (lambda: DeepImageFeaturizer(modelName="resnet50"),
         "Unknown modelName 'resnet50' (did you mean 'ResNet50'?). Valid names: InceptionV3, Xception"),
        (lambda: DeepImagePredictor(modelName="ResNet50", topK=0), "topK must be in [1, 1000], got 0"),
        (lambda: TFImageTransformer(handleInvalid="drop"), "handleInvalid 'drop' is not valid. Valid values: "
                                                           "error, keep, skip"),
        (lambda: TFImageTransformer(outputMode="list"), "outputMode 'list' is not valid. Valid values: vector, array"),
        (lambda: TFImageTransformer(channelOrder="rgb"), "(did you mean 'RGB'?)"),
        (lambda: TFTransformer(batchSize=-1), "batchSize must be >= 0, got -1"),
        (lambda: DeepImageFeaturizer().setModelName("VGG"), "Unknown modelName 'VGG'. Valid names:"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError) as e:
            make()
        assert message in str(e.value)


def test_explain_params_lists_the_model_names(spark):
    text = DeepImageFeaturizer().explainParams()
    assert "modelName: pre-trained model, one of InceptionV3, Xception, ResNet50" in text
    assert "EfficientNetLite0" in text


def test_the_export_contract_is_the_same_in_both_languages(spark):
    """The confs, files, model.json keys and values that Python's exports and the JVM's readers agree on:
    declared once per language (Python's sparkdl.models.contract, Scala's ExportFolder), and equal."""
    from sparkdl._jvm import python_api
    from sparkdl.models.contract import contract

    jvm = dict(python_api().exportContract())
    assert contract() == jvm
    assert {"Conf.ModelDir", "Files.ModelJson", "Key.InputTensor", "Kind.Text", "Engine.Onnx"} <= set(jvm)


def _literals(folder, suffix, pattern):
    import os
    import re

    found = []
    for root, _, files in os.walk(folder):
        for name in (f for f in files if f.endswith(suffix)):
            with open(os.path.join(root, name)) as f:
                found += re.findall(pattern, f.read())
    return found


def test_each_spark_conf_is_declared_once_per_language_and_python_reads_only_the_jvms():
    """Every `spark.sparkdl.*` conf name is written once in each language's sources (a constant used
    everywhere else), and each one Python reads is one the JVM reads too, except the one that only
    concerns Python objects (unpickling a saved Python function)."""
    import collections
    import os

    from tests.support.fixtures import ROOT

    pattern = r"\"(spark\.sparkdl\.[A-Za-z.]+)\""
    python = collections.Counter(_literals(os.path.join(ROOT, "python", "sparkdl"), ".py", pattern))
    scala = collections.Counter(_literals(os.path.join(ROOT, "scala", "src", "main"), ".scala", pattern))
    assert [c for c, n in python.items() if n > 1] == [] and [c for c, n in scala.items() if n > 1] == []
    assert set(python) - set(scala) == {"spark.sparkdl.allowUnsafeDeserialization"}
