"""Fixtures: real clusters (real processes, gRPC and shared memory), checked for leftovers."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

# Tests start the clusters they use. A plain ray.init() joins the cluster that `ray start`
# recorded on this machine (RAY_TMPDIR/ray_current_cluster) or RAY_ADDRESS, so the suite gets
# its own temp root (inherited by the drivers it starts) and no RAY_ADDRESS: a cluster someone
# else started on this machine is never joined. Set before ray is imported (it reads them then).
os.environ["RAY_TMPDIR"] = tempfile.mkdtemp(prefix="ray-tests-")
os.environ.pop("RAY_ADDRESS", None)

import ray  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TUTORIAL = REPO.parent / "shared" / "tutorial"
PYTHON = sys.executable


def tutorial_dir() -> Path:
    """../shared/tutorial; in CI its absence is a failure, elsewhere a skip."""
    if TUTORIAL.is_dir():
        return TUTORIAL
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the tutorial folder {TUTORIAL} is missing")
    pytest.skip(f"tutorial folder {TUTORIAL} not present")


def engine_processes():
    """Our engine's processes (node and worker JVMs) that are alive now, any parent."""
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if p.info["status"] != psutil.STATUS_ZOMBIE and (
                "io.ray.engine.node.NodeMain" in cmd or "io.ray.engine.worker.WorkerMain" in cmd
            ):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def arena_files():
    return glob.glob("/dev/shm/rayjvm_*")


def run_script(path, *, cwd=None, timeout=180, env=None):
    """Runs a Python script with this interpreter; returns the CompletedProcess."""
    return subprocess.run(
        [PYTHON, str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def gate(tmp_path):
    """A file that blocked tasks wait for; opened at teardown too, so that a failing test
    does not leave tasks holding CPUs for the next one."""
    path = tmp_path / "gate"
    yield path
    path.touch()


@pytest.fixture(scope="module")
def ray_cluster():
    """A 2-CPU local cluster shared by a module's tests."""
    ray.init(num_cpus=2, object_store_memory=512 * 1024 * 1024)
    yield
    ray.shutdown()


@pytest.fixture
def ray_fresh():
    """A cluster for one test, with options given through indirect parametrization or defaults."""
    yield lambda **kw: ray.init(**kw)
    ray.shutdown()


@pytest.fixture(autouse=True, scope="session")
def no_leftovers():
    """After the whole session, nothing of ours may be running or mapped."""
    yield
    if ray.is_initialized():
        ray.shutdown()
    leftovers = [p for p in engine_processes() if _descends_from_us(p)]
    assert not leftovers, f"engine processes left running: {[p.pid for p in leftovers]}"
    stale = [f for f in arena_files() if not _owner_alive(f)]
    assert not stale, f"arena files left behind: {stale}"


def _descends_from_us(p) -> bool:
    try:
        return any(a.pid == os.getpid() for a in p.parents())
    except psutil.NoSuchProcess:
        return False


def _owner_alive(path: str) -> bool:
    try:
        pid = int(os.path.basename(path).split("_")[1])
    except (IndexError, ValueError):
        return False
    return psutil.pid_exists(pid)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3 endpoint (s3proxy) for the session; its AWS variables are in ``.env``."""
    from s3 import S3Server

    server = S3Server(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()
