"""A real Spark standalone cluster (master + 2 workers, each its own JVM, on 127.0.0.1):
the example applications through spark-submit, a job that loses an executor, and
KerasImageFileEstimator training one model on two barrier tasks."""
import glob
import json
import os
import re
import subprocess
import sys

import pytest

import sparkdl
from tests.support.standalone import StandaloneCluster

pytestmark = pytest.mark.cluster
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES_JAR = os.path.join(ROOT, "examples", "scala", "target", "scala-2.13",
                            "sparkdl-examples_2.13-%s.jar" % sparkdl.__version__)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with StandaloneCluster(str(tmp_path_factory.mktemp("standalone")), workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    from tests.support.fixtures import write_shapes

    return write_shapes(str(tmp_path_factory.mktemp("shapes")), n_per_class=30, seed=11, task="shape")


@pytest.fixture(scope="module")
def lite0_export(tmp_path_factory):
    """EfficientNetLite0 exported once for the Scala and SQL applications (as a Scala user does)."""
    model_dir = str(tmp_path_factory.mktemp("models"))
    subprocess.check_call([sys.executable, "-m", "sparkdl.models", "export", "--model", "EfficientNetLite0",
                           "--out", model_dir])
    return model_dir


def read_predictions(path):
    rows = []
    for f in glob.glob(os.path.join(path, "part-*.json")):
        rows += [json.loads(line) for line in open(f)]
    return rows


def check_app(result, out_dir, n_images):
    assert result.returncode == 0, result.stderr[-4000:]
    m = re.search(r"classes=ellipse,rectangle images=(\d+) accuracy=([0-9.]+)", result.stdout)
    assert m, result.stdout[-2000:]
    assert int(m.group(1)) == n_images and float(m.group(2)) >= 0.8
    rows = read_predictions(out_dir)
    assert len(rows) == n_images and len({r["filePath"] for r in rows}) == n_images
    assert {r["label"] for r in rows} == {0.0, 1.0}


def test_python_application(cluster, shapes, tmp_path):
    out = str(tmp_path / "predictions")
    result = cluster.submit(sparkdl.submit_args() + [os.path.join(ROOT, "examples", "python", "transfer_learning.py"),
                                                     shapes, str(tmp_path / "model"), out])
    check_app(result, out, 60)
    assert os.path.isdir(str(tmp_path / "model" / "stages"))


def test_scala_application(cluster, shapes, lite0_export, tmp_path):
    assert os.path.isfile(EXAMPLES_JAR), "build it with `make examples`"
    model_dir = lite0_export
    out = str(tmp_path / "predictions")
    result = cluster.submit(["--class", "TransferLearning"] + sparkdl.submit_args() + [EXAMPLES_JAR,
                             shapes, model_dir, str(tmp_path / "model"), out])
    check_app(result, out, 60)


def test_the_readme_scala_block_runs_as_written(cluster, shapes, lite0_export, tmp_path):
    """The README's Scala block, compiled by the examples build (ReadmeExample), its paths as arguments."""
    model_dir = lite0_export
    saved = str(tmp_path / "flowers")
    result = cluster.submit(["--class", "ReadmeExample"] + sparkdl.submit_args() + [EXAMPLES_JAR, shapes,
                             model_dir, saved])
    assert result.returncode == 0, result.stderr[-4000:]
    table = [line for line in result.stdout.splitlines() if line.startswith("|file:")]
    assert len(table) == 20 and all(re.search(r"\|(ellipse|rectangle)\s*\|[01]\.0\s*\|$", t) for t in table)
    assert os.path.isdir(os.path.join(saved, "stages"))


SQL_ONLY_APP = """
import sys
from pyspark.sql import SparkSession

# no sparkdl import: the functions come from the jar given to spark-submit (its session extension)
spark = SparkSession.builder.getOrCreate()
spark.sql("CREATE TEMPORARY VIEW photos USING sparkdl.image OPTIONS (path '%s', recursive 'true')" % sys.argv[1])
query = spark.sql("SELECT filePath, sparkdl_predict('EfficientNetLite0', image, 1)[0].description AS top FROM photos")
plan = query._jdf.queryExecution().executedPlan().toString()
rows = query.collect()
print("SQL-ONLY rows=%d described=%d batched=%s" % (
    len(rows), sum(r.top is not None for r in rows), "SparkdlModelEval" in plan))
"""


def test_a_sql_only_application(cluster, shapes, lite0_export, tmp_path):
    """spark-submit --jars sparkdl.jar with SQL alone: the built-in functions, batched, on the executors."""
    app = tmp_path / "sql_only.py"
    app.write_text(SQL_ONLY_APP)
    result = cluster.submit(sparkdl.submit_args() + [str(app), shapes],
                            conf={"spark.sparkdl.modelDir": lite0_export})
    assert result.returncode == 0, result.stderr[-4000:]
    assert "SQL-ONLY rows=60 described=60 batched=True" in result.stdout, result.stdout[-2000:]


def test_losing_an_executor_costs_time_not_rows(cluster, tmp_path):
    from tests.support.fixtures import write_shapes

    images = write_shapes(str(tmp_path / "images"), n_per_class=1000, seed=13)
    env = dict(os.environ, PYTHONPATH=ROOT)
    job = os.path.join(ROOT, "tests", "support", "cluster_fault_job.py")
    result = subprocess.run([sys.executable, job, cluster.master_url, images, str(tmp_path / "out")]
                            + [str(p) for p in cluster.worker_pids],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(report)
    assert report["killed_pid"] is not None, "no executor was killed mid-job"
    assert report["outcome"] == ["ok"]
    assert report["clean_rows"] == 2000 and report["faulty_rows"] == 2000 and report["distinct_faulty"] == 2000
    assert report["same_ids"] and report["max_diff"] <= 1e-6


@pytest.fixture(scope="module")
def distributed_training(cluster, tmp_path_factory):
    """tests/support/cluster_training_job.py's report: numWorkers 1, 2, 3 (too many) and 2 with a killed worker."""
    env = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "support", "cluster_training_job.py"),
                             cluster.master_url, str(tmp_path_factory.mktemp("training"))],
                            capture_output=True, text=True, timeout=900, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(report)
    return report


