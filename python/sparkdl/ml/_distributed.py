"""Data-parallel training of one Keras model across Spark barrier tasks (``numWorkers > 1``).

``train_distributed`` runs ``numWorkers`` tasks of one barrier stage (``mapInPandas(...,
barrier=True)``, so it works on classic and Spark Connect sessions alike). The input rows are
dealt to the tasks as balanced shards (their sizes differ by at most one row); each task loads
its own rows' images with the user's ``imageLoader``, agrees with the others on a
``TF_CONFIG`` (addresses exchanged with ``BarrierTaskContext.allGather``) and starts one
training process (:mod:`sparkdl.ml._distributed_worker`), which trains under
``tf.distribute.MultiWorkerMirroredStrategy``. Only the trained weights come back to the
driver, from the chief. When a task fails (its process killed, an executor lost), Spark
retries the whole barrier stage; with a ``checkpointDir`` the retry resumes from the last
finished epoch, else it starts over.
"""
from __future__ import annotations

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

from sparkdl.ml._distributed_worker import weights_from_bytes

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["DISTRIBUTED_FIT_PARAMS", "check_distributed_settings", "train_distributed", "cluster_slots"]

#: The kerasFitParams a distributed fit takes (the rest of Keras ``fit`` assumes data in one process).
DISTRIBUTED_FIT_PARAMS = ("batch_size", "epochs", "shuffle", "verbose")

_RESULT_SCHEMA = ("rank int, pid int, host string, rows long, digest string, history string, "
                  "resumedFromEpoch int, weights binary")


def check_distributed_settings(num_workers: int, fit_params: Dict[str, Any]) -> Dict[str, Any]:
    """The global batch size, epochs, shuffle and verbosity of a training on ``num_workers`` workers."""
    unknown = sorted(set(fit_params) - set(DISTRIBUTED_FIT_PARAMS))
    if unknown:
        raise ValueError("kerasFitParams has %s, which a training with numWorkers=%d does not take. Accepted: %s"
                         % (", ".join(unknown), num_workers, ", ".join(DISTRIBUTED_FIT_PARAMS)))
    batch = fit_params.get("batch_size", 32)
    if not isinstance(batch, int) or batch < num_workers or batch % num_workers:
        raise ValueError("kerasFitParams batch_size is the global batch size; with numWorkers=%d it must be a "
                         "multiple of %d (each worker takes batch_size / numWorkers rows a step), got %r"
                         % (num_workers, num_workers, batch))
    epochs = fit_params.get("epochs", 1)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError("kerasFitParams epochs must be a positive int, got %r" % (epochs,))
    return {"globalBatch": batch, "epochs": epochs, "shuffle": bool(fit_params.get("shuffle", True)),
            "verbose": bool(fit_params.get("verbose", 0))}


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

    from sparkdl.ml.keras_image_estimator import _one_partition_each

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
    keys = _one_partition_each(dataset.sparkSession, n)  # repartition(n, key) sends key k_i to its own partition
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


def _barrier_task(loader: Callable[[str], Any], spec: Dict[str, Any]) -> Callable[[Iterable[pd.DataFrame]],
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
            with open(os.path.join(d, "spec.pkl"), "wb") as f:
                pickle.dump(dict(spec, rank=rank), f)
            log_path = os.path.join(d, "worker.log")
            with open(log_path, "wb") as log:
                proc = subprocess.Popen([sys.executable, "-m", "sparkdl.ml._distributed_worker", d],
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


def _fingerprint(model_bytes: bytes, settings: Dict[str, Any], plan: Dict[str, Any], rows: int) -> str:
    """What makes a checkpoint this training's: the model, the settings, the workers and the data size."""
    h = hashlib.sha256(model_bytes)
    h.update(json.dumps({k: v for k, v in settings.items() if k != "imageLoader"}, sort_keys=True, default=repr)
             .encode())
    h.update(json.dumps(dict(plan, rows=rows), sort_keys=True).encode())
    return h.hexdigest()


def check_no_null_labels(dataset: DataFrame, label_col: str) -> None:
    """Fails, naming the column and the way out, when a label is null (one small job): checked before the
    training's images are loaded, so the error is not NumPy's or Keras' from inside a task."""
    from pyspark.sql import functions as F

    nulls = dataset.filter(F.col(label_col).isNull()).count()
    if nulls:
        raise null_labels_error(label_col, nulls)


def training_model(path: str, model_file: str) -> Any:
    """The model to train, from ``path`` (a copy of the user's ``model_file``), in Keras' safe mode: a file that
    carries Python code, or is no model, fails naming ``model_file`` and what to do."""
    from sparkdl.graph.keras_io import UnsafeKerasModelError, load_keras_model

    try:
        return load_keras_model(path)
    except UnsafeKerasModelError:
        raise ValueError(
            "modelFile '%s' contains Python code (a Lambda layer), which Keras refuses to load in safe mode. "
            "KerasImageFileEstimator loads the file again wherever it trains and never runs code from a model "
            "file: replace the Lambda layer by a layer class of your own, registered with "
            "@keras.saving.register_keras_serializable() in a module the workers import." % model_file) from None
    except ValueError as e:
        raise ValueError(str(e).replace(path, model_file)) from None


def null_labels_error(label_col: str, nulls: int) -> ValueError:
    """The error for null labels: the column, how many, and the way out."""
    return ValueError("KerasImageFileEstimator: labelCol '%s' has %d null value(s); a model cannot learn from them. "
                      "Drop or fill those rows before fit, e.g. df.na.drop(subset=['%s'])"
                      % (label_col, nulls, label_col))


def train_distributed(dataset: DataFrame, settings: Dict[str, Any]) -> Tuple[List[npt.NDArray[Any]],
                                                                            Dict[str, List[float]], int,
                                                                            List[Dict[str, Any]]]:
    """Trains on ``settings["numWorkers"]`` barrier tasks; returns (weights, loss history, pid of the
    chief's training process, one dict per worker: rank, pid, host, rows, resumedFromEpoch and
    weightsDigest, the sha256 of its final weights)."""
    n = settings["numWorkers"]
    plan = check_distributed_settings(n, settings["fitParams"])
    slots = cluster_slots(dataset.sparkSession)
    if slots is not None and n > slots:
        raise ValueError("KerasImageFileEstimator: numWorkers=%d, but the cluster runs %d tasks at once now (a "
                         "barrier stage starts all its tasks together): lower numWorkers to at most %d or add "
                         "executors" % (n, slots, slots))
    check_no_null_labels(dataset, settings["labelCol"])
    training_model(settings["modelFile"], settings["modelFile"])  # one the workers can load, else its error here
    shards, rows = _balanced_shards(dataset, settings["inputCol"], settings["labelCol"], n)
    with open(settings["modelFile"], "rb") as f:
        model_bytes = f.read()
    spec = dict(plan, numWorkers=n, modelBytes=model_bytes, modelName=os.path.basename(settings["modelFile"]),
                settings={k: v for k, v in settings.items() if k != "imageLoader"},
                stepsPerEpoch=math.ceil(math.ceil(rows / n) / (plan["globalBatch"] // n)), seed=0,
                checkpointDir=settings.get("checkpointDir"),
                fingerprint=_fingerprint(model_bytes, settings, plan, rows))
    # a shuffle after the barrier stage makes it a shuffle map stage, which Spark retries whole when a
    # task fails (a failed barrier result stage is not retried: it may have returned results)
    out = shards.mapInPandas(_barrier_task(settings["imageLoader"], spec), _RESULT_SCHEMA, barrier=True) \
        .repartition(1).collect()
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
