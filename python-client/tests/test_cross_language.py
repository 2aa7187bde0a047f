"""Calls between Python and Java, both ways, on the real engine: a Python driver calls Java static
methods (ray.cross_language.java_function), a Java driver calls Python functions (PyFunction);
values of every type in Ray's cross-language table cross both ways, and exceptions arrive with
their type and message (CrossLanguageError in Python, CrossLanguageException in Java)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ray
from ray._private.node import jar_directory, java_executable
from ray.job_config import JobConfig

HERE = Path(__file__).resolve().parent / "cross_language"


def _javac(out: Path) -> None:
    jars = jar_directory()
    javac = os.path.join(os.path.dirname(java_executable()), "javac")
    files = [str(p) for p in HERE.rglob("*.java")]
    result = subprocess.run(
        [javac, "-cp", os.path.join(jars, "*"), "-d", str(out / "classes"), *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def java_code(tmp_path_factory):
    out = tmp_path_factory.mktemp("java")
    _javac(out)
    return out / "classes"


@pytest.fixture
def cluster_with_java(java_code):
    ray.init(num_cpus=2, job_config=JobConfig(code_search_path=[str(java_code)]))
    yield
    ray.shutdown()


def test_python_calls_java_with_every_cross_language_type(cluster_with_java):
    f = ray.cross_language.java_function
    assert ray.get(f("io.demo.Ops", "add").remote(1, 2)) == 3
    for value in (None, True, False, 7, -(2**40), 3.25, "héllo", b"\x00\x01", [1, "a", [2.5]], {"k": [1, {"n": None}]}):
        assert ray.get(f("io.demo.Ops", "echo").remote(value)) == value, value
    assert ray.get(f("io.demo.Ops", "concat").remote("ab", "cd")) == "abcd"
    assert ray.get(f("io.demo.Ops", "sum").remote([1, 2, 3])) == 6
    assert ray.get(f("io.demo.Ops", "size").remote(b"12345")) == 5
    assert ray.get(f("io.demo.Ops", "half").remote(5)) == 2.5
    assert ray.get(f("io.demo.Ops", "not").remote(True)) is False
    assert ray.get(f("io.demo.Ops", "count").remote({"a": 1, "b": 2})) == 2
    # A Java primitive array comes back as a NumPy array.
    assert ray.get(f("io.demo.Ops", "scale").remote([1.0, 2.0], 3.0)).tolist() == [3.0, 6.0]
    # A result travels on as an argument by reference.
    three = f("io.demo.Ops", "add").remote(1, 2)
    assert ray.get(f("io.demo.Ops", "add").remote(three, 10)) == 13


def test_a_numpy_array_crosses_to_java_through_shared_memory_and_back(cluster_with_java):
    import math

    import numpy as np

    f = ray.cross_language.java_function
    arr = np.random.default_rng(0).standard_normal(256 * 1024 * 1024 // 8)  # 256 MiB of float64
    info = ray.get(f("io.demo.Arrays", "inspect").remote(arr))
    # The Java task read a direct view of the object in shared memory: its heap did not take a
    # copy of the 256 MiB payload.
    assert info["direct"] is True and info["length"] == arr.size
    assert info["heapGrowthMiB"] < 32, info
    assert math.isclose(info["sum"], float(arr.sum()), rel_tol=1e-9)
    back = ray.get(f("io.demo.Arrays", "same").remote(arr))
    assert back.dtype == np.float64 and back.shape == arr.shape and np.array_equal(back, arr)
    assert not back.flags.owndata  # a view of the returned object in shared memory, not a copy
    np.testing.assert_array_equal(ray.get(f("io.demo.Arrays", "doubled").remote(np.arange(5.0))), np.arange(5.0) * 2)


def test_java_exceptions_and_bad_calls_reach_python_as_cross_language_errors(cluster_with_java):
    f = ray.cross_language.java_function
    with pytest.raises(ray.exceptions.CrossLanguageError, match="IllegalStateException: no good"):
        ray.get(f("io.demo.Ops", "fail").remote("no good"))
    with pytest.raises(ray.exceptions.CrossLanguageError, match="io.demo.Missing"):
        ray.get(f("io.demo.Missing", "run").remote())
    with pytest.raises(ray.exceptions.CrossLanguageError, match="with 3 parameters does not exist"):
        ray.get(f("io.demo.Ops", "add").remote(1, 2, 3))
    with pytest.raises(ray.exceptions.CrossLanguageError, match="does not fit"):
        ray.get(f("io.demo.Ops", "add").remote("one", 2))
    with pytest.raises(TypeError, match="cannot cross to Java"):
        f("io.demo.Ops", "echo").remote(object())
    # The Java worker survives all of it.
    assert ray.get(f("io.demo.Ops", "add").remote(20, 22)) == 42


def test_python_creates_and_calls_a_java_actor(cluster_with_java):
    counter = ray.cross_language.java_actor_class("io.demo.Counter").remote(5)
    assert ray.get([counter.increment.remote(1) for _ in range(3)]) == [6, 7, 8]
    with pytest.raises(ray.exceptions.CrossLanguageError, match="UnsupportedOperationException: counters do not fail"):
        ray.get(counter.fail.remote())
    assert ray.get(counter.get.remote()) == 8  # the actor lives on after its method raised


def test_ray_cancel_interrupts_a_running_java_task(cluster_with_java, tmp_path):
    f = ray.cross_language.java_function
    marker = tmp_path / "started"
    ref = f("io.demo.Ops", "sleepAfterMarking").remote(str(marker), 60_000)
    deadline = time.monotonic() + 30
    while not marker.exists():  # the task is running in its Java worker
        assert time.monotonic() < deadline, "the Java task never started"
        time.sleep(0.02)
    ray.cancel(ref)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(ref, timeout=20)
    # Its worker lives on and runs the next task.
    assert ray.get(f("io.demo.Ops", "add").remote(2, 3)) == 5


def test_java_finds_a_named_python_actor_and_calls_it(cluster_with_java):
    @ray.remote
    class Tally:
        def __init__(self):
            self.n = 0

        def increment(self, by):
            self.n += by
            return self.n

    tally = Tally.options(name="tally").remote()
    assert ray.get(tally.increment.remote(1)) == 1
    f = ray.cross_language.java_function
    # Java's Ray.getActor("tally") gives a PyActorHandle; its call crosses back to Python.
    assert ray.get(f("io.demo.NamedPy", "incrementNamed").remote("tally", 5)) == 6
    assert ray.get(tally.increment.remote(1)) == 7
    with pytest.raises(ray.exceptions.CrossLanguageError, match="no actor named missing"):
        ray.get(f("io.demo.NamedPy", "incrementNamed").remote("missing", 1))


def test_java_calls_python_with_every_cross_language_type(java_code, tmp_path):
    py_dir = HERE  # py_ops.py, found by the Python workers through the code search path
    jars = jar_directory()
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path), "RAY_PYTHON": sys.executable}
    env.pop("RAY_ADDRESS", None)
    cmd = [
        java_executable(),
        f"@{os.path.join(jars, 'jvm.options')}",
        f"-Dray.job.code-search-path={java_code}{os.pathsep}{py_dir}",
        "-cp",
        f"{java_code}{os.pathsep}{os.path.join(jars, '*')}",
        "io.demo.CallPython",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = [line for line in result.stdout.splitlines() if not line.startswith("(")]
    assert printed == [
        "add 5",
        "echo null null",
        "echo bool true",
        "echo long 1099511627776",
        "echo double 2.5",
        "echo string héllo",
        "echo bytes 3 3",
        "echo list [1, a, [2]]",
        "echo map {k=[1, 2]}",
        "describe dict:{'n': 1}",
        "raised true",
        "py actor 15 20",
    ], result.stdout + result.stderr


def test_py4j_reaches_the_jobs_classes_and_its_jvm_stops_with_the_driver(cluster_with_java):
    import psutil
    from py4j.java_gateway import GatewayParameters, JavaGateway
    from py4j.protocol import Py4JError

    gw = ray.util.java_gateway()
    assert gw.jvm.io.demo.Ops.add(1, 2) == 3
    counter = gw.jvm.io.demo.Counter(5)  # an object of the job's code, living in that JVM
    assert counter.increment(2) == 7 and counter.get() == 7
    assert gw.jvm.java.lang.Math.max(3, 9) == 9
    assert ray.util.java_gateway() is gw  # one JVM per driver
    process = ray._private.api.driver_state().java_gateway.process
    port = gw.gateway_parameters.port
    intruder = JavaGateway(gateway_parameters=GatewayParameters(port=port, auth_token="not-the-token"))
    with pytest.raises(Py4JError):
        intruder.jvm.java.lang.Math.max(1, 2)  # loopback only, and only with the driver's token
    intruder.close()
    ray.shutdown()
    assert process.poll() is not None and not psutil.pid_exists(process.pid)  # the JVM is gone
