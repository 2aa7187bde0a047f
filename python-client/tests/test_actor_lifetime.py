"""Actor lifetimes across drivers: a detached named actor outlives the driver that made it
(until ray.kill), a non-detached one dies with it; namespaces from ray.init(namespace=...).

The cluster is a standalone one (``ray start --head``) isolated by RAY_TMPDIR, and each driver
is its own process connecting with ``ray.init(address="auto")``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from conftest import run_script
from helpers import wait_until

RAY = str(Path(sys.executable).parent / "ray")

COMMON = textwrap.dedent(
    """
    import json
    import os
    import time

    import ray

    @ray.remote
    class Counter:
        def __init__(self):
            self.value = 0

        def increment(self):
            self.value += 1
            return self.value

        def pid(self):
            return os.getpid()

    def lookup(name, namespace=None):
        try:
            return ray.get_actor(name, namespace=namespace)
        except ValueError:
            return None

    def wait_gone(name, namespace=None, timeout=60):
        deadline = time.monotonic() + timeout
        while lookup(name, namespace) is not None:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def report(**values):
        print("RESULT " + json.dumps(values), flush=True)
    """
)

CREATE = """
ray.init(address="auto", namespace="alpha")
keeper = Counter.options(name="keeper", lifetime="detached").remote()
temp = Counter.options(name="temp").remote()
values = [ray.get(keeper.increment.remote()) for _ in range(3)] + [ray.get(temp.increment.remote())]
report(
    values=values,
    keeper_pid=ray.get(keeper.pid.remote()),
    temp_pid=ray.get(temp.pid.remote()),
    namespace=ray.get_runtime_context().namespace,
)
# The driver just ends: its non-detached actor must go with it.
"""

INSPECT_AND_KILL = """
ray.init(address="auto", namespace="beta")
temp_gone = wait_gone("temp", namespace="alpha")
keeper = lookup("keeper", namespace="alpha")
value = ray.get(keeper.increment.remote()) if keeper is not None else None
pid = ray.get(keeper.pid.remote()) if keeper is not None else None
report(
    namespace=ray.get_runtime_context().namespace,
    temp_gone=temp_gone,
    keeper_found=keeper is not None,
    keeper_value=value,
    keeper_pid=pid,
    visible_without_namespace=lookup("keeper") is not None,
)
if keeper is not None:
    ray.kill(keeper)
report(killed_gone=wait_gone("keeper", namespace="alpha"))
ray.shutdown()
"""

LOOK_AGAIN = """
ray.init(address="auto", namespace="alpha")
report(keeper_found=lookup("keeper") is not None, temp_found=lookup("temp") is not None)
ray.shutdown()
"""


def _ray(args, env, timeout=120):
    return subprocess.run([RAY, *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A 2-CPU head node started with ``ray start``; stopped with ``ray stop``."""
    tmp = tmp_path_factory.mktemp("standalone")
    env = {**os.environ, "RAY_TMPDIR": str(tmp)}
    started = _ray(["start", "--head", "--port", "0", "--num-cpus", "2"], env)
    assert started.returncode == 0, started.stderr
    try:
        yield tmp, env
    finally:
        stopped = _ray(["stop"], env)
        assert stopped.returncode == 0, stopped.stderr


def _driver(tmp, env, name, body):
    script = tmp / f"{name}.py"
    script.write_text(COMMON + textwrap.dedent(body))
    result = run_script(script, cwd=tmp, timeout=180, env={"RAY_TMPDIR": env["RAY_TMPDIR"]})
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    merged = {}
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            merged.update(json.loads(line[len("RESULT ") :]))
    return merged


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_detached_actor_outlives_its_driver_and_a_non_detached_one_does_not(standalone):
    tmp, env = standalone
    first = _driver(tmp, env, "create", CREATE)
    assert first["values"] == [1, 2, 3, 1]
    assert first["namespace"] == "alpha"

    second = _driver(tmp, env, "inspect_and_kill", INSPECT_AND_KILL)
    assert second["namespace"] == "beta"
    # The non-detached actor died with the driver that owned it.
    assert second["temp_gone"] is True
    wait_until(lambda: _gone(first["temp_pid"]), what="the non-detached actor's process to exit")
    # The detached one is still there, in its namespace, with its state.
    assert second["keeper_found"] is True
    assert second["keeper_value"] == 4
    assert second["keeper_pid"] == first["keeper_pid"]
    assert second["visible_without_namespace"] is False
    # ray.kill ends it.
    assert second["killed_gone"] is True
    wait_until(lambda: _gone(first["keeper_pid"]), what="the killed detached actor's process to exit")

    third = _driver(tmp, env, "look_again", LOOK_AGAIN)
    assert third == {"keeper_found": False, "temp_found": False}


HELD_BY_A_KILLED_DRIVER = """
import sys
ray.init(address="auto", namespace="gamma")
held = Counter.options(name="held").remote()
detached = Counter.options(name="survivor", lifetime="detached").remote()
pids = [ray.get(held.pid.remote()), ray.get(detached.pid.remote())]
with open(sys.argv[1] + ".tmp", "w") as f:
    json.dump(pids, f)
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:  # until the test kills this process
    time.sleep(0.1)
"""

CLEAN_UP_SURVIVOR = """
ray.init(address="auto", namespace="gamma")
survivor = lookup("survivor")
report(held_gone=wait_gone("held"), survivor_value=ray.get(survivor.increment.remote()) if survivor else None)
if survivor is not None:
    ray.kill(survivor)
report(survivor_gone=wait_gone("survivor"))
ray.shutdown()
"""


def test_non_detached_actor_dies_when_its_driver_is_killed(standalone):
    tmp, env = standalone
    script = tmp / "held.py"
    script.write_text(COMMON + textwrap.dedent(HELD_BY_A_KILLED_DRIVER))
    pids_file = tmp / "held-pids.json"
    driver = subprocess.Popen(
        [sys.executable, str(script), str(pids_file)],
        cwd=tmp,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: pids_file.exists() or driver.poll() is not None, what="the driver's actors to start")
        assert driver.poll() is None, "the driver ended before its actors started"
        held_pid, survivor_pid = json.loads(pids_file.read_text())
        driver.kill()  # SIGKILL: no shutdown, no goodbye
        driver.wait(timeout=30)
        wait_until(lambda: _gone(held_pid), what="the killed driver's actor to exit")
        assert not _gone(survivor_pid)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait(timeout=30)
    result = _driver(tmp, env, "clean_up", CLEAN_UP_SURVIVOR)
    assert result == {"held_gone": True, "survivor_value": 1, "survivor_gone": True}
    wait_until(lambda: _gone(survivor_pid), what="the detached actor's process to exit after ray.kill")
