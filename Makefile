# Everything a fresh clone needs: `make run` builds what is missing and runs the demo;
# `make test` builds what is missing and runs every test. Nothing is installed globally:
# Python packages go to .venv, Java artifacts to ~/.m2 and */target.

SHELL := /bin/bash
.DEFAULT_GOAL := build

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
JAVA_HOME ?= $(shell dirname "$$(dirname "$$(readlink -f "$$(command -v javac)")")")
export JAVA_HOME
MVN := mvn -B -q

JEP_VERSION := 4.2.2
NUMPY_VERSION := 2.1.3

PROTO_DIR := runtime-java/src/main/proto
PROTOS := $(wildcard $(PROTO_DIR)/ray/rpc/*.proto)
STUBS := $(patsubst $(PROTO_DIR)/%.proto,python-client/%_pb2.py,$(PROTOS))
JAVA_SOURCES := $(shell find runtime-java/src/main shared-memory/src/main ray-api/src/main examples-java/src/main -type f 2>/dev/null) pom.xml runtime-java/pom.xml shared-memory/pom.xml ray-api/pom.xml examples-java/pom.xml .mvn/jvm.config
ENGINE_JAR := runtime-java/target/lib/ray-runtime-java.jar
BUNDLED_JAR := python-client/ray/_jars/ray-runtime-java.jar
# A real S3 endpoint for the Ray Data tests (they start it themselves; see tests/s3.py).
S3PROXY_VERSION := 2.6.0
S3PROXY_JAR := target/s3proxy/s3proxy-$(S3PROXY_VERSION)-jar-with-dependencies.jar

.PHONY: build run run-java run-java-python test test-java test-python bench bench-ray lint format clean

build: $(VENV)/.client-installed $(STUBS) $(BUNDLED_JAR) $(S3PROXY_JAR)

# --- Python environment -------------------------------------------------------------------
$(VENV)/bin/python:
	$(PYTHON) -c 'import sys, sysconfig; assert sys.version_info >= (3, 9), "Python 3.9+ needed"; assert sysconfig.get_config_var("Py_ENABLE_SHARED"), "Jep needs a Python built with --enable-shared"'
	$(PYTHON) -m venv $(VENV)

# Jep decides NumPy support at build time: NumPy first, then Jep without build isolation,
# against the same JDK that runs the engine. Its version must equal the jar's (pom.xml).
$(VENV)/.jep-installed: $(VENV)/bin/python
	$(PIP) install "numpy==$(NUMPY_VERSION)" "setuptools==75.6.0" "wheel==0.45.1"
	$(PIP) install --no-build-isolation "jep==$(JEP_VERSION)"
	$(PY) -c 'import importlib.metadata as m, sys; v = m.version("jep"); sys.exit(0 if v == "$(JEP_VERSION)" else "jep " + v + " installed, $(JEP_VERSION) expected")'
	grep -q "<jep.version>$(JEP_VERSION)</jep.version>" pom.xml || (echo "pom.xml jep.version differs from $(JEP_VERSION)" >&2; exit 1)
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.jep-installed
	$(PIP) install -r requirements-dev.txt
	touch $@

$(VENV)/.client-installed: python-client/pyproject.toml $(VENV)/.dev-installed
	$(PIP) install --no-build-isolation -e "python-client[data]" --config-settings editable_mode=compat
	touch $@

$(S3PROXY_JAR):
	$(MVN) dependency:copy -Dartifact=org.gaul:s3proxy:$(S3PROXY_VERSION):jar:jar-with-dependencies -DoutputDirectory=target/s3proxy

# --- Generated protobuf messages (same .proto files as the Java build) --------------------
$(STUBS) &: $(PROTOS) $(VENV)/.dev-installed
	$(PY) -m grpc_tools.protoc -I $(PROTO_DIR) --python_out=python-client --pyi_out=python-client $(PROTOS)

# --- Java engine ---------------------------------------------------------------------------
$(ENGINE_JAR): $(JAVA_SOURCES)
	$(MVN) -DskipTests package

# The jars the Python package starts JVMs from, and a class-data-sharing archive made for
# exactly these paths (JVMs start about a third faster with it).
$(BUNDLED_JAR): $(ENGINE_JAR) $(VENV)/.client-installed
	rm -rf python-client/ray/_jars
	mkdir -p python-client/ray/_jars
	cp runtime-java/target/lib/* python-client/ray/_jars/
	$(PY) -c 'from ray._private.node import dump_class_archive; dump_class_archive()'


# --- Entry points ----------------------------------------------------------------------------
run: build
	$(PY) examples-py/image_pipeline.py

# Ray's Java quick start (examples-java) on an embedded local cluster.
run-java: build
	$(JAVA_HOME)/bin/java @python-client/ray/_jars/jvm.options -cp "examples-java/target/classes:python-client/ray/_jars/*" io.ray.examples.QuickStart

# Calling Python from Java (examples-java's CallPython); the cluster's Python workers use our venv.
run-java-python: build
	RAY_PYTHON=$(CURDIR)/$(PY) $(JAVA_HOME)/bin/java @python-client/ray/_jars/jvm.options -cp "examples-java/target/classes:python-client/ray/_jars/*" io.ray.examples.CallPython

test: build lint test-java test-python

# RAY_PYTHON: the interpreter whose Python workers the Java tests' own clusters run (calls from
# Java to Python).
test-java: build
	RAY_PYTHON=$(CURDIR)/$(PY) $(MVN) test

test-python: build
	$(VENV)/bin/tox -q

bench: build
	$(PY) benchmarks/core_bench.py

# Real Ray in its own venv, only to compare against; never a dependency of ours.
$(VENV)-ray/bin/python:
	$(PYTHON) -m venv $(VENV)-ray
	$(VENV)-ray/bin/pip install -q "ray==2.60.0" "numpy==$(NUMPY_VERSION)"

bench-ray: $(VENV)-ray/bin/python
	$(VENV)-ray/bin/python benchmarks/core_bench.py

RUFF := $(VENV)/bin/ruff
PY_SOURCES := python-client benchmarks examples-py
RUFF_CONFIG := --config python-client/pyproject.toml

# Java formatting is checked by Maven itself (spotless, in the validate phase).
lint: build
	$(RUFF) check $(RUFF_CONFIG) $(PY_SOURCES)
	$(RUFF) format --check $(RUFF_CONFIG) $(PY_SOURCES)

format: $(VENV)/.dev-installed
	$(MVN) spotless:apply
	$(RUFF) format $(RUFF_CONFIG) $(PY_SOURCES)
	$(RUFF) check --fix $(RUFF_CONFIG) $(PY_SOURCES)

clean:
	$(MVN) clean || true
	rm -rf $(VENV) $(VENV)-ray .tox python-client/ray/_jars python-client/*.egg-info
	rm -f python-client/ray/rpc/*_pb2.py python-client/ray/rpc/*_pb2.pyi
