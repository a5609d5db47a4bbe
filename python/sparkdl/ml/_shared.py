"""Params shared by the sparkdl wrappers: one mixin per param, mirroring the Scala traits of
``sparkdl/ml/SharedParams.scala`` name for name (``HasInputCol`` <-> ``trait HasInputCol``).
Stage-specific defaults are set by the stage, as in Scala."""
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlJavaStage

__all__ = ["accessors", "HasInputCol", "HasOutputCol", "HasBatchSize", "HasHandleInvalid", "HasOutputMode",
           "HasModelFile", "HasFrozenGraph"]


def _capitalized(name):
    return name[0].upper() + name[1:]


def accessors(name):
    """``(getX, setX)`` for the param ``name``: the Python side of a Scala param's getter and setter."""

    def getter(self):
        return self.getOrDefault(getattr(self, name))

    def setter(self, value):
        return self._set(**{name: value})

    getter.__name__, setter.__name__ = "get" + _capitalized(name), "set" + _capitalized(name)
    getter.__doc__ = "Gets the value of %s or its default value." % name
    setter.__doc__ = "Sets the value of :py:attr:`%s`." % name
    return getter, setter


def _mixin(name, doc, converter, default=None):
    """The mixin ``HasX`` holding param ``name`` with ``getX``/``setX`` (and Scala's default, if it has one)."""
    getter, setter = accessors(name)
    body = {name: Param(Params._dummy(), name, doc, typeConverter=converter),
            getter.__name__: getter, setter.__name__: setter, "__doc__": "Mixin for param %s: %s." % (name, doc)}
    cls = type("Has" + _capitalized(name), (Params,), body)
    if default is not None:
        def __init__(self, *args, **kwargs):
            super(cls, self).__init__(*args, **kwargs)
            self._setDefault(**{name: default})

        cls.__init__ = __init__
    return cls


HasInputCol = _mixin("inputCol", "input column name", TypeConverters.toString)
HasOutputCol = _mixin("outputCol", "output column name", TypeConverters.toString)
HasBatchSize = _mixin("batchSize", "rows fed to the model per run; memory per task is bounded by one batch",
                      TypeConverters.toInt)
HasHandleInvalid = _mixin("handleInvalid", "what to do with an image the model cannot take: error, keep (null) or "
                          "skip (drop the row)", TypeConverters.toString, default="error")
HasOutputMode = _mixin("outputMode", "output column type: vector (MLlib DenseVector) or array (array<float>)",
                       TypeConverters.toString, default="vector")
HasModelFile = _mixin("modelFile", "the Keras model file (.keras or .h5) the graph was frozen from",
                      TypeConverters.toString)


class HasFrozenGraph(SparkdlJavaStage):
    """The frozen graph lives on the JVM stage only (it can be large): set it, read it back."""

    def setGraph(self, graph):
        """Sets the graph: a :class:`sparkdl.graph.FrozenGraph` or a Keras model (frozen here)."""
        from sparkdl._jvm import python_api
        from sparkdl.graph.frozen import FrozenGraph

        if not isinstance(graph, FrozenGraph):
            from sparkdl.graph.export import freeze_keras

            graph = freeze_keras(graph)
        python_api().setGraph(self._java_obj, bytearray(graph.graph_def), graph.inputs, graph.outputs)
        return self

    def getGraph(self):
        """The :class:`sparkdl.graph.FrozenGraph` this stage runs."""
        from sparkdl.graph.frozen import FrozenGraph

        return FrozenGraph._from_java(self._java_obj.getGraph())

    def _set_keras_file(self, model_file, custom_objects, allow_unsafe):
        """Loads a Keras file (safe mode), freezes it, records the file name."""
        from sparkdl.graph.keras_io import load_keras_model

        self.setGraph(load_keras_model(model_file, custom_objects, allow_unsafe))
        return self._set(modelFile=model_file)
