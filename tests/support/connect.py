"""Spark Connect for tests: a standalone Connect server (its own JVM, started with spark-submit
from the pinned PySpark installation) and clients run in other virtualenvs (`make venv-connect`)
with `pyspark-client`: no JVM, no py4j gateway. `.venv-connect` has no TensorFlow either;
`.venv-connect-tf` has the TensorFlow a Connect client can have (its own version, see
version.properties) to freeze Keras models."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time

from tests.support.standalone import free_port, spark_home

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENT_PYTHON = os.path.join(ROOT, ".venv-connect", "bin", "python")
CLIENT_TF_PYTHON = os.path.join(ROOT, ".venv-connect-tf", "bin", "python")


class ConnectServer(object):
    """``with ConnectServer(workdir, jars=[...]) as s: s.url``; the server JVM is stopped on exit."""

    def __init__(self, workdir, jars=(), master="local[2]", conf=None, shell=None, env=None):
        """``shell``: a command line starting the server as a user would (run by bash with this venv's
        ``bin`` first on the PATH, ``{port}`` its port) instead of the command built here; ``env``: more
        environment variables for the server."""
        self.shell = shell
        self.env = dict(env or {})
        self.workdir = workdir
        self.jars = list(jars)
        self.conf = dict(conf or {})
        self.master = master
        self.port = free_port()
        self.url = "sc://127.0.0.1:%d" % self.port
        self.proc = None

    def __enter__(self):
        os.makedirs(self.workdir, exist_ok=True)
        cmd = [os.path.join(spark_home(), "bin", "spark-submit"), "--master", self.master,
               "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
               "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
               "--conf", "spark.connect.grpc.binding.port=%d" % self.port,
               "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.memory=3g"]
        for key, value in self.conf.items():
            cmd += ["--conf", "%s=%s" % (key, value)]
        if self.jars:
            cmd += ["--jars", ",".join(self.jars),
                    "--conf", "spark.driver.extraClassPath=" + os.pathsep.join(self.jars)]
        env = dict(os.environ, SPARK_HOME=spark_home(), SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
                   **self.env)
        if self.shell:
            env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
            cmd = ["bash", "-c", self.shell.replace("{port}", str(self.port))]
        else:
            cmd = cmd + ["spark-internal"]
        self.log = os.path.join(self.workdir, "connect-server.log")
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
                                         start_new_session=True)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("Connect server exited: " + open(self.log).read()[-3000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(1)
        self.stop()
        raise RuntimeError("Connect server not up after 180 s: " + open(self.log).read()[-3000:])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)

    def __exit__(self, *exc):
        self.stop()
        return False


def run_client(url, body, args=None, timeout=600, tensorflow=False):
    """Runs ``body`` in a client virtualenv (with TensorFlow if ``tensorflow``) with ``spark``
    connected to ``url`` and ``args`` (JSON); ``body`` sets ``result``, which comes back (JSON).
    Also checks the client started no JVM, and had TensorFlow only if asked."""
    python = CLIENT_TF_PYTHON if tensorflow else CLIENT_PYTHON
    if not os.path.exists(python):
        raise RuntimeError("%s is missing: `make venv-connect` creates the Spark Connect client environments"
                           % python)
    script = textwrap.dedent('''
        import json, os, sys
        from pyspark.sql import SparkSession
        args = json.loads(sys.argv[1])
        spark = SparkSession.builder.remote(sys.argv[2]).getOrCreate()
        result = None
    ''') + textwrap.dedent(body) + textwrap.dedent('''
        def java_children():
            pids = []
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    status = open("/proc/%s/status" % pid).read()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                if fields.get("PPid", "").strip() == str(os.getpid()) and "java" in fields.get("Name", ""):
                    pids.append(int(pid))
            return pids
        import pyspark
        jars = os.path.join(os.path.dirname(pyspark.__file__), "jars")
        print("RESULT:" + json.dumps({"result": result, "session": type(spark).__module__,
                                       "tensorflow": getattr(sys.modules.get("tensorflow"), "__version__", None),
                                       "java_children": java_children(), "pyspark_has_jars": os.path.isdir(jars)}))
    ''')
    env = dict(os.environ, PYTHONPATH=ROOT)
    # A script file, not `python -c`: pyspark takes a __main__ without a file for its own doctests.
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="connect_client_", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run([python, f.name, json.dumps(args or {}), url], capture_output=True, text=True,
                             timeout=timeout, env=env)
    finally:
        os.unlink(f.name)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT:")]
    if out.returncode != 0 or not lines:
        start = max(0, out.stderr.find("Traceback"))  # the client's error first, the server's stack after
        raise AssertionError("Connect client failed (rc %d):\n%s\n%s" % (out.returncode, out.stdout[-3000:],
                                                                      out.stderr[start:start + 6000]))
    payload = json.loads(lines[-1][len("RESULT:"):])
    assert payload["session"].startswith("pyspark.sql.connect"), payload["session"]
    assert payload["java_children"] == [], "the Connect client started a JVM: %s" % payload["java_children"]
    assert not payload["pyspark_has_jars"], "the client's pyspark carries Spark's jars: not a JVM-free client"
    if tensorflow:
        return payload["result"], payload["tensorflow"]
    return payload["result"]
