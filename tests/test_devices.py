"""GPU placement from Spark's resource scheduling, checked on CPU: a discovery script makes Spark
assign GPU addresses to two executor JVMs of a local cluster; each executor's TensorFlow and ONNX
Runtime settings follow its address (what they would use on GPU executors), and the models run."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.cluster
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_each_executor_uses_the_gpu_spark_assigned_to_it(tmp_path):
    job = os.path.join(ROOT, "tests", "support", "device_placement_job.py")
    result = subprocess.run([sys.executable, job, str(tmp_path)],
                            capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(report)
    for when in ("before", "after"):
        executors = report[when]
        assert [d["gpu"] for d in executors] == ["0", "1"], executors  # one address each, as assigned
        for d in executors:
            assert not d["localMode"]
            assert d["tensorflow"] == {"visible_device_list": d["gpu"], "gpu_count": None, "allow_growth": True}
            # this build's ONNX Runtime has no CUDA provider: CPU (the GPU build would take CUDA:<gpu>)
            assert "CUDA" not in d["onnxruntimeProviders"] and d["onnxruntime"] == "CPU"
    assert report["tf_max_diff"] <= 1e-5 and report["onnx_max_diff"] <= 1e-5
