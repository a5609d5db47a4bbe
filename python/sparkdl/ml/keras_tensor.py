"""KerasTransformer: a saved Keras model over a 1-D array column, run in the JVM."""
from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.wrapper import JavaTransformer

from sparkdl.ml._base import SparkdlJavaStage

__all__ = ["KerasTransformer"]


class KerasTransformer(JavaTransformer, SparkdlJavaStage):
    """Applies a saved Keras model (``.keras``, or ``.h5`` where Keras 3 reads it) to a column.

    Each row of ``inputCol`` (``array<float>``, ``array<double>``, ``Vector``) is reshaped to
    the model's input shape; ``outputCol`` is ``array<float>``, as ``model.predict`` gives.
    The file is loaded here with Keras' ``safe_mode`` (models carrying Python ``Lambda`` code
    are refused unless ``allowUnsafeDeserialization=True``), frozen, and run in the JVM.
    ``kerasCustomObjects`` ({name: class}) resolves user-defined layers.

    >>> KerasTransformer(inputCol="features", outputCol="predictions", modelFile="/models/m.keras")  # doctest: +SKIP
    """

    inputCol = Param(Params._dummy(), "inputCol", "input column", typeConverter=TypeConverters.toString)
    outputCol = Param(Params._dummy(), "outputCol", "output column", typeConverter=TypeConverters.toString)
    modelFile = Param(Params._dummy(), "modelFile", "Keras model file (.keras or .h5)",
                      typeConverter=TypeConverters.toString)
    batchSize = Param(Params._dummy(), "batchSize", "rows fed to TensorFlow per run",
                      typeConverter=TypeConverters.toInt)

    @keyword_only
    def __init__(self, inputCol=None, outputCol=None, modelFile=None, batchSize=64, kerasCustomObjects=None,
                 allowUnsafeDeserialization=False):
        super(KerasTransformer, self).__init__()
        self._java_obj = self._new_stage()
        self._setDefault(batchSize=64)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, inputCol=None, outputCol=None, modelFile=None, batchSize=64, kerasCustomObjects=None,
                  allowUnsafeDeserialization=False):
        kwargs = dict(self._input_kwargs)
        custom = kwargs.pop("kerasCustomObjects", None)
        unsafe = kwargs.pop("allowUnsafeDeserialization", False)
        model_file = kwargs.pop("modelFile", None)
        if model_file is not None:
            self.setModelFile(model_file, kerasCustomObjects=custom, allowUnsafeDeserialization=unsafe)
        return self._set(**kwargs)

    def setModelFile(self, value, kerasCustomObjects=None, allowUnsafeDeserialization=False):
        """Loads the Keras file (safe mode), freezes it and hands the graph to the JVM stage."""
        from sparkdl.graph.export import freeze_keras
        from sparkdl.graph.keras_io import load_keras_model

        model = load_keras_model(value, kerasCustomObjects, allowUnsafeDeserialization)
        graph = freeze_keras(model)
        self._java_obj.setGraph(bytearray(graph.graph_def), graph.inputs, graph.outputs)
        return self._set(modelFile=value)

    def getModelFile(self):
        return self.getOrDefault(self.modelFile)

    def setInputCol(self, value):
        return self._set(inputCol=value)

    def getInputCol(self):
        return self.getOrDefault(self.inputCol)

    def setOutputCol(self, value):
        return self._set(outputCol=value)

    def getOutputCol(self):
        return self.getOrDefault(self.outputCol)

    def setBatchSize(self, value):
        return self._set(batchSize=value)

    def getBatchSize(self):
        return self.getOrDefault(self.batchSize)