def test_two_workers_train_one_model_as_well_as_one(distributed_training):
    report = distributed_training
    single, multi = report["single"], report["multi"]
    workers = multi["workers"]
    assert len({w["pid"] for w in workers}) == 2, "two training processes"
    assert [w["rows"] for w in workers] == [report["train_rows"] // 2] * 2, "each trained on half of the rows"
    assert workers[0]["weightsDigest"] == workers[1]["weightsDigest"] == multi["digest"], "identical replicas"
    assert multi["epochs"] == 10
    assert report["untrained_accuracy"] < 0.75  # what the accuracies below are worth
    assert single["accuracy"] >= 0.9, single
    assert multi["accuracy"] >= single["accuracy"] - 0.05, (multi, single)
    assert multi["max_diff"] <= 1e-5 and single["max_diff"] <= 1e-5  # transform == Keras predict


def test_more_workers_than_slots_fail_before_training(distributed_training):
    too_many = distributed_training["too_many"]
    assert too_many["error"] and "numWorkers=3, but the cluster runs 2 tasks at once" in too_many["error"]
    assert too_many["seconds"] < 30


def test_a_killed_training_worker_costs_a_retry_from_the_last_checkpoint(distributed_training):
    fault = distributed_training["fault"]
    assert fault["killed_pid"] is not None, "no training process was killed mid-training"
    assert fault["outcome"] == ["ok"]
    workers = fault["workers"]
    assert fault["killed_pid"] not in {w["pid"] for w in workers}, "the stage ran again, in new processes"
    assert all(1 <= w["resumedFromEpoch"] < 30 for w in workers), "resumed from a checkpoint"
    assert workers[0]["weightsDigest"] == workers[1]["weightsDigest"]
    assert fault["epochs"] == 30 and fault["accuracy"] >= 0.9 and fault["max_diff"] <= 1e-5
