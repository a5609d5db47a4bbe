"""The one place that decides how sparkdl talks to a SparkSession.

A *classic* session has a driver JVM reachable through py4j (``spark._jvm``); a *Spark
Connect* session (``SparkSession.builder.remote(...)``) has no JVM in this process at all:
everything goes through DataFrame plans, data sources and SQL, which the server's JVM
runs with the sparkdl jar. Code that needs py4j asks :func:`is_connect` first.
"""
from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any, Optional, Union, cast

from sparkdl._jvm import SparkdlJarMissingError, require_jar, submit_args

if TYPE_CHECKING:
    from typing import TypeGuard

    from pyspark.sql import SparkSession
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession

__all__ = ["active_session", "is_connect", "is_missing_data_source", "is_missing_sparkdl_function",
           "missing_jar_error", "sparkdl_session"]


def is_connect(spark: Optional[Union[SparkSession, ConnectSparkSession]]) -> TypeGuard[ConnectSparkSession]:
    """True when ``spark`` is a Spark Connect session (no JVM in this process)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def active_session(what: str) -> SparkSession:
    """The SparkSession of this thread (else of this process), classic or Connect, or a clear error."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        spark = getattr(SparkSession, "_instantiatedSession", None)
    if spark is None:
        raise SparkdlJarMissingError("%s needs a SparkSession: create one with sparkdl.spark_session(), or "
                                     "SparkSession.builder.remote(...) for a Spark Connect server" % what)
    return spark


def sparkdl_session(what: str, spark: Optional[SparkSession] = None) -> SparkSession:
    """The session a public entry point works on (``spark``, else the active one), with sparkdl in its
    JVM: the guard every entry point calls first. A classic session that started without sparkdl (a
    notebook's ``getOrCreate()``, ``spark-submit app.py`` without sparkdl's arguments) gets it attached
    here, with its SQL functions; a Spark Connect session is left as it is (its server has sparkdl or
    not: the calls that reach it say which)."""
    session = spark or active_session(what)
    if not is_connect(session):
        sc = require_jar(session.sparkContext)
        # a session that started without the jar gets sparkdl's SQL functions and planning (a no-op otherwise)
        cast(Any, sc._jvm).sparkdl.PythonAPI.installSql(cast(Any, session)._jsparkSession)
    return session


def missing_jar_error(spark: Optional[Union[SparkSession, ConnectSparkSession]],
                      cause: Optional[Union[BaseException, str]] = None) -> SparkdlJarMissingError:
    """The error for a session whose JVM (local driver or Connect server) lacks sparkdl: it gives the
    arguments that start Spark with it (``--jars`` for an assembly, ``--packages`` for a wheel install)."""
    try:
        args = " ".join(shlex.quote(a) for a in submit_args())
    except SparkdlJarMissingError:
        args = "--jars <path to sparkdl-assembly jar>"
    if is_connect(spark):
        message = (
            "The Spark Connect server does not have sparkdl on its classpath. Start the server with it: "
            "spark-submit --class org.apache.spark.sql.connect.service.SparkConnectServer %s spark-internal "
            "(`python -m sparkdl submit-args` prints these arguments where sparkdl is installed)." % args)
    else:
        message = (
            "This SparkSession does not have sparkdl on its classpath, and it could not be attached to the "
            "running driver. Start Spark with it instead: `pyspark %s` or `spark-submit %s ...`; in a "
            "notebook, set the environment variable PYSPARK_SUBMIT_ARGS='%s pyspark-shell' (or the "
            "platform's equivalent Spark settings) before the first SparkSession of the Python process "
            "starts." % (args, args, args))
    if cause is not None:
        message += " (Spark said: %s)" % str(cause).strip().splitlines()[0][:300]
    return SparkdlJarMissingError(message)


def is_missing_data_source(error: BaseException, name: str) -> bool:
    """True when ``error`` says Spark has no data source called ``name``."""
    text = str(error)
    return "DATA_SOURCE_NOT_FOUND" in text or ("Failed to find" in text and name in text)


def is_missing_sparkdl_function(error: BaseException) -> bool:
    """True when ``error`` says a sparkdl SQL function is unknown: the session started without the
    jar on its driver's classpath, so its extension (``sparkdl.sql.SparkdlExtensions``) is missing."""
    text = str(error)
    return "UNRESOLVED_ROUTINE" in text and "sparkdl_" in text
