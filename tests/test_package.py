"""The package as a user gets it: the wheel (platform tag, license, jar inside) installed into a
clean virtualenv with no source tree and no Makefile, running the README's quickstart as written
(its folder of images excepted)."""
import os
import re
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.package


def readme_block(title):
    """The first ```python block under the README heading ``title``."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## %s\n" % title):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    ROOT], check=True)
    (path,) = [os.path.join(out, f) for f in os.listdir(out)]
    return path


def test_the_wheel_is_tagged_for_its_natives_and_carries_license_and_jar(wheel):
    import sparkdl

    assert os.path.basename(wheel) == "sparkdl-%s-py3-none-manylinux2014_x86_64.whl" % sparkdl.__version__
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read("sparkdl-%s.dist-info/METADATA" % sparkdl.__version__).decode()
    assert "sparkdl/jars/sparkdl-assembly-%s.jar" % sparkdl.__version__ in names
    assert "sparkdl/py.typed" in names  # the type hints reach users' type checkers
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)
    assert "Apache-2.0" in metadata and "Provides-Extra: connect" in metadata
    assert "## Quickstart" in metadata  # the README is the package's description


def test_quickstart_runs_from_the_wheel_in_a_clean_venv(wheel, tmp_path):
    from tests.fixtures import write_shapes

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", wheel + "[spark,tf]"], check=True, timeout=900)
    subprocess.run([python, "-m", "pip", "check"], check=True)
    images = write_shapes(str(tmp_path / "images"), n_per_class=15, seed=9, task="colour")
    code = readme_block("Quickstart")
    assert code.count('IMAGES = "/data/flowers"') == 1
    script = tmp_path / "quickstart.py"
    script.write_text(code.replace('IMAGES = "/data/flowers"', "IMAGES = %r" % images) + '''
from pyspark.ml import PipelineModel
accuracy = model.transform(labelled).filter("label = prediction").count() / labelled.count()
print("ACCURACY:", accuracy, "FEATURIZER:", type(PipelineModel.load("flowers-model").stages[1]).__name__)
''')
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARKDL_JAR", "PYSPARK_PYTHON")}
    work = tmp_path / "work"  # no source tree on the path
    work.mkdir()
    out = subprocess.run([python, str(script)], cwd=str(work), capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-5000:]
    assert "/site-packages/sparkdl/" in subprocess.run(
        [python, "-c", "import sparkdl; print(sparkdl.__file__)"], cwd=str(work), capture_output=True, text=True,
        env=env).stdout
    line = [x for x in out.stdout.splitlines() if x.startswith("ACCURACY:")][0]
    assert float(line.split()[1]) >= 0.9 and line.endswith("FEATURIZER: DeepImageFeaturizer"), line
    assert "|filePath" in out.stdout and "description" in out.stdout  # the tables the quickstart shows
