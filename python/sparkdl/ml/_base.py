"""What every sparkdl pyspark.ml wrapper shares: JVM class naming and persistence."""
from pyspark.ml.util import JavaMLReadable, JavaMLReader, JavaMLWritable

from sparkdl._jvm import new_java_obj


class SparkdlMLReader(JavaMLReader):
    """Loads a Scala ``sparkdl.ml.X`` stage into the Python class ``sparkdl.ml.X``."""

    @classmethod
    def _java_loader_class(cls, clazz):
        return "sparkdl.ml." + clazz.__name__


class SparkdlMLReadable(JavaMLReadable):
    @classmethod
    def read(cls):
        return SparkdlMLReader(cls)


class SparkdlJavaStage(SparkdlMLReadable, JavaMLWritable):
    """Mixin for wrappers of Scala stages in ``sparkdl.ml`` (same class name in both languages)."""

    @classmethod
    def _java_class_name(cls):
        return "sparkdl.ml." + cls.__name__

    def _new_stage(self):
        return new_java_obj(self._java_class_name(), self.uid)
