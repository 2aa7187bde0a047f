"""Nothing is left behind: after ray.shutdown(), after a driver that exits without calling it,
and after a driver killed with SIGKILL, no engine or worker process, no arena file and no
listening port of ours remains."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

DRIVER = textwrap.dedent(
    """
    import json, sys, ray
    ctx = ray.init(num_cpus=2)

    @ray.remote
    def pid():
        import os
        return os.getpid()

    worker_pids = sorted(set(ray.get([pid.remote() for _ in range(8)])))
    print("READY " + json.dumps({"address_info": ctx.address_info, "worker_pids": worker_pids}), flush=True)
    how = sys.stdin.readline().strip()
    if how == "shutdown":
        ray.shutdown()
        print("SHUT DOWN", flush=True)
        sys.stdin.readline()
    elif how == "exit":
        sys.exit(0)
    """
)


def _start_driver(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline()
    assert line.startswith("READY "), line + proc.stderr.read()
    info = json.loads(line[len("READY ") :])
    engine = [p for p in psutil.Process(proc.pid).children(recursive=True)]
    ports = {
        int(a.rsplit(":", 1)[1])
        for a in (info["address_info"]["gcs_address"], info["address_info"]["node_manager_address"])
    }
    arenas = [
        f
        for f in os.listdir("/dev/shm")
        if f.startswith("rayjvm_") and any(f.startswith(f"rayjvm_{p.pid}_") for p in engine)
    ]
    assert engine, "the driver started no engine processes"
    assert set(info["worker_pids"]) <= {p.pid for p in engine}, "workers must be the engine's children"
    assert len(arenas) == 1, f"expected one arena file for the node, found {arenas}"
    for port in ports:
        assert _listening(port), f"port {port} should be listening while the cluster runs"
    return proc, engine, ports, arenas[0]


def _listening(port: int) -> bool:
    return any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in psutil.net_connections("tcp"))


def _assert_all_gone(engine, ports, arena, within_s: float = 20.0):
    deadline = time.monotonic() + within_s
    alive = engine
    while time.monotonic() < deadline:
        alive = [p for p in engine if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive and not os.path.exists(f"/dev/shm/{arena}") and not any(_listening(p) for p in ports):
            return
        time.sleep(0.1)
    assert not alive, f"engine processes still running: {[(p.pid, ' '.join(p.cmdline()[-3:])) for p in alive]}"
    assert not os.path.exists(f"/dev/shm/{arena}"), f"arena file /dev/shm/{arena} left behind"
    assert not [p for p in ports if _listening(p)], f"ports still listening: {ports}"


def test_shutdown_leaves_nothing(tmp_path):
    proc, engine, ports, arena = _start_driver(tmp_path)
    proc.stdin.write("shutdown\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "SHUT DOWN"
    # ray.shutdown() returns only after the node is gone: check while the driver still lives.
    _assert_all_gone(engine, ports, arena, within_s=5)
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(30) == 0


def test_driver_exit_without_shutdown_leaves_nothing(tmp_path):
    proc, engine, ports, arena = _start_driver(tmp_path)
    proc.stdin.write("exit\n")
    proc.stdin.flush()
    assert proc.wait(30) == 0
    _assert_all_gone(engine, ports, arena)


def test_sigkilled_driver_leaves_nothing(tmp_path):
    proc, engine, ports, arena = _start_driver(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    _assert_all_gone(engine, ports, arena)


@pytest.mark.parametrize("signum", [signal.SIGTERM])
def test_terminated_driver_leaves_nothing(tmp_path, signum):
    proc, engine, ports, arena = _start_driver(tmp_path)
    proc.send_signal(signum)
    proc.wait(30)
    _assert_all_gone(engine, ports, arena)


NODE_KILLED = textwrap.dedent(
    """
    import os, signal, sys, time, psutil, ray
    ray.init(num_cpus=1)

    @ray.remote
    def slow():
        time.sleep(60)

    ref = slow.remote()
    node = [c for c in psutil.Process().children() if "NodeMain" in " ".join(c.cmdline())][0]
    arena = ray._private.context.current_session().arena.path
    os.kill(node.pid, signal.SIGKILL)
    try:
        ray.get(ref, timeout=30)
        print("NO ERROR")
    except ray.exceptions.RaySystemError as e:
        print("SYSTEM ERROR", "Lost the connection to the Ray node" in str(e))
    ray.shutdown()
    print("ARENA LEFT", os.path.exists(arena))
    """
)


def test_a_killed_node_gives_an_error_and_leaves_nothing(tmp_path):
    """The engine dies under a waiting driver: a RaySystemError, not a hang; shutdown cleans up."""
    script = tmp_path / "driver.py"
    script.write_text(NODE_KILLED)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "SYSTEM ERROR True" in result.stdout, result.stdout + result.stderr
    assert "ARENA LEFT False" in result.stdout
