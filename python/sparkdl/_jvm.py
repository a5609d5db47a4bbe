"""Where the sparkdl jar lives and how a SparkSession gets it.

Everything that runs models lives in the JVM (the assembly jar). This module finds
the jar, builds sessions with it attached, and gives a clear error when a session
lacks it.
"""
from __future__ import annotations

import glob
import os
import sys
from typing import TYPE_CHECKING, Any, Optional, Set, Tuple, Union, cast

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

__all__ = ["jar_path", "spark_session", "SparkdlJarMissingError"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_JAR_GLOB = "sparkdl-assembly-*.jar"


class SparkdlJarMissingError(RuntimeError):
    """The active SparkSession cannot see sparkdl's JVM classes."""


def jar_path() -> str:
    """Path of the sparkdl assembly jar, for ``spark-submit --jars`` or ``spark.jars``.

    Looks at ``$SPARKDL_JAR``, then the jar packaged inside this Python package, then
    the sbt build output of a source checkout.
    """
    env = os.environ.get("SPARKDL_JAR")
    if env:
        if not os.path.isfile(env):
            raise SparkdlJarMissingError("SPARKDL_JAR=%s does not exist" % env)
        return env
    candidates = sorted(glob.glob(os.path.join(_HERE, "jars", _JAR_GLOB)))
    root = os.path.dirname(os.path.dirname(_HERE))
    candidates += sorted(glob.glob(os.path.join(root, "target", "scala-2.13", _JAR_GLOB)))
    if not candidates:
        raise SparkdlJarMissingError(
            "The sparkdl assembly jar was not found (looked in %s and the sbt target folder). "
            "Build it with `make jar` in the source tree, or set SPARKDL_JAR to its path."
            % os.path.join(_HERE, "jars"))
    return candidates[-1]


def spark_session(master: str = "local[*]", app_name: str = "sparkdl", **conf: Any) -> SparkSession:
    """A SparkSession with the sparkdl jar on the driver and executor classpaths.

    Extra Spark settings go in ``conf``, e.g.
    ``spark_session("local[2]", **{"spark.sql.shuffle.partitions": "4"})``.
    If a session already runs in this process it is returned only when it has the jar.
    """
    from pyspark.sql import SparkSession

    jar = jar_path()
    builder = SparkSession.builder.master(master).appName(app_name)
    jars = [j for j in str(conf.pop("spark.jars", "")).split(",") if j]
    builder = builder.config("spark.jars", ",".join([jar] + jars))
    extra_cp = conf.pop("spark.driver.extraClassPath", None)
    builder = builder.config("spark.driver.extraClassPath", jar + (os.pathsep + extra_cp if extra_cp else ""))
    if "spark.pyspark.python" not in conf and not os.environ.get("PYSPARK_PYTHON"):
        # Python workers (user functions such as image loaders) run this interpreter, which
        # has sparkdl installed; Spark's default would be whatever `python3` is on the PATH.
        # PySpark reads the variable when the SparkContext starts; the conf reaches executors.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        conf["spark.pyspark.python"] = sys.executable
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    require_jar(spark.sparkContext)
    return spark


def require_jar(sc: Optional[SparkContext] = None) -> SparkContext:
    """The active SparkContext, with sparkdl's classes: a session started without the jar (a
    notebook's, or one created before sparkdl was imported) gets it attached here; where that
    is impossible, an error that says how to start Spark with it."""
    from pyspark import SparkContext

    sc = sc or SparkContext._active_spark_context
    if sc is None:
        raise SparkdlJarMissingError(
            "No active SparkSession. Create one with sparkdl.spark_session(master=...), "
            "which attaches the sparkdl jar.")
    if not _has_sparkdl(sc):
        cause = _attach_jar(sc)
        if not _has_sparkdl(sc):
            from pyspark.sql import SparkSession

            from sparkdl._session import missing_jar_error

            raise missing_jar_error(SparkSession._instantiatedSession, cause)
    return sc


def _has_sparkdl(sc: SparkContext) -> bool:
    try:
        loader = cast(Any, sc._jvm).java.lang.Thread.currentThread().getContextClassLoader()
        cast(Any, sc._jvm).java.lang.Class.forName("sparkdl.ml.TFImageTransformer", False, loader)
        return True
    except Exception:  # py4j raises Py4JJavaError wrapping ClassNotFoundException
        return False


_attached: Set[Tuple[str, str]] = set()  # (SparkContext id, jar) pairs attached by this process


def _attach_jar(sc: SparkContext) -> Optional[Union[str, SparkdlJarMissingError]]:
    """Adds the jar to a running session: to the driver's class loader (the
    ``MutableURLClassLoader`` that spark-submit, and so every pyspark driver, runs with) and to
    the executors (``SparkContext.addJar``). Returns why it could not, or None."""
    try:
        jar = jar_path()
    except SparkdlJarMissingError as e:
        return e
    jvm: Any = sc._jvm
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    mutable = jvm.java.lang.Class.forName("org.apache.spark.util.MutableURLClassLoader")
    if loader is None or not mutable.isInstance(loader):
        return "the driver's class loader (%s) cannot take jars at run time" % (
            None if loader is None else loader.getClass().getName())
    loader.addURL(jvm.java.io.File(jar).toURI().toURL())
    key = (sc._jsc.sc().applicationId(), jar)
    if key not in _attached:
        sc._jsc.sc().addJar(jar)
        _attached.add(key)
    print("sparkdl: attached %s to the running SparkSession (driver and executors)" % jar, file=sys.stderr)
    return None


def jvm() -> Any:
    """The py4j JVM view of the active session, checked to contain sparkdl."""
    return require_jar()._jvm


def python_api() -> Any:
    """The JVM's py4j-only entry points (Scala ``sparkdl.PythonAPI``), checked to be present."""
    return jvm().sparkdl.PythonAPI


def new_java_obj(class_name: str, *args: Any) -> Any:
    """Instantiates a sparkdl JVM class after checking the jar is present."""
    obj = jvm()
    for part in class_name.split("."):
        obj = getattr(obj, part)
    return obj(*args)
