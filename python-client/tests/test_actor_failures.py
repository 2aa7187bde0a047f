"""Actor failures: ray.kill, exit_actor, errors in __init__ and in methods, restarts
(max_restarts), retried calls (max_task_retries), and actors that die with their handles or
with the task that created them."""

from __future__ import annotations

import os
import time

import psutil
import pytest
from helpers import touch, wait_for_file, wait_until

import ray
from ray.exceptions import ActorDiedError, RayActorError, RayTaskError

pytestmark = pytest.mark.usefixtures("ray_cluster")


@ray.remote
class Counter:
    def __init__(self, start=0):
        self.value = start

    def increment(self, by=1):
        self.value += by
        return self.value

    def state(self):
        return self.value, os.getpid()

    def pid(self):
        return os.getpid()

    def fail(self, message):
        raise ValueError(message)

    def crash(self):
        os._exit(1)

    def crash_once(self, marker):
        """Kills the worker the first time (no marker yet); later attempts return the pid."""
        if not os.path.exists(marker):
            touch(marker)
            os._exit(1)
        return os.getpid()

    def block(self, started, gate):
        touch(started)
        wait_for_file(gate, timeout=120)
        return "unblocked"

    def leave(self):
        ray.actor.exit_actor()
        return "not reached"


@ray.remote
class BrokenInit:
    def __init__(self):
        self.x = 1 / 0

    def get(self):
        return "never"


@ray.remote
class AsyncFailing:
    async def fail(self):
        raise KeyError("async-missing")

    async def ok(self):
        return "still serving"


@ray.remote
def exit_actor_in_task():
    try:
        ray.actor.exit_actor()
    except TypeError as e:
        return str(e)
    return None


@ray.remote
def create_actor_and_return_its_pid():
    c = Counter.remote()
    return ray.get(c.pid.remote())


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _fails(handle):
    try:
        ray.get(handle.pid.remote(), timeout=60)
        return False
    except RayActorError:
        return True


