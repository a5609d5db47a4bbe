"""Where sparkdl's JVM side lives and how a SparkSession gets it.

Everything that runs models lives in the JVM. It reaches Spark one of two ways:

- the **assembly jar** (``make jar``: sparkdl, TensorFlow Java and ONNX Runtime with their
  linux-x86_64 natives in one jar): ``$SPARKDL_JAR``, or the jar a source checkout builds;
- the **Spark package** the wheel carries (``sparkdl/maven``: a Maven-layout repository holding
  sparkdl's thin jar and its POM): ``--packages io.sparkdl:sparkdl_2.13:VERSION`` with that
  repository, Spark resolving TensorFlow Java, its natives and ONNX Runtime from Maven Central (or
  the user's mirror, ``spark.jars.ivySettings``) into its Ivy cache, once.

This module finds which one this install has, builds sessions with it, attaches it to a session
that started without it, and gives a clear error when that cannot be done.
"""
from __future__ import annotations

import glob
import os
import pathlib
import shlex
import sys
from typing import TYPE_CHECKING, Any, List, NamedTuple, Optional, Set, Tuple, Union, cast

if TYPE_CHECKING:
    from typing import TypeGuard

    from pyspark import SparkContext
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.session import SparkSession as ConnectSparkSession

__all__ = ["install", "is_connect", "jar_path", "missing_jar_error", "require_jar", "spark_session", "submit_args",
           "SparkdlJarMissingError"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_JAR_GLOB = "sparkdl-assembly-*.jar"
_GROUP, _ARTIFACT = "io.sparkdl", "sparkdl_2.13"


class SparkdlJarMissingError(RuntimeError):
    """The active SparkSession cannot see sparkdl's JVM classes."""


class SparkPackage(NamedTuple):
    """sparkdl as a Spark package: Maven ``coordinates`` in the Maven-layout ``repository`` (a
    ``file://`` URL), whose own jar is ``jar``."""
    coordinates: str
    repository: str
    jar: str


def _assembly() -> Optional[str]:
    """The assembly jar: ``$SPARKDL_JAR``, one in ``sparkdl/jars`` (a source checkout's ``make jar``), or
    the sbt build output of a source checkout; None if there is none."""
    env = os.environ.get("SPARKDL_JAR")
    if env:
        if not os.path.isfile(env):
            raise SparkdlJarMissingError("SPARKDL_JAR=%s does not exist" % env)
        return env
    candidates = sorted(glob.glob(os.path.join(_HERE, "jars", _JAR_GLOB)))
    if not candidates and spark_package() is None:
        root = os.path.dirname(os.path.dirname(_HERE))
        candidates = sorted(glob.glob(os.path.join(root, "target", "scala-2.13", _JAR_GLOB)))
    return candidates[-1] if candidates else None


def spark_package() -> Optional[SparkPackage]:
    """The Spark package inside this Python package (a wheel install), or None."""
    from sparkdl._version import __version__

    folder = os.path.join(_HERE, "maven", *_GROUP.split("."), _ARTIFACT, __version__)
    jar = os.path.join(folder, "%s-%s.jar" % (_ARTIFACT, __version__))
    if not os.path.isfile(jar):
        return None
    return SparkPackage("%s:%s:%s" % (_GROUP, _ARTIFACT, __version__),
                        pathlib.Path(_HERE, "maven").as_uri(), jar)


def _jvm_side() -> Union[str, SparkPackage]:
    """What this install gives Spark: the assembly jar's path, else the wheel's Spark package."""
    jar = _assembly()
    if jar is not None:
        return jar
    package = spark_package()
    if package is None:
        raise _not_found()
    return package


def _not_found() -> SparkdlJarMissingError:
    return SparkdlJarMissingError(
        "sparkdl's JVM side was not found: no assembly jar (looked in %s and the sbt target folder) and no "
        "Spark package (%s). Install sparkdl from its wheel, or in a source tree run `make jar` (or set "
        "SPARKDL_JAR to an assembly jar)." % (os.path.join(_HERE, "jars"), os.path.join(_HERE, "maven")))


def jar_path() -> str:
    """Path of the sparkdl assembly jar, for ``spark-submit --jars`` or ``spark.jars``.

    Looks at ``$SPARKDL_JAR``, then the jar of a source checkout (``make jar``). A wheel install
    has no assembly: it is a Spark package, started with :func:`submit_args` instead.
    """
    jar = _assembly()
    if jar is not None:
        return jar
    if spark_package() is not None:
        raise SparkdlJarMissingError(
            "This sparkdl install is a Spark package, not an assembly jar: start Spark with %s (e.g. "
            "`spark-submit $(python -m sparkdl submit-args) app.py`), or use sparkdl.spark_session()"
            % " ".join(submit_args()))
    raise _not_found()


def submit_args() -> List[str]:
    """The ``spark-submit`` / ``pyspark`` arguments that give an application sparkdl: ``--jars
    ASSEMBLY``, or for a wheel install ``--repositories file://.../sparkdl/maven --packages
    io.sparkdl:sparkdl_2.13:VERSION``. From a shell: ``python -m sparkdl submit-args``."""
    side = _jvm_side()
    if isinstance(side, str):
        return ["--jars", side]
    return ["--repositories", side.repository, "--packages", side.coordinates]


def spark_session(master: str = "local[*]", app_name: str = "sparkdl", **conf: Any) -> SparkSession:
    """A SparkSession with sparkdl on the driver and executor classpaths: the assembly jar, or the
    Spark package (``spark.jars.packages``, resolved by Spark at start, cached after the first time).

    Extra Spark settings go in ``conf``, e.g.
    ``spark_session("local[2]", **{"spark.sql.shuffle.partitions": "4"})``.
    If a session already runs in this process it is returned only when it has sparkdl.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    side = _jvm_side()
    record = False
    if isinstance(side, str):
        jars = [j for j in str(conf.pop("spark.jars", "")).split(",") if j]
        builder = builder.config("spark.jars", ",".join([side] + jars))
        extra_cp = conf.pop("spark.driver.extraClassPath", None)
        builder = builder.config("spark.driver.extraClassPath", side + (os.pathsep + extra_cp if extra_cp else ""))
    elif _recorded_jars(side) is not None:  # resolved before: the same jars, without Ivy (seconds, no report)
        jars = [side.jar] + cast(List[str], _recorded_jars(side))
        given = [j for j in str(conf.pop("spark.jars", "")).split(",") if j]
        builder = builder.config("spark.jars", ",".join(jars + given))
        extra_cp = conf.pop("spark.driver.extraClassPath", None)
        builder = builder.config("spark.driver.extraClassPath",
                                 os.pathsep.join(jars + ([extra_cp] if extra_cp else [])))
    else:
        _say_first_resolution(side)
        # the jars Spark resolves are written down for later sessions, unless other packages come with them
        record = not conf.get("spark.jars.packages") and not conf.get("spark.jars")
        for key, value in (("spark.jars.packages", side.coordinates), ("spark.jars.repositories", side.repository)):
            given = [v for v in str(conf.pop(key, "")).split(",") if v]
            builder = builder.config(key, ",".join([value] + given))
    if "spark.pyspark.python" not in conf and not os.environ.get("PYSPARK_PYTHON"):
        # Python workers (user functions such as image loaders) run this interpreter, which
        # has sparkdl installed; Spark's default would be whatever `python3` is on the PATH.
        # PySpark reads the variable when the SparkContext starts; the conf reaches executors.
        os.environ["PYSPARK_PYTHON"] = sys.executable
        conf["spark.pyspark.python"] = sys.executable
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    install(spark)  # a session running already: sparkdl attached to it
    if isinstance(side, SparkPackage) and _recorded_jars(side) is None and record:
        _record_jars(side, [j for j in spark.sparkContext.getConf().get("spark.jars", "").split(",") if j])
    return spark


def is_connect(spark: Optional[Union[SparkSession, ConnectSparkSession]]) -> TypeGuard[ConnectSparkSession]:
    """True when ``spark`` is a Spark Connect session (no JVM in this process)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


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


def install(session: SparkSession) -> None:
    """sparkdl in a classic session's JVM, with its SQL functions and planning: attached when the session
    started without it (:func:`require_jar`); installing them again is a no-op."""
    sc = require_jar(session.sparkContext)
    cast(Any, sc._jvm).sparkdl.PythonAPI.installSql(cast(Any, session)._jsparkSession)


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
    """Adds sparkdl to a running session: its jars go to the driver's class loader (the
    ``MutableURLClassLoader`` that spark-submit, and so every pyspark driver, runs with) and to
    the executors (``SparkContext.addJar``). The assembly is one jar; the Spark package's jars are
    first resolved as ``spark.jars.packages`` would have been (Spark's Ivy, in the driver).
    Returns why it could not, or None."""
    try:
        side = _jvm_side()
    except SparkdlJarMissingError as e:
        return e
    jvm: Any = sc._jvm
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    mutable = jvm.java.lang.Class.forName("org.apache.spark.util.MutableURLClassLoader")
    if loader is None or not mutable.isInstance(loader):
        return "the driver's class loader (%s) cannot take jars at run time" % (
            None if loader is None else loader.getClass().getName())
    if isinstance(side, str):
        jars, what = [side], side
    elif _recorded_jars(side) is not None:  # resolved before: the same jars, without Ivy
        jars = [side.jar] + cast(List[str], _recorded_jars(side))
        what = "%s (%d jars)" % (side.coordinates, len(jars))
    else:
        loader.addURL(jvm.java.io.File(side.jar).toURI().toURL())  # the resolver is in sparkdl's own jar
        _say_first_resolution(side)
        try:
            jars = list(jvm.org.apache.spark.sparkdl.PackageResolver.resolve(side.coordinates, side.repository,
                                                                             _verbose()))
        except Exception as e:  # py4j's error carries Ivy's message
            return "resolving %s failed: %s" % (side.coordinates, str(e).strip().splitlines()[0][:300])
        _record_jars(side, jars)
        what = "%s (%d jars)" % (side.coordinates, len(jars))
    for path in jars:
        loader.addURL(jvm.java.io.File(path).toURI().toURL())
        key = (sc._jsc.sc().applicationId(), path)
        if key not in _attached:
            sc._jsc.sc().addJar(path)
            _attached.add(key)
    message = "sparkdl: attached %s to the running SparkSession (driver and executors)" % what
    if _verbose():  # a notebook's cell stays quiet; the log has it
        print(message, file=sys.stderr, flush=True)
    else:
        import logging

        logging.getLogger("sparkdl").info(message)
    return None


def _verbose() -> bool:
    """``SPARKDL_VERBOSE=1``: Ivy's resolution report and TensorFlow's C++ log are shown, not hidden."""
    return os.environ.get("SPARKDL_VERBOSE", "") not in ("", "0")


def _record_path(package: SparkPackage) -> str:
    """Where the jars Spark's Ivy resolved for ``package`` are written down, so that later sessions of
    this machine use them directly (no resolution, no report): ``~/.cache/sparkdl/jars/<coordinates>.txt``."""
    root = os.environ.get("SPARKDL_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "sparkdl"))
    return os.path.join(root, "jars", package.coordinates.replace(":", "_") + ".txt")


def _recorded_jars(package: SparkPackage) -> Optional[List[str]]:
    """The dependency jars resolved for ``package`` before (not sparkdl's own jar, always the wheel's),
    when the record exists and every jar is still in Ivy's cache; else None."""
    try:
        with open(_record_path(package)) as f:
            jars = [line.strip() for line in f if line.strip()]
    except OSError:
        return None
    return jars if jars and all(os.path.isfile(j) for j in jars) else None


def _record_jars(package: SparkPackage, resolved: List[str]) -> None:
    """Writes down the jars of a resolution (paths or ``file:`` URLs), sparkdl's own left out."""
    from urllib.parse import unquote, urlparse

    own = "%s_%s-" % (_GROUP, _ARTIFACT)
    jars = [unquote(urlparse(j).path) if j.startswith("file:") else j for j in resolved]
    jars = [j for j in jars if os.path.isfile(j) and not os.path.basename(j).startswith(own)
            and os.path.abspath(j) != os.path.abspath(package.jar)]
    if not jars:
        return
    path = _record_path(package)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as f:
            f.write("\n".join(jars) + "\n")
        os.replace(path + ".tmp", path)
    except OSError:  # a read-only home: resolve again next time
        pass


def _say_first_resolution(package: SparkPackage) -> None:
    print("sparkdl: resolving %s into Spark's Ivy cache (the first time: downloads TensorFlow Java and ONNX "
          "Runtime, about 220 MB)" % package.coordinates, file=sys.stderr, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m sparkdl submit-args``: the spark-submit arguments of :func:`submit_args`, shell-quoted."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["submit-args"]:
        print("usage: python -m sparkdl submit-args   (spark-submit arguments that give an application sparkdl)",
              file=sys.stderr)
        return 2
    try:
        print(" ".join(shlex.quote(a) for a in submit_args()))
    except SparkdlJarMissingError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


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
