"""One worker of a data-parallel Keras training: ``python -m sparkdl.training.worker DIR``.

Started by a barrier task of :mod:`sparkdl.training.distributed` (one process per task, so that
TensorFlow's collective runtime, which a process configures once, is fresh for every
training and every retry). ``DIR`` holds what the task wrote: ``plan.pkl`` (the Keras model
file's bytes, the :class:`~sparkdl.training.spec.TrainingSpec` and the schedule) and ``shard.npz``
(this worker's rows). The cluster comes from ``TF_CONFIG``. Every worker trains the same model
under ``tf.distribute.MultiWorkerMirroredStrategy``: each step, each worker takes ``batch_size /
numWorkers`` rows of its own shard, gradients are summed across workers by all-reduce, and
every worker applies the same update, so the replicas stay identical. The worker writes
``result.json`` (loss per epoch, rows, the digest of its final weights) and, on the chief
(rank 0), ``weights.npz``.
"""
from __future__ import annotations

import json
import os
import pickle
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from sparkdl.training.spec import input_shape, load_keras_bytes
from sparkdl.training.weights import weights_digest, weights_to_bytes

#: The checkpoint file in ``checkpointDir``: weights, optimizer state, epochs done, loss history.
CHECKPOINT = "sparkdl-keras-checkpoint.npz"


def read_checkpoint(directory: Optional[str], fingerprint: str) -> Optional[Dict[str, Any]]:
    """The checkpoint of this training (same fingerprint) in ``directory``, if there is one."""
    if not directory:
        return None
    path = os.path.join(directory, CHECKPOINT)
    if not os.path.isfile(path):
        return None
    with np.load(path) as npz:
        if str(npz["fingerprint"]) != fingerprint:
            return None  # another training's: started over, and overwritten at the first epoch's end
        n_w, n_o = int(npz["n_weights"]), int(npz["n_optimizer"])
        return {"epoch": int(npz["epoch"]), "history": json.loads(str(npz["history"])),
                "weights": [npz["w%d" % i] for i in range(n_w)], "optimizer": [npz["o%d" % i] for i in range(n_o)]}


def write_checkpoint(directory: str, fingerprint: str, epoch: int, history: Dict[str, List[float]],
                     weights: List[Any], optimizer: List[Any]) -> None:
    """Written whole or not at all (a rename), so a worker killed mid-write leaves the previous one."""
    os.makedirs(directory, exist_ok=True)
    arrays = {"w%d" % i: w for i, w in enumerate(weights)}
    arrays.update({"o%d" % i: o for i, o in enumerate(optimizer)})
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=directory)
    with os.fdopen(fd, "wb") as f:
        np.savez(f, fingerprint=np.array(fingerprint), epoch=np.array(epoch), history=np.array(json.dumps(history)),
                 n_weights=np.array(len(weights)), n_optimizer=np.array(len(optimizer)), **arrays)
    os.replace(tmp, os.path.join(directory, CHECKPOINT))


def _shard_dataset(x: Any, y: Any, per_worker_batch: int, shuffle: bool, seed: int) -> Any:
    """This worker's rows, endlessly, in batches of ``per_worker_batch`` (every batch full, so all
    workers run the same number of steps; a shard one row short of the longest wraps around)."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.repeat().batch(per_worker_batch, drop_remainder=True)


def train(plan: Dict[str, Any], x: Any, y: Any, log: Any) -> Tuple[Dict[str, Any], Optional[List[Any]]]:
    """Trains under MultiWorkerMirroredStrategy (TF_CONFIG set); returns (result, weights of the chief)."""
    import keras
    import tensorflow as tf

    training, rank = plan["spec"], plan["rank"]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    if strategy.num_replicas_in_sync != plan["numWorkers"]:
        raise RuntimeError("%d replicas in sync, expected %d (one per worker)"
                           % (strategy.num_replicas_in_sync, plan["numWorkers"]))
    global_batch, steps, epochs = plan["globalBatch"], plan["stepsPerEpoch"], plan["epochs"]
    per_worker = global_batch // plan["numWorkers"]
    with strategy.scope():
        model = load_keras_bytes(plan["modelBytes"], training.model_file)
        optimizer = keras.optimizers.get(training.optimizer)
        optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.get(training.loss)
    x = x.reshape((len(x),) + input_shape(model))

    history: Dict[str, List[float]] = {"loss": []}
    start = 0
    checkpoint = read_checkpoint(plan["checkpointDir"], plan["fingerprint"])
    if checkpoint is not None:
        model.set_weights(checkpoint["weights"])
        for var, value in zip(optimizer.variables, checkpoint["optimizer"]):
            var.assign(value)
        start, history = checkpoint["epoch"], checkpoint["history"]
        print("resuming from the checkpoint of epoch %d" % start, file=log, flush=True)

    data = strategy.distribute_datasets_from_function(
        lambda _ctx: _shard_dataset(x, y, per_worker, plan["shuffle"], plan["seed"] + rank * 7919 + start))
    iterator = iter(data)

    @tf.function  # type: ignore[untyped-decorator]
    def step(it: Any) -> Any:
        def replica_step(xb: Any, yb: Any) -> Any:
            with tf.GradientTape() as tape:
                # the global batch's mean: each replica sums its rows' losses over the global batch size,
                # and the optimizer sums the replicas' gradients (all-reduce)
                loss = tf.reduce_sum(loss_fn(yb, model(xb, training=True))) / global_batch
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_step, args=next(it)), axis=None)

    for epoch in range(start, epochs):
        t0 = time.time()
        losses = [float(step(iterator)) for _ in range(steps)]
        history["loss"].append(float(np.mean(losses)))
        if plan["verbose"]:
            print("epoch %d/%d: loss %.6f (%.1f s)" % (epoch + 1, epochs, history["loss"][-1], time.time() - t0),
                  file=log, flush=True)
        if plan["checkpointDir"] and rank == 0 and epoch + 1 < epochs:
            write_checkpoint(plan["checkpointDir"], plan["fingerprint"], epoch + 1, history,
                             model.get_weights(), [v.numpy() for v in optimizer.variables])
    weights = model.get_weights()
    result = {"rank": rank, "pid": os.getpid(), "rows": int(len(x)), "history": history,
              "resumedFromEpoch": start, "digest": weights_digest(weights)}
    return result, (weights if rank == 0 else None)


def main(directory: str) -> None:
    with open(os.path.join(directory, "plan.pkl"), "rb") as f:
        plan = pickle.load(f)
    with np.load(os.path.join(directory, "shard.npz")) as npz:
        x, y = npz["x"], npz["y"]
    result, weights = train(plan, x, y, sys.stderr)
    if weights is not None:
        with open(os.path.join(directory, "weights.npz"), "wb") as f:
            f.write(weights_to_bytes(weights))
    with open(os.path.join(directory, "result.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
