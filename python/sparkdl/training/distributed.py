"""Data-parallel training of one Keras model across Spark barrier tasks (``numWorkers > 1``).

``train_distributed`` runs ``numWorkers`` tasks of one barrier stage (``mapInPandas(...,
barrier=True)``, so it works on classic and Spark Connect sessions alike). The input rows are
dealt to the tasks as balanced shards (their sizes differ by at most one row); each task loads
its own rows' images with the user's ``imageLoader``, agrees with the others on a
``TF_CONFIG`` (addresses exchanged with ``BarrierTaskContext.allGather``) and starts one
training process (:mod:`sparkdl.training.worker`), which trains under
``tf.distribute.MultiWorkerMirroredStrategy``. Only the trained weights come back to the
driver, from the chief. When a task fails (its process killed, an executor lost), Spark
retries the whole barrier stage; with a ``checkpointDir`` the retry resumes from the last
finished epoch, else it starts over.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np

from sparkdl.training.checks import check_distributed_settings, check_no_null_labels
from sparkdl.training.partitions import one_partition_each
from sparkdl.training.spec import TrainingSpec, training_model
from sparkdl.training.weights import weights_from_bytes

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["cluster_slots", "train_distributed"]

_RESULT_SCHEMA = ("rank int, pid int, host string, rows long, digest string, history string, "
                  "resumedFromEpoch int, weights binary")


def cluster_slots(spark: SparkSession) -> Optional[int]:
    """How many tasks the cluster runs at once now (what a barrier stage needs), on a classic
    session; None on Spark Connect (Spark's own barrier check applies there)."""
    from sparkdl._session import is_connect

    if is_connect(spark):
        return None
    sc = spark.sparkContext._jsc.sc()
    return int(sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile()))


