"""Driver of the GPU-placement test, on CPU: Spark's resource scheduling assigns GPU addresses
(from a discovery script) to two executor JVMs, which run a TensorFlow and an ONNX model.

    python tests/support/device_placement_job.py WORKDIR

Prints one JSON line: each executor's sparkdl_device() before and after the models ran, and
the models' largest difference from Keras and Python onnxruntime.
"""
import json
import os
import stat
import sys

import numpy as np


def main(workdir):
    import keras
    import onnxruntime as ort
    from pyspark.sql import Row

    import sparkdl
    from sparkdl import ONNXTransformer, TFTransformer
    from tests.support.fixtures import mlp

    script = os.path.join(workdir, "discover_gpus.sh")
    with open(script, "w") as f:
        f.write('#!/bin/sh\necho \'{"name": "gpu", "addresses": ["0", "1"]}\'\n')
    os.chmod(script, os.stat(script).st_mode | stat.S_IEXEC)
    # one worker with 2 cores and 2 "GPUs"; two executors of 1 core and 1 GPU each
    spark = sparkdl.spark_session("local-cluster[1,2,2048]", app_name="sparkdl-gpu-placement", **{
        "spark.ui.enabled": "false", "spark.executor.cores": "1", "spark.executor.memory": "900m",
        "spark.worker.resource.gpu.amount": "2", "spark.worker.resource.gpu.discoveryScript": script,
        "spark.executor.resource.gpu.amount": "1", "spark.task.resource.gpu.amount": "1"})

    def devices():
        rows = spark.range(0, 64, 1, 8).selectExpr("sparkdl_device() AS d").distinct().collect()
        return sorted((json.loads(r.d) for r in rows), key=lambda d: d["gpu"] or "")

    report = {"before": devices()}
    keras.utils.set_random_seed(4)
    inputs = keras.Input((5,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(3, activation="tanh", name="y")(inputs))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    df = spark.createDataFrame([Row(id=i, x=[float(v) for v in x[i]]) for i in range(len(x))]).repartition(4)
    tf_stage = TFTransformer(graph=model, inputMapping={"x": "input"}, outputMapping={"output": "y"})
    got = np.array([r.y for r in sorted(tf_stage.transform(df).collect(), key=lambda r: r.id)])
    report["tf_max_diff"] = float(np.abs(got - model.predict_on_batch(x)).max())
    path = mlp(os.path.join(workdir, "mlp.onnx"))
    onnx_df = spark.createDataFrame([Row(id=i, x=[float(v) for v in x[i, :4]]) for i in range(len(x))]).repartition(4)
    onnx_stage = ONNXTransformer(modelPath=path, inputMapping={"x": "x"}, outputMapping={"y": "y"})
    got = np.array([r.y for r in sorted(onnx_stage.transform(onnx_df).collect(), key=lambda r: r.id)])
    want = ort.InferenceSession(path).run(["y"], {"x": x[:, :4]})[0]
    report["onnx_max_diff"] = float(np.abs(got - want).max())
    report["after"] = devices()
    print(json.dumps(report))
    spark.stop()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main(*sys.argv[1:])
