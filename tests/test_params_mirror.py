"""The Python wrappers mirror the Scala stages name for name: same params, same defaults."""
import pytest

from sparkdl import (
    DeepImageFeaturizer,
    DeepImagePredictor,
    DeepTextFeaturizer,
    KerasImageFileTransformer,
    KerasTransformer,
    ONNXTransformer,
    TextTokenizer,
    TFImageTransformer,
    TFTransformer,
)

STAGES = [DeepImageFeaturizer, DeepImagePredictor, DeepTextFeaturizer, KerasImageFileTransformer, KerasTransformer,
          ONNXTransformer, TextTokenizer, TFImageTransformer, TFTransformer]


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
