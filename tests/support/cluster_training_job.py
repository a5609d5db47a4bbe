"""Driver of the distributed-training tests: KerasImageFileEstimator on a standalone cluster.

    python tests/support/cluster_training_job.py MASTER_URL WORKDIR

Trains one small CNN on ~400 generated images with numWorkers=1 (one process) and numWorkers=2
(two barrier tasks), asks for numWorkers=3 (more than the cluster's 2 slots), and trains once
more with numWorkers=2 and a checkpointDir while killing one training process mid-way. Prints
one JSON line with what happened; tests/test_cluster.py asserts on it.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np


def load_image(uri):
    """URI -> 32x32 RGB floats in [0, 1] (defined here, so it is pickled by value for the executors)."""
    from PIL import Image

    path = uri[len("file:"):] if uri.startswith("file:") else uri
    return np.asarray(Image.open(path).convert("RGB").resize((32, 32), Image.BILINEAR), np.float32) / 255.0


def labelled(spark, directory, n_per_class, seed):
    from pyspark.ml.linalg import Vectors

    from tests.support.fixtures import write_shapes

    d = write_shapes(directory, n_per_class=n_per_class, seed=seed, task="colour")
    rows = []
    for cls, name in enumerate(["red", "blue"]):
        for f in sorted(os.listdir(os.path.join(d, name))):
            rows.append(("file:" + os.path.join(d, name, f), float(cls), Vectors.dense([1.0 - cls, float(cls)])))
    return spark.createDataFrame(rows, ["uri", "label", "one_hot"]).repartition(3)


def evaluate(model, held_out):
    """(accuracy, max |transform - Keras predict of the returned model|) on the held-out rows."""
    rows = model.transform(held_out).collect()
    probs = np.array([r.probs.toArray() for r in rows])
    accuracy = float(np.mean(probs.argmax(axis=1) == np.array([r.label for r in rows])))
    expected = model.keras_model.predict(np.stack([load_image(r.uri) for r in rows]), verbose=0)
    return accuracy, float(np.abs(probs - expected).max())


def training_pids():
    out = subprocess.run(["pgrep", "-f", "sparkdl.training.worker"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def main(master, workdir):
    import keras

    import sparkdl
    from sparkdl import KerasImageFileEstimator

    spark = sparkdl.spark_session(master, app_name="sparkdl-distributed-training",
                                  **{"spark.ui.enabled": "false", "spark.executor.memory": "2g",
                                     "spark.driver.memory": "2g"})
    train = labelled(spark, os.path.join(workdir, "train"), 200, 21).cache()
    held_out = labelled(spark, os.path.join(workdir, "held_out"), 50, 22).cache()
    keras.utils.set_random_seed(3)
    model_file = os.path.join(workdir, "cnn.keras")
    keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, activation="relu"),
                      keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")]
                     ).save(model_file)

    def estimator(**kw):
        fit_params = {"batch_size": kw.pop("batch_size", 32), "epochs": kw.pop("epochs", 10)}
        return KerasImageFileEstimator(inputCol="uri", outputCol="probs", labelCol="one_hot", imageLoader=load_image,
                                       modelFile=model_file, kerasOptimizer="adam",
                                       kerasLoss="categorical_crossentropy", kerasFitParams=fit_params, **kw)

    report = {"train_rows": train.count(), "untrained_accuracy": evaluate(_untrained(model_file), held_out)[0]}
    t0 = time.time()
    single = estimator(numWorkers=1).fit(train)
    report["single"] = dict(zip(("accuracy", "max_diff"), evaluate(single, held_out)), seconds=time.time() - t0)

    t0 = time.time()
    multi = estimator(numWorkers=2).fit(train)
    report["multi"] = dict(zip(("accuracy", "max_diff"), evaluate(multi, held_out)), seconds=time.time() - t0,
                           workers=multi.training_workers, epochs=len(multi.history["loss"]),
                           digest=_digest(multi.keras_model.get_weights()))

    t0 = time.time()
    try:
        estimator(numWorkers=3, batch_size=48).fit(train)
        report["too_many"] = {"error": None}
    except ValueError as e:
        report["too_many"] = {"error": str(e), "seconds": time.time() - t0}

    checkpoints = os.path.join(workdir, "checkpoints")
    outcome, fitted = [], []

    def faulty_fit():
        try:
            fitted.append(estimator(numWorkers=2, checkpointDir=checkpoints, epochs=30).fit(train))
            outcome.append("ok")
        except Exception as e:  # reported in the JSON line, asserted by the test
            outcome.append(repr(e))

    thread = threading.Thread(target=faulty_fit)
    thread.start()
    killed = None
    while thread.is_alive() and killed is None:
        pids = training_pids()
        if len(pids) == 2 and os.path.exists(os.path.join(checkpoints, "sparkdl-keras-checkpoint.npz")):
            killed = max(pids)
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    thread.join()
    report["fault"] = {"outcome": outcome, "killed_pid": killed}
    if fitted:
        m = fitted[0]
        report["fault"].update(dict(zip(("accuracy", "max_diff"), evaluate(m, held_out)),
                                    workers=m.training_workers, epochs=len(m.history["loss"])))
    print(json.dumps(report))
    spark.stop()


def _untrained(model_file):
    """The model file as it is, as a fitted transformer (the accuracy to beat)."""
    from sparkdl import KerasImageFileTransformer
    from sparkdl.graph.keras_io import load_keras_model

    model = load_keras_model(model_file)
    transformer = KerasImageFileTransformer(inputCol="uri", outputCol="probs", imageLoader=load_image)
    transformer.setGraph(model)
    transformer.keras_model = model
    return transformer


def _digest(weights):
    from sparkdl.training.weights import weights_digest

    return weights_digest(weights)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main(*sys.argv[1:])
