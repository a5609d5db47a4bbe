"""The Python wrappers mirror the Scala stages name for name: same params, same defaults."""
import pytest

from sparkdl import (
    DeepImageFeaturizer,
    DeepImagePredictor,
    KerasImageFileTransformer,
    KerasTransformer,
    TFImageTransformer,
    TFTransformer,
)

STAGES = [DeepImageFeaturizer, DeepImagePredictor, KerasImageFileTransformer, KerasTransformer,
          TFImageTransformer, TFTransformer]


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
