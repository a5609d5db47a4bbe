"""Params shared by the sparkdl wrappers (each mirrors a Scala param of the same name)."""
from pyspark.ml.param import Param, Params, TypeConverters

from sparkdl.ml._base import SparkdlJavaStage


class HasInputCol(Params):
    inputCol = Param(Params._dummy(), "inputCol", "input column", typeConverter=TypeConverters.toString)

    def setInputCol(self, value):
        return self._set(inputCol=value)

    def getInputCol(self):
        return self.getOrDefault(self.inputCol)


class HasOutputCol(Params):
    outputCol = Param(Params._dummy(), "outputCol", "output column", typeConverter=TypeConverters.toString)

    def setOutputCol(self, value):
        return self._set(outputCol=value)

    def getOutputCol(self):
        return self.getOrDefault(self.outputCol)


class HasBatchSize(Params):
    batchSize = Param(Params._dummy(), "batchSize", "rows fed to TensorFlow per run",
                      typeConverter=TypeConverters.toInt)

    def setBatchSize(self, value):
        return self._set(batchSize=value)

    def getBatchSize(self):
        return self.getOrDefault(self.batchSize)


class HasHandleInvalid(Params):
    handleInvalid = Param(Params._dummy(), "handleInvalid",
                          "what to do with an image the model cannot take: error, keep (null) or skip",
                          typeConverter=TypeConverters.toString)

    def setHandleInvalid(self, value):
        return self._set(handleInvalid=value)

    def getHandleInvalid(self):
        return self.getOrDefault(self.handleInvalid)


class HasModelFile(Params):
    modelFile = Param(Params._dummy(), "modelFile", "Keras model file (.keras or .h5)",
                      typeConverter=TypeConverters.toString)

    def getModelFile(self):
        return self.getOrDefault(self.modelFile)


class HasFrozenGraph(SparkdlJavaStage):
    """The frozen graph lives on the JVM stage only (it can be large): set it, read it back."""

    def setGraph(self, graph):
        """Sets the graph: a :class:`sparkdl.graph.FrozenGraph` or a Keras model (frozen here)."""
        from sparkdl.graph.frozen import FrozenGraph

        if not isinstance(graph, FrozenGraph):
            from sparkdl.graph.export import freeze_keras

            graph = freeze_keras(graph)
        self._java_obj.setGraph(bytearray(graph.graph_def), graph.inputs, graph.outputs)
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
