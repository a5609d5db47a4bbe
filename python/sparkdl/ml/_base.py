"""What every sparkdl pyspark.ml wrapper shares: JVM class naming and persistence."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union, cast

from pyspark.ml.util import JavaMLReadable, JavaMLWritable
from pyspark.ml.wrapper import JavaTransformer

from sparkdl._jvm import new_java_obj

if TYPE_CHECKING:
    from pyspark.ml._typing import ParamMap
    from pyspark.sql import DataFrame
    from typing_extensions import Self

#: The package of the Scala stages, and of their Python wrappers as Spark sees them.
JVM_PACKAGE = "sparkdl.ml"


class SparkdlJavaStage(JavaMLReadable["SparkdlJavaStage"], JavaMLWritable):
    """Mixin for wrappers of Scala stages in ``sparkdl.ml`` (same class name in both languages).

    Each wrapper's ``__module__`` is ``sparkdl.ml`` (set in ``sparkdl/ml/__init__.py``): pyspark's
    readers, classic and Spark Connect alike, derive the JVM class name from it.
    """

    # from the JavaParams class every stage mixes this into
    uid: str
    _java_obj: Any  # a py4j JavaObject; on Spark Connect, the JVM class name (str)

    @classmethod
    def _java_class_name(cls) -> str:
        return JVM_PACKAGE + "." + cls.__name__

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A public stage's docstring gets a section listing its params (``help(DeepImageFeaturizer)``)."""
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_") and cls.__doc__ and "\n    Params:" not in cls.__doc__:
            from pyspark.ml.param import Param

            params = sorted({p.name: p for p in (getattr(cls, a, None) for a in dir(cls))
                             if isinstance(p, Param)}.values(), key=lambda p: p.name)
            lines = ["    - ``%s``: %s" % (p.name, p.doc) for p in params]
            cls.__doc__ = cls.__doc__.rstrip() + "\n\n    Params:\n\n" + "\n".join(lines) + "\n"

    def _new_stage(self) -> Union[str, Any]:
        """The JVM stage: a py4j object in a classic session; on Spark Connect, the class name the
        server builds the stage from (with this uid and the params that are set)."""
        from pyspark.sql.utils import is_remote

        if is_remote():
            return self._java_class_name()
        return new_java_obj(self._java_class_name(), self.uid)

    @property
    def _on_connect(self) -> bool:
        """True for a stage of a Spark Connect session: its JVM stage is a class name the server builds."""
        return isinstance(self._java_obj, str)

    @classmethod
    def load(cls, path: str) -> Self:
        """Reads a saved stage (``cls.read().load(path)``): the jar attached to a classic session
        that lacks it, or a clear error for a Spark Connect server without it."""
        from pyspark.sql.utils import is_remote

        if not is_remote():  # a session started without the jar gets it here, as the constructors do
            from sparkdl._jvm import require_jar

            require_jar()
        try:
            return cast("Self", super(SparkdlJavaStage, cls).load(path))
        except Exception as e:
            _raise_if_server_lacks_jar(e, cls._java_class_name())
            raise


class SparkdlTransformer(JavaTransformer):
    """A transformer run by its Scala stage. On Spark Connect the result's schema is asked for at
    once, so errors surface at ``transform`` as in classic mode (a wrong tensor name, a server
    without the jar) instead of at the first action."""

    if TYPE_CHECKING:  # from SparkdlJavaStage, which every subclass mixes in too
        @classmethod
        def _java_class_name(cls) -> str: ...

    def transform(self, dataset: DataFrame, params: Optional[ParamMap] = None) -> DataFrame:
        """The stage's output column appended to ``dataset`` (a DataFrame: anything else is refused here,
        naming what was given, before any export or JVM call)."""
        if not hasattr(dataset, "sparkSession") or not hasattr(dataset, "schema"):
            hint = " (read files into one first: sparkdl.readImages(path))" if isinstance(dataset, str) else ""
            raise TypeError("%s.transform() takes a DataFrame, got %s%s" % (type(self).__name__,
                                                                          type(dataset).__name__, hint))
        return super(SparkdlTransformer, self).transform(dataset, params)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        result = super(SparkdlTransformer, self)._transform(dataset)
        if isinstance(self._java_obj, str):  # Spark Connect: the plan is analysed on the server
            try:
                _ = result.schema
            except Exception as e:
                _raise_if_server_lacks_jar(e, self._java_class_name())
                raise
        return result


def _raise_if_server_lacks_jar(error: BaseException, java_class: str) -> None:
    """Raises sparkdl's missing-jar error when ``error`` is the Connect server not knowing ``java_class``."""
    text = str(error)
    if "CONNECT_ML.UNSUPPORTED_EXCEPTION" in text and java_class in text:
        from sparkdl._session import active_session, missing_jar_error

        raise missing_jar_error(active_session("sparkdl"), error) from None
