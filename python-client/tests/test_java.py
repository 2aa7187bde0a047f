"""Java users: a program written against Ray's Java documentation (examples-java's QuickStart),
compiled here against our API jar with no change, runs on the embedded local cluster its
Ray.init() starts and on a `ray start` cluster (-Dray.address=auto). Real processes: the
driver JVM, the node, Java worker JVMs."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ray._private.node import jar_directory, java_executable

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples-java" / "src" / "main" / "java" / "io" / "ray" / "examples"
QUICKSTART = EXAMPLES / "QuickStart.java"
RAY = str(Path(sys.executable).parent / "ray")
EXPECTED = [
    "squares: [0, 1, 4, 9]",
    "counter: [1, 2, 3, 4]",
    "hello from Ray.put",
    "ready: 2",
    "named counter: 2",
]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """QuickStart.class, compiled against the ray-api jar alone (as a user's build does)."""
    out = tmp_path_factory.mktemp("quickstart")
    jars = jar_directory()
    api = glob.glob(os.path.join(jars, "ray-api-*.jar"))
    assert api, f"no ray-api jar in {jars}"
    javac = os.path.join(os.path.dirname(java_executable()), "javac")
    sources = [str(QUICKSTART), str(EXAMPLES / "CallPython.java")]
    result = subprocess.run(
        [javac, "-cp", api[0], "-d", str(out), *sources], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return out


def _run(
    classes: Path, env: dict, *props: str, main: str = "io.ray.examples.QuickStart"
) -> subprocess.CompletedProcess:
    jars = jar_directory()
    cmd = [
        java_executable(),
        f"@{os.path.join(jars, 'jvm.options')}",
        *props,
        "-cp",
        f"{classes}{os.pathsep}{os.path.join(jars, '*')}",
        main,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)


def _printed(result: subprocess.CompletedProcess) -> list:
    return [line for line in result.stdout.splitlines() if not line.startswith("(")]


def test_quickstart_runs_on_the_embedded_cluster_its_ray_init_starts(compiled, tmp_path):
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    env.pop("RAY_ADDRESS", None)
    result = _run(compiled, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _printed(result) == EXPECTED, result.stdout + result.stderr


def test_quickstart_runs_on_a_ray_start_cluster(compiled, tmp_path):
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    env.pop("RAY_ADDRESS", None)
    start = subprocess.run(
        [RAY, "start", "--head", "--port", "0", "--num-cpus", "2"], capture_output=True, text=True, timeout=120, env=env
    )
    assert start.returncode == 0, start.stderr
    try:
        result = _run(compiled, env, "-Dray.address=auto")
    finally:
        subprocess.run([RAY, "stop"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _printed(result) == EXPECTED, result.stdout + result.stderr


def test_the_call_python_example_runs_python_from_java(compiled, tmp_path):
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path), "RAY_PYTHON": sys.executable}
    env.pop("RAY_ADDRESS", None)
    result = _run(compiled, env, main="io.ray.examples.CallPython")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _printed(result) == [
        "math.sqrt(2) = 1.4142135623730951",
        "sorted([3, 1, 2]) = [1, 2, 3]",
        "a Python list actor holds our value 1 time(s)",
    ], result.stdout + result.stderr
