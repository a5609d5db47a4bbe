"""The one place that decides how sparkdl talks to a SparkSession (:mod:`sparkdl._jvm` finds the JVM side
and the kind of session; this module is what every entry point calls).

A *classic* session has a driver JVM reachable through py4j (``spark._jvm``); a *Spark
Connect* session (``SparkSession.builder.remote(...)``) has no JVM in this process at all:
everything goes through DataFrame plans, data sources and SQL, which the server's JVM
runs with the sparkdl jar. Code that needs py4j asks :func:`is_connect` first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from sparkdl._jvm import SparkdlJarMissingError, install, is_connect, missing_jar_error

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["active_session", "is_connect", "is_missing_data_source", "is_missing_sparkdl_function",
           "missing_jar_error", "sparkdl_session"]


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
        install(session)
    return session


def is_missing_data_source(error: BaseException, name: str) -> bool:
    """True when ``error`` says Spark has no data source called ``name``."""
    text = str(error)
    return "DATA_SOURCE_NOT_FOUND" in text or ("Failed to find" in text and name in text)


def is_missing_sparkdl_function(error: BaseException) -> bool:
    """True when ``error`` says a sparkdl SQL function is unknown: the session started without the
    jar on its driver's classpath, so its extension (``sparkdl.sql.SparkdlExtensions``) is missing."""
    text = str(error)
    return "UNRESOLVED_ROUTINE" in text and "sparkdl_" in text
