"""The node's life cycle with real processes: what a departed job held comes back, blocking
parents do not make the node start a worker per parent, and a crashing worker JVM writes its
report to the session's logs."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest
from conftest import PYTHON
from helpers import wait_until

import ray

RAY = str(Path(sys.executable).parent / "ray")


def _ray(args, env, timeout=120):
    return subprocess.run([RAY, *args], capture_output=True, text=True, timeout=timeout, env=env)


def _worker_processes():
    found = []
    for p in psutil.process_iter(["cmdline", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and "io.ray.engine.worker.WorkerMain" in " ".join(
                p.info["cmdline"] or []
            ):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def test_a_driver_that_exits_mid_task_gives_back_every_cpu(tmp_path):
    """Driver 1 leaves (os._exit) while two tasks run and an actor's __init__ runs; the next
    driver finds all three CPUs free and its task runs."""
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    started = _ray(["start", "--head", "--port", "0", "--num-cpus", "3"], env)
    assert started.returncode == 0, started.stderr
    try:
        first = tmp_path / "first.py"
        first.write_text(
            textwrap.dedent(
                f"""
                import os, time
                import ray
                ray.init(address="auto")
                marks = {str(tmp_path)!r}

                @ray.remote
                def hold(i):
                    open(os.path.join(marks, f"task{{i}}"), "w").close()
                    time.sleep(30)

                @ray.remote(num_cpus=1)
                class Slow:
                    def __init__(self):
                        open(os.path.join(marks, "actor"), "w").close()
                        time.sleep(30)

                refs = [hold.remote(i) for i in range(2)]
                actor = Slow.remote()
                deadline = time.monotonic() + 60
                names = ("task0", "task1", "actor")
                while not all(os.path.exists(os.path.join(marks, n)) for n in names):
                    assert time.monotonic() < deadline, "tasks did not start"
                    time.sleep(0.05)
                os._exit(0)
                """
            )
        )
        run = subprocess.run([PYTHON, str(first)], capture_output=True, text=True, timeout=120, env=env)
        assert run.returncode == 0, run.stderr
        second = tmp_path / "second.py"
        second.write_text(
            textwrap.dedent(
                """
                import time
                import ray
                ray.init(address="auto")
                deadline = time.monotonic() + 30
                while ray.available_resources().get("CPU", 0) < 3:
                    assert time.monotonic() < deadline, ray.available_resources()
                    time.sleep(0.1)

                @ray.remote
                def one():
                    return 1

                print("RESULT", ray.get(one.remote(), timeout=60), ray.available_resources()["CPU"])
                ray.shutdown()
                """
            )
        )
        run = subprocess.run([PYTHON, str(second)], capture_output=True, text=True, timeout=120, env=env)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "RESULT 1" in run.stdout
    finally:
        stopped = _ray(["stop"], env)
        assert stopped.returncode == 0, stopped.stderr


def test_blocking_parents_do_not_start_a_worker_each():
    """200 parents on 2 CPUs, each waiting for 10 children: the lent CPUs go to children, and
    the node runs at most 2 x num_cpus + 2 worker processes at any moment (Ray: at most 4)."""
    ray.init(num_cpus=2)
    try:

        @ray.remote
        def child(i):
            return i

        @ray.remote
        def parent(j):
            return sum(ray.get([child.remote(i) for i in range(10)])) + j

        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], len(_worker_processes()))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        results = ray.get([parent.remote(j) for j in range(200)], timeout=300)
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        assert results == [45 + j for j in range(200)]
        assert peak[0] <= 2 * 2 + 2, f"{peak[0]} worker processes at once"
        print(f"200 parents x 10 children: {elapsed:.1f} s, at most {peak[0]} workers")
    finally:
        ray.shutdown()


def test_a_crashing_worker_writes_its_report_to_the_session_logs(tmp_path):
    script = tmp_path / "crash.py"
    script.write_text(
        textwrap.dedent(
            """
            import ctypes, glob, os
            import ray
            ray.init(num_cpus=1)

            @ray.remote(max_retries=0)
            def crash():
                ctypes.string_at(0)

            try:
                ray.get(crash.remote())
            except ray.exceptions.WorkerCrashedError:
                print("CRASHED")
            from ray._private import api
            print("SESSION", api._driver.node.session_dir)
            ray.shutdown()
            """
        )
    )
    run = subprocess.run([PYTHON, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    assert "CRASHED" in run.stdout
    assert glob.glob(str(tmp_path / "hs_err_pid*.log")) == [], "a crash report in the user's directory"
    session = next(line.split(" ", 1)[1] for line in run.stdout.splitlines() if line.startswith("SESSION "))
    assert glob.glob(os.path.join(session, "logs", "hs_err_pid*.log")), "no crash report in the session logs"


@pytest.fixture(autouse=True)
def _no_cluster_left():
    yield
    wait_until(lambda: not _worker_processes(), timeout=30, what="worker processes to exit")