def _restarted(handle, old_pid, timeout=60):
    """Polls the actor (bounded) until a call answers from a process other than ``old_pid``;
    calls that fail while it restarts are retried. Returns (value, pid) of that call."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value, pid = ray.get(handle.state.remote(), timeout=timeout)
            if pid != old_pid:
                return value, pid
        except RayActorError:
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(f"the actor did not restart within {timeout} s")
        time.sleep(0.05)


# ----------------------------------------------------------------------------- ray.kill


def test_kill_makes_later_calls_raise_actor_died():
    c = Counter.remote()
    pid = ray.get(c.pid.remote())
    ray.kill(c)
    with pytest.raises(RayActorError) as info:
        ray.get(c.increment.remote(), timeout=60)
    assert isinstance(info.value, ActorDiedError)
    with pytest.raises(ActorDiedError):
        ray.get(c.increment.remote(), timeout=60)
    wait_until(lambda: _gone(pid), what="the killed actor's process to exit")


def test_kill_interrupts_a_running_call(tmp_path):
    c = Counter.remote()
    started, gate = tmp_path / "started", tmp_path / "gate"
    try:
        ref = c.block.remote(str(started), str(gate))
        wait_for_file(started)
        ray.kill(c)
        with pytest.raises(RayActorError):
            ray.get(ref, timeout=60)
    finally:
        touch(gate)


def test_kill_of_something_else_raises_value_error():
    with pytest.raises(ValueError, match="only supported for actors"):
        ray.kill("not an actor")
    with pytest.raises(ValueError):
        ray.kill(ray.put(1))
    with pytest.raises(ValueError):
        ray.kill(Counter)


def test_actor_dies_when_its_last_handle_goes_away():
    c = Counter.remote()
    pid = ray.get(c.pid.remote())
    del c
    wait_until(lambda: _gone(pid), what="the unreferenced actor's process to exit")


def test_actor_created_in_a_task_dies_after_the_task():
    pid = ray.get(create_actor_and_return_its_pid.remote())
    assert pid != os.getpid()
    wait_until(lambda: _gone(pid), what="the actor created (and dropped) by a task to exit")


# ----------------------------------------------------------------------------- exit_actor


def test_exit_actor_ends_the_actor():
    c = Counter.remote()
    pid = ray.get(c.pid.remote())
    assert ray.get(c.increment.remote()) == 1
    with pytest.raises(RayActorError):
        ray.get(c.leave.remote(), timeout=60)
    with pytest.raises(RayActorError):
        ray.get(c.increment.remote(), timeout=60)
    wait_until(lambda: _gone(pid), what="the exited actor's process to exit")


def test_exit_actor_outside_an_actor_raises_type_error():
    with pytest.raises(TypeError, match="non-actor worker"):
        ray.actor.exit_actor()
    assert "non-actor worker" in ray.get(exit_actor_in_task.remote())


# ----------------------------------------------------------------------------- errors


def test_exception_in_init_surfaces_on_every_call():
    b = BrokenInit.remote()
    for _ in range(3):
        with pytest.raises(RayActorError) as info:
            ray.get(b.get.remote(), timeout=60)
        assert "ZeroDivisionError" in str(info.value)


def test_exception_in_method_is_a_task_error_and_the_actor_keeps_serving():
    c = Counter.remote()
    assert ray.get(c.increment.remote()) == 1
    with pytest.raises(RayTaskError) as info:
        ray.get(c.fail.remote("boom"))
    assert isinstance(info.value, ValueError)
    assert "boom" in str(info.value)
    with pytest.raises(ValueError, match="boom"):
        ray.get(c.fail.remote("boom"))
    # Same process, same state.
    assert ray.get(c.increment.remote()) == 2
    ref = c.fail.remote("again")
    assert ray.get(c.increment.remote()) == 3
    with pytest.raises(RayTaskError):
        ray.get(ref)


def test_exception_in_async_and_threaded_actors():
    a = AsyncFailing.remote()
    with pytest.raises(KeyError):
        ray.get(a.fail.remote())
    assert ray.get(a.ok.remote()) == "still serving"
    t = Counter.options(max_concurrency=3).remote()
    with pytest.raises(RayTaskError):
        ray.get(t.fail.remote("threaded"))
    assert ray.get(t.increment.remote()) == 1


# ----------------------------------------------------------------------------- restarts


def test_max_restarts_restarts_once_with_fresh_state():
    c = Counter.options(max_restarts=1).remote()
    assert ray.get(c.increment.remote()) == 1
    value, first_pid = ray.get(c.state.remote())
    assert value == 1
    with pytest.raises(RayActorError):
        ray.get(c.crash.remote(), timeout=60)
    # The next call runs in a new process, on a freshly constructed instance.
    value, second_pid = ray.get(c.state.remote(), timeout=60)
    assert second_pid != first_pid
    assert value == 0
    assert ray.get(c.increment.remote()) == 1
    # No restarts left: the second crash is final.
    with pytest.raises(RayActorError):
        ray.get(c.crash.remote(), timeout=60)
    with pytest.raises(ActorDiedError):
        ray.get(c.increment.remote(), timeout=60)


def test_no_restarts_by_default():
    c = Counter.remote()
    pid = ray.get(c.pid.remote())
    with pytest.raises(RayActorError):
        ray.get(c.crash.remote(), timeout=60)
    with pytest.raises(ActorDiedError):
        ray.get(c.increment.remote(), timeout=60)
    wait_until(lambda: _gone(pid), what="the crashed worker gone")


def test_max_task_retries_retries_a_call_whose_worker_died(tmp_path):
    c = Counter.options(max_restarts=1, max_task_retries=1).remote()
    first_pid = ray.get(c.pid.remote())
    marker = tmp_path / "crashed-once"
    retried_pid = ray.get(c.crash_once.remote(str(marker)), timeout=90)
    assert marker.exists()
    assert retried_pid != first_pid


def test_kill_with_no_restart_false_restarts_the_actor():
    c = Counter.options(max_restarts=1).remote()
    assert ray.get(c.increment.remote()) == 1
    _, first_pid = ray.get(c.state.remote())
    ray.kill(c, no_restart=False)
    value, second_pid = _restarted(c, first_pid)
    assert value == 0
    assert ray.get(c.increment.remote()) == 1
    # And no_restart=True ends it for good, restarts left or not.
    ray.kill(c, no_restart=True)
    wait_until(lambda: _fails(c), what="calls to fail after ray.kill(no_restart=True)")
    with pytest.raises(ActorDiedError):
        ray.get(c.increment.remote(), timeout=60)
    wait_until(lambda: _gone(second_pid), what="the killed actor's process to exit")
