"""Driver of the executor-loss test: featurize images on a standalone cluster twice, once clean
and once killing an executor JVM mid-job, and compare the two outputs row for row.

    python tests/support/cluster_fault_job.py MASTER_URL IMAGES_DIR OUT_DIR WORKER_PID [WORKER_PID...]

Prints one JSON line with what happened.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np


def executor_children(worker_pids):
    pids = []
    for w in worker_pids:
        out = subprocess.run(["pgrep", "-P", str(w), "-f", "CoarseGrainedExecutorBackend"],
                             capture_output=True, text=True)
        pids += [int(p) for p in out.stdout.split()]
    return pids


def main(master, images_dir, out_dir, *worker_pids):
    import sparkdl
    from sparkdl import DeepImageFeaturizer, readImages

    spark = sparkdl.spark_session(master, app_name="sparkdl-executor-loss",
                                  **{"spark.ui.enabled": "false", "spark.executor.memory": "2g",
                                     "spark.driver.memory": "2g"})
    sc = spark.sparkContext
    # one engine: the runs are compared to 1e-6, and engine auto measures again in the JVM that replaces the lost
    # executor (its choice may differ; the engines agree within 1e-4 only)
    featurizer = DeepImageFeaturizer(inputCol="image", outputCol="features", modelName="EfficientNetLite0",
                                     batchSize=16, engine="tf")

    def run(name):
        sc.setJobGroup(name, name)
        images = readImages(images_dir, recursive=True, numPartitions=16)
        featurizer.transform(images).select("filePath", "features").write.mode("overwrite") \
            .parquet(os.path.join(out_dir, name))

    t0 = time.time()
    run("clean")
    clean_s = time.time() - t0

    outcome = []

    def faulty_run():
        try:
            run("faulty")
            outcome.append("ok")
        except Exception as e:  # reported in the JSON line, asserted by the test
            outcome.append(repr(e))

    thread = threading.Thread(target=faulty_run)
    t0 = time.time()
    thread.start()
    tracker = sc.statusTracker()
    killed, done_at_kill = None, None
    while thread.is_alive() and killed is None:
        for job in tracker.getJobIdsForGroup("faulty"):
            info = tracker.getJobInfo(job)
            for stage in (info.stageIds if info else []):
                s = tracker.getStageInfo(stage)
                if s and s.numTasks >= 16 and 3 <= s.numCompletedTasks < s.numTasks - 3:
                    pids = executor_children(worker_pids)
                    if pids:
                        killed, done_at_kill = pids[0], s.numCompletedTasks
                        os.kill(killed, signal.SIGKILL)
                        break
        time.sleep(0.2)
    thread.join()
    faulty_s = time.time() - t0
    if outcome != ["ok"]:
        print(json.dumps({"outcome": outcome, "killed_pid": killed}))
        spark.stop()
        return

    clean = {r.filePath: np.array(r.features.toArray())
             for r in spark.read.parquet(os.path.join(out_dir, "clean")).collect()}
    faulty_rows = spark.read.parquet(os.path.join(out_dir, "faulty")).collect()
    faulty = {r.filePath: np.array(r.features.toArray()) for r in faulty_rows}
    same_ids = sorted(clean) == sorted(faulty)
    max_diff = max(float(np.abs(clean[k] - faulty[k]).max()) for k in clean) if same_ids else None
    print(json.dumps({"clean_rows": len(clean), "faulty_rows": len(faulty_rows), "distinct_faulty": len(faulty),
                      "same_ids": same_ids, "max_diff": max_diff, "killed_pid": killed,
                      "completed_tasks_at_kill": done_at_kill, "clean_s": round(clean_s, 1),
                      "faulty_s": round(faulty_s, 1), "outcome": outcome}))
    spark.stop()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    main(*sys.argv[1:])
