"""What every sparkdl pyspark.ml wrapper shares: JVM class naming and persistence."""
from pyspark.ml.util import JavaMLReadable, JavaMLWritable

from sparkdl._jvm import new_java_obj

#: The package of the Scala stages, and of their Python wrappers as Spark sees them.
JVM_PACKAGE = "sparkdl.ml"


class SparkdlJavaStage(JavaMLReadable, JavaMLWritable):
    """Mixin for wrappers of Scala stages in ``sparkdl.ml`` (same class name in both languages).

    Each wrapper's ``__module__`` is ``sparkdl.ml`` (set in ``sparkdl/ml/__init__.py``): pyspark's
    readers, classic and Spark Connect alike, derive the JVM class name from it.
    """

    @classmethod
    def _java_class_name(cls):
        return JVM_PACKAGE + "." + cls.__name__

    def _new_stage(self):
        """The JVM stage: a py4j object in a classic session; on Spark Connect, the class name the
        server builds the stage from (with this uid and the params that are set)."""
        from pyspark.sql.utils import is_remote

        if is_remote():
            return self._java_class_name()
        return new_java_obj(self._java_class_name(), self.uid)

    @property
    def _on_connect(self):
        """True for a stage of a Spark Connect session: its JVM stage is a class name the server builds."""
        return isinstance(self._java_obj, str)
