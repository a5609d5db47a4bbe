"""A Spark standalone cluster on 127.0.0.1 for tests: one master and N workers, each in its own
JVM, started from the pinned PySpark installation (its pip package has no sbin/ scripts, so
the daemons start through bin/spark-class)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def spark_home():
    import pyspark

    return os.path.dirname(pyspark.__file__)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StandaloneCluster(object):
    """``with StandaloneCluster(workdir, workers=2) as c: c.master_url``; always stopped on exit."""

    def __init__(self, workdir, workers=2, cores_per_worker=1, memory_per_worker="3g"):
        self.workdir = workdir
        self.n_workers = workers
        self.cores = cores_per_worker
        self.memory = memory_per_worker
        self.processes = []
        self.worker_pids = []
        self.port, self.ui_port = free_port(), free_port()
        self.master_url = "spark://127.0.0.1:%d" % self.port

    def _start(self, name, args):
        log = open(os.path.join(self.workdir, name + ".log"), "w")
        env = dict(os.environ, SPARK_HOME=spark_home(), SPARK_LOCAL_IP="127.0.0.1",
                   PYSPARK_PYTHON=sys.executable, SPARK_NO_DAEMONIZE="1")
        proc = subprocess.Popen([os.path.join(spark_home(), "bin", "spark-class")] + args, stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.processes.append(proc)
        return proc

    def __enter__(self):
        os.makedirs(self.workdir, exist_ok=True)
        try:
            self._start("master", ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", str(self.port), "--webui-port", str(self.ui_port)])
            self._wait(lambda s: True, "master")
            for i in range(self.n_workers):
                wdir = os.path.join(self.workdir, "worker-%d" % i)
                os.makedirs(wdir, exist_ok=True)
                proc = self._start("worker-%d" % i, [
                    "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", str(self.cores),
                    "--memory", self.memory, "--webui-port", str(free_port()), "--work-dir", wdir,
                    self.master_url])
                self.worker_pids.append(proc.pid)
            self._wait(lambda s: len([w for w in s.get("workers", []) if w.get("state") == "ALIVE"])
                       == self.n_workers, "%d workers" % self.n_workers)
        except BaseException:
            self.stop()
            raise
        return self

    def state(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/json/" % self.ui_port, timeout=5) as r:
            return json.loads(r.read().decode())

    def _wait(self, ready, what, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if ready(self.state()):
                    return
            except OSError:
                pass
            time.sleep(1)
        raise RuntimeError("standalone cluster: %s not up after %d s (logs in %s)" % (what, timeout, self.workdir))

    def executor_pids(self, worker_pid):
        """PIDs of executor JVMs a worker launched (its child processes)."""
        out = subprocess.run(["pgrep", "-P", str(worker_pid), "-f", "CoarseGrainedExecutorBackend"],
                             capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self):
        for pid in self.worker_pids:  # executors first (children of the workers, same process group)
            for child in self.executor_pids(pid):
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in reversed(self.processes):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.processes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def __exit__(self, *exc):
        self.stop()
        return False

    def submit(self, args, timeout=900, conf=None):
        """spark-submit to this cluster; returns the CompletedProcess (stdout+stderr captured)."""
        cmd = [os.path.join(spark_home(), "bin", "spark-submit"), "--master", self.master_url,
               "--conf", "spark.ui.enabled=false", "--conf", "spark.executor.memory=2g",
               "--conf", "spark.driver.memory=2g", "--conf", "spark.pyspark.python=" + sys.executable]
        for k, v in (conf or {}).items():
            cmd += ["--conf", "%s=%s" % (k, v)]
        env = dict(os.environ, SPARK_HOME=spark_home(), SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable)
        return subprocess.run(cmd + args, capture_output=True, text=True, timeout=timeout, env=env)
