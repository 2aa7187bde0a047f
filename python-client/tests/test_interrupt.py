"""Ctrl-C during ray.get: the driver always exits, and nothing of its cluster stays behind.

A KeyboardInterrupt that lands inside grpc's Python code can leave a channel lock held; the
driver's atexit ray.shutdown() then blocked on it forever, and the engine, its workers and the
arena stayed. The driver below arms a kernel timer (setitimer; its SIGALRM handler sends SIGINT
to the process) and then calls ray.get(ref, timeout=0) on a never-finishing task in a loop:
each call is a whole RPC (start, wait, read the result), so an interrupt d ms in lands in some
call's setup, wait or result, a different phase for each d. The sweep covers 0-20 ms in 1 ms
steps.

Cost (CI has 2 cores): the 21 sweep drivers share one `ray start --head` cluster (address=...)
instead of starting a node each; the hang was in the driver's own gRPC teardown, which is the
same whichever cluster it joined, and the shared node shows the job's workers going away after
every driver. Two more drivers start an embedded cluster to show that the engine process and
the arena file of an interrupted driver are gone too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from helpers import wait_until

RAY = str(Path(sys.executable).parent / "ray")
EXIT_BOUND_S = 60

DRIVER = textwrap.dedent(
    """
    import os, signal, sys, time
    import ray

    address, delay_ms = sys.argv[1], float(sys.argv[2])
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=1, log_to_driver=False)
        node = ray._private.api._driver.node
        print("NODE", node.process.pid, node.info["arena_path"], flush=True)

    @ray.remote
    def forever():
        time.sleep(3600)

    ref = forever.remote()
    signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    signal.setitimer(signal.ITIMER_REAL, max(delay_ms, 0.05) / 1000)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            ray.get(ref, timeout=0)
        except ray.exceptions.GetTimeoutError:
            pass
    print("NOT INTERRUPTED", flush=True)
    """
)


def _run_driver(script: Path, address: str, delay_ms: float, env) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(
            [sys.executable, str(script), address, str(delay_ms)],
            capture_output=True,
            text=True,
            timeout=EXIT_BOUND_S,
            env=env,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"driver interrupted after {delay_ms} ms did not exit within {EXIT_BOUND_S} s: {e.stderr}")
    assert "NOT INTERRUPTED" not in result.stdout
    assert result.returncode == -signal.SIGINT, (delay_ms, result.returncode, result.stderr)
    assert "KeyboardInterrupt" in result.stderr, result.stderr
    return result


def _worker_children(pid: int):
    try:
        return [
            p
            for p in psutil.Process(pid).children(recursive=True)
            if p.status() != psutil.STATUS_ZOMBIE and "io.ray.engine.worker.WorkerMain" in " ".join(p.cmdline())
        ]
    except psutil.NoSuchProcess:
        return []


def test_interrupt_sweep_on_shared_cluster(tmp_path):
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    started = subprocess.run(
        [RAY, "start", "--head", "--port", "0", "--num-cpus", "1"], capture_output=True, text=True, timeout=120, env=env
    )
    assert started.returncode == 0, started.stderr
    address = (tmp_path / "ray_current_cluster").read_text().strip()
    (node_pid,) = [int(p) for p in json.loads((tmp_path / "ray_nodes.json").read_text())]
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    try:
        for delay_ms in range(21):
            _run_driver(script, address, delay_ms, env)
            # The job ended with its driver: its workers (the one running forever()) stop.
            wait_until(lambda: not _worker_children(node_pid), timeout=30, what=f"workers of driver {delay_ms}")
        assert psutil.pid_exists(node_pid), "the shared node must survive its drivers"
    finally:
        stopped = subprocess.run([RAY, "stop"], capture_output=True, text=True, timeout=60, env=env)
    assert stopped.returncode == 0, stopped.stderr


@pytest.mark.parametrize("delay_ms", [0, 7])
def test_interrupted_driver_stops_its_embedded_engine(tmp_path, delay_ms):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    result = _run_driver(script, "", delay_ms, {**os.environ, "RAY_TMPDIR": str(tmp_path)})
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("NODE ")]
    _, pid, arena = line.split()
    # Stopped by the driver's shutdown, not by the node noticing its parent gone: the driver
    # waited for it, so it is gone by now (a short bound for the kernel to reap it).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        psutil.pid_exists(int(pid)) and psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE
    ):
        time.sleep(0.05)
    assert not (psutil.pid_exists(int(pid)) and psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE)
    assert not os.path.exists(arena)