def _balanced_shards(dataset: DataFrame, input_col: str, label_col: str, n: int) -> Tuple[DataFrame, int]:
    """The rows as (uri, y, row) in ``n`` partitions whose sizes differ by at most one, and the row count.

    A row's place in the dataset (``row``) is its partition's offset (counted first, one row
    per partition comes back) plus its place in the partition; row ``i`` goes to shard ``i % n``.
    The dataset is read twice (the count, then the training), so it must give the same rows in
    the same partitions both times, as files and cached data do.
    """
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import functions as F

    counts = {r.p: r["count"] for r in dataset.select(F.spark_partition_id().alias("p")).groupBy("p").count().collect()}
    total = sum(counts.values())
    if total < n:
        raise ValueError("KerasImageFileEstimator: numWorkers=%d but the training DataFrame has %d rows: every "
                         "worker needs at least one" % (n, total))
    offsets, start = {}, 0
    for p in sorted(counts):
        offsets[p], start = start, start + counts[p]
    offset = F.create_map(*[c for p in sorted(offsets) for c in (F.lit(p), F.lit(offsets[p]).cast("long"))])
    label = F.col(label_col)
    if isinstance(dataset.schema[label_col].dataType, VectorUDT):  # Arrow has no UDTs
        from pyspark.ml.functions import vector_to_array

        label = vector_to_array(label)
    keys = one_partition_each(dataset.sparkSession, n)  # repartition(n, key) sends key k_i to its own partition
    # monotonically_increasing_id: the partition id in the upper 31 bits, the place in the partition below
    row = offset[F.spark_partition_id()] + (F.monotonically_increasing_id() - F.shiftleft(F.spark_partition_id()
                                                                                           .cast("long"), 33))
    rows = dataset.select(F.col(input_col).alias("uri"), label.alias("y"), row.alias("row"))
    key = F.element_at(F.array(*[F.lit(k) for k in keys]), (F.col("row") % n).cast("int") + 1)
    return rows.withColumn("key", key).repartition(n, "key").drop("key"), total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the training process before exec: killed when the task's Python worker dies (Spark kills
    it when it kills the task), so a peer of a failed task never lingers in a collective."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _barrier_task(loader: Callable[[str], Any], plan: Dict[str, Any]) -> Callable[[Iterable[pd.DataFrame]],
                                                                               Iterator[pd.DataFrame]]:
    """The body of one barrier task: load this shard's images, join the others, train, report."""

    def task(batches: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd
        from pyspark import BarrierTaskContext

        ctx = BarrierTaskContext.get()
        rank = ctx.partitionId()
        part = pd.concat(list(batches) or [pd.DataFrame({"uri": [], "y": [], "row": []})], ignore_index=True)
        part = part.sort_values("row")
        images = [loader(u) for u in part["uri"]]
        missing = [u for u, im in zip(part["uri"], images) if im is None]
        if missing:
            raise ValueError("KerasImageFileEstimator: the imageLoader returned None for %d rows, e.g. %s"
                             % (len(missing), missing[0]))
        x = np.stack([np.asarray(im, dtype=np.float32) for im in images]) if images else np.zeros((0,), np.float32)
        y = np.stack([np.asarray(v) for v in part["y"]]) if len(part) else np.zeros((0,))
        host = ctx.getTaskInfos()[rank].address.rsplit(":", 1)[0]
        peers = [json.loads(m) for m in ctx.allGather(json.dumps({"rank": rank, "address": "%s:%d" % (
            host, _free_port())}))]
        tf_config = {"cluster": {"worker": [p["address"] for p in sorted(peers, key=lambda p: p["rank"])]},
                     "task": {"type": "worker", "index": rank}}
        with tempfile.TemporaryDirectory(prefix="sparkdl-train-") as d:
            np.savez(os.path.join(d, "shard.npz"), x=x, y=y)
            with open(os.path.join(d, "plan.pkl"), "wb") as f:
                pickle.dump(dict(plan, rank=rank), f)
            log_path = os.path.join(d, "worker.log")
            with open(log_path, "wb") as log:
                proc = subprocess.Popen([sys.executable, "-m", "sparkdl.training.worker", d],
                                        env=dict(os.environ, TF_CONFIG=json.dumps(tf_config)), stdout=log,
                                        stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
                rc = proc.wait()
            with open(log_path, "rb") as f:
                log_text = f.read().decode("utf-8", "replace")
            sys.stderr.write(log_text)  # the executor's log keeps what the training said
            if rc != 0:
                raise RuntimeError("KerasImageFileEstimator: training worker %d (pid %d) exited with %d; its "
                                   "output ends:\n%s" % (rank, proc.pid, rc, log_text[-3000:]))
            with open(os.path.join(d, "result.json")) as f:
                result = json.load(f)
            weights = b""
            if rank == 0:
                with open(os.path.join(d, "weights.npz"), "rb") as f:
                    weights = f.read()
        yield pd.DataFrame({"rank": [rank], "pid": [result["pid"]], "host": [host], "rows": [result["rows"]],
                            "digest": [result["digest"]], "history": [json.dumps(result["history"])],
                            "resumedFromEpoch": [result["resumedFromEpoch"]], "weights": [weights]})

    return task


def _fingerprint(model_bytes: bytes, spec: TrainingSpec, schedule: Dict[str, Any], rows: int) -> str:
    """What makes a checkpoint this training's: the model, the settings, the workers and the data size."""
    h = hashlib.sha256(model_bytes)
    h.update(json.dumps(dataclasses.asdict(spec.for_tasks()), sort_keys=True, default=repr).encode())
    h.update(json.dumps(dict(schedule, rows=rows), sort_keys=True).encode())
    return h.hexdigest()


def train_distributed(dataset: DataFrame, spec: TrainingSpec) -> Tuple[List[npt.NDArray[Any]],
                                                                     Dict[str, List[float]], int,
                                                                     List[Dict[str, Any]]]:
    """Trains on ``spec.num_workers`` barrier tasks; returns (weights, loss history, pid of the
    chief's training process, one dict per worker: rank, pid, host, rows, resumedFromEpoch and
    weightsDigest, the sha256 of its final weights)."""
    n = spec.num_workers
    schedule = check_distributed_settings(n, spec.fit_params)
    slots = cluster_slots(dataset.sparkSession)
    if slots is not None and n > slots:
        raise ValueError("KerasImageFileEstimator: numWorkers=%d, but the cluster runs %d tasks at once now (a "
                         "barrier stage starts all its tasks together): lower numWorkers to at most %d or add "
                         "executors" % (n, slots, slots))
    check_no_null_labels(dataset, spec.label_col)
    training_model(spec.model_file, spec.model_file)  # one the workers can load, else its error here
    shards, rows = _balanced_shards(dataset, spec.input_col, spec.label_col, n)
    model_bytes = spec.read_model()
    plan = dict(schedule, numWorkers=n, modelBytes=model_bytes, spec=spec.for_tasks(),
                stepsPerEpoch=math.ceil(math.ceil(rows / n) / (schedule["globalBatch"] // n)), seed=0,
                checkpointDir=spec.checkpoint_dir, fingerprint=_fingerprint(model_bytes, spec, schedule, rows))
    # a shuffle after the barrier stage makes it a shuffle map stage, which Spark retries whole when a
    # task fails (a failed barrier result stage is not retried: it may have returned results)
    out = shards.mapInPandas(_barrier_task(spec.loader(), plan), _RESULT_SCHEMA, barrier=True).repartition(1).collect()
    workers = sorted(out, key=lambda r: r.rank)
    if [w.rank for w in workers] != list(range(n)):
        raise RuntimeError("KerasImageFileEstimator: %d of %d training workers reported" % (len(workers), n))
    if len({w.digest for w in workers}) != 1:
        raise RuntimeError("KerasImageFileEstimator: the replicas' weights differ after training (digests %s)"
                           % [w.digest for w in workers])
    weights = weights_from_bytes(workers[0].weights)
    report = [{"rank": w.rank, "pid": w.pid, "host": w.host, "rows": w.rows, "resumedFromEpoch": w.resumedFromEpoch,
               "weightsDigest": w.digest} for w in workers]
    return weights, json.loads(workers[0].history), workers[0].pid, report
