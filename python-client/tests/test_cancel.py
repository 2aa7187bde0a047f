"""ray.cancel: a queued task is dropped, a running one is interrupted (KeyboardInterrupt) or
its worker killed (force=True), a finished one keeps its value, and recursive=True reaches
the tasks it submitted. Actor calls: an async call's asyncio task is cancelled, an ordered
actor's call sees get_runtime_context().is_canceled(). Plus Ray's argument checks.

Running tasks here spin on short sleeps until a gate file appears (bounded), so an interrupt
reaches them at once; the `gate` fixture opens the gate at teardown in any case.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time

import psutil
import pytest
from helpers import touch, wait_for_file, wait_until

import ray
from ray._private.executor import _run_cancellable
from ray._private.workers import cancellation
from ray.exceptions import RayTaskError, TaskCancelledError

GET_TIMEOUT = 90
# How soon a cancelled running task must be reported: it notices within one short sleep.
PROMPT_S = 15


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, object_store_memory=256 * 1024 * 1024)
    yield
    ray.shutdown()


def spin_until(gate, limit_s: float = 60.0) -> bool:
    """Short sleeps until ``gate`` exists; False if it did not appear within ``limit_s``."""
    deadline = time.monotonic() + limit_s
    while not os.path.exists(gate):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


@ray.remote
def spin(started, gate, runs=None):
    if runs:
        with open(runs, "a") as f:
            f.write("x")
    with open(started, "w") as f:
        f.write(str(os.getpid()))
    return "finished" if spin_until(gate) else "gate never opened"


@ray.remote
def identity(value):
    return value


@ray.remote
class Holder:
    """Keeps refs a task hands it, so that the driver can look at a child task's result."""

    def __init__(self):
        self.refs = []

    def keep(self, refs):
        self.refs.extend(refs)

    def get(self):
        return self.refs


@ray.remote
def parent(holder, child_started, gate):
    child = spin.remote(child_started, gate)
    ray.get(holder.keep.remote([child]))
    return spin_until(gate)


def read_pid(path) -> int:
    wait_for_file(path)
    return int(wait_until(lambda: open(path).read().strip(), what=f"a pid in {path}"))


# ----------------------------------------------------------------------------- argument checks


def test_cancel_takes_only_object_refs(cluster):
    with pytest.raises(TypeError, match=r"ray.cancel\(\) only supported for object refs"):
        ray.cancel("not a ref")


def test_force_is_refused_for_actor_calls(cluster, tmp_path, gate):
    holder = Holder.remote()
    ref = holder.get.remote()
    with pytest.raises(ValueError, match="force=True is not supported for actor tasks"):
        ray.cancel(ref, force=True)
    assert ray.get(ref, timeout=GET_TIMEOUT) == []


# ----------------------------------------------------------------------------- plain tasks


def test_cancel_a_queued_task(cluster, tmp_path, gate):
    started = [tmp_path / "started0", tmp_path / "started1"]
    blockers = [spin.remote(str(s), str(gate)) for s in started]
    for s in started:
        wait_for_file(s)  # both CPUs are taken: the next task must wait in the queue
    queued_started = tmp_path / "queued_started"
    queued = spin.remote(str(queued_started), str(gate))
    ray.cancel(queued)
    with pytest.raises(TaskCancelledError):
        ray.get(queued, timeout=GET_TIMEOUT)
    assert not queued_started.exists()
    touch(gate)
    assert ray.get(blockers, timeout=GET_TIMEOUT) == ["finished", "finished"]
    assert not queued_started.exists()


def test_cancel_a_running_task_interrupts_it(cluster, tmp_path, gate):
    started, runs = tmp_path / "started", tmp_path / "runs"
    ref = spin.remote(str(started), str(gate), str(runs))
    pid = read_pid(started)
    begin = time.monotonic()
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError) as info:
        ray.get(ref, timeout=GET_TIMEOUT)
    assert time.monotonic() - begin < PROMPT_S
    # Interrupted where it ran: the remote traceback is kept, as in Ray.
    assert isinstance(info.value, RayTaskError) and "spin_until" in str(info.value)
    assert runs.read_text() == "x"  # cancelled tasks are not retried
    # Only the task was stopped, not its worker.
    assert psutil.pid_exists(pid)
    assert ray.get(identity.remote(7), timeout=GET_TIMEOUT) == 7


def test_force_cancel_kills_the_worker(cluster, tmp_path, gate):
    started, runs = tmp_path / "started", tmp_path / "runs"
    ref = spin.remote(str(started), str(gate), str(runs))
    pid = read_pid(started)
    ray.cancel(ref, force=True)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=GET_TIMEOUT)
    wait_until(lambda: not _alive(pid), what=f"worker {pid} to be killed")
    assert runs.read_text() == "x"
    assert ray.get(identity.remote(8), timeout=GET_TIMEOUT) == 8


def test_cancel_a_finished_task_keeps_its_value(cluster):
    ref = identity.remote("done")
    assert ray.get(ref, timeout=GET_TIMEOUT) == "done"
    ray.cancel(ref)
    ray.cancel(ref, force=True)
    # Read back through a task: the node's copy, not this driver's cache.
    assert ray.get(identity.remote(ref), timeout=GET_TIMEOUT) == "done"


@pytest.mark.parametrize("recursive", [True, False])
def test_cancel_reaches_children_only_when_recursive(cluster, tmp_path, gate, recursive):
    holder = Holder.remote()
    ray.get(holder.__ray_ready__.remote(), timeout=GET_TIMEOUT)  # placed before the tasks take the CPUs
    child_started = tmp_path / "child_started"
    ref = parent.remote(holder, str(child_started), str(gate))
    wait_for_file(child_started)
    ray.cancel(ref, recursive=recursive)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=GET_TIMEOUT)
    [child] = ray.get(holder.get.remote(), timeout=GET_TIMEOUT)
    if recursive:
        with pytest.raises(TaskCancelledError):
            ray.get(child, timeout=GET_TIMEOUT)
    else:
        touch(gate)
        assert ray.get(child, timeout=GET_TIMEOUT) == "finished"


# ----------------------------------------------------------------------------- actor calls


@ray.remote
class AsyncWaiter:
    async def wait(self, started):
        touch(started)
        await asyncio.sleep(60)
        return "slept"

    async def ping(self):
        return "pong"


@ray.remote
class Polite:
    def work(self, started, saw_cancel):
        touch(started)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if ray.get_runtime_context().is_canceled():
                touch(saw_cancel)
                return "stopped early"
            time.sleep(0.02)
        return "ran to the end"

    def ping(self):
        return "pong"


def test_cancel_a_running_async_actor_call(cluster, tmp_path):
    actor = AsyncWaiter.remote()
    started = tmp_path / "started"
    ref = actor.wait.remote(str(started))
    wait_for_file(started)
    ray.cancel(ref)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=PROMPT_S)
    assert ray.get(actor.ping.remote(), timeout=GET_TIMEOUT) == "pong"


def test_a_running_ordered_actor_call_sees_is_canceled(cluster, tmp_path):
    actor = Polite.remote()
    started, saw_cancel = tmp_path / "started", tmp_path / "saw_cancel"
    ref = actor.work.remote(str(started), str(saw_cancel))
    wait_for_file(started)
    ray.cancel(ref)
    # As Ray: the call is not interrupted; it stops on its own and still counts as cancelled.
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=GET_TIMEOUT)
    assert saw_cancel.exists()
    assert ray.get(actor.ping.remote(), timeout=GET_TIMEOUT) == "pong"


def test_is_canceled_is_only_for_workers(cluster):
    with pytest.raises(RuntimeError, match="only available when the process is a worker"):
        ray.get_runtime_context().is_canceled()


# ----------------------------------------------------------------------------- the worker's registry (in-process)


def _spin_in_thread(task_id: bytes, started: threading.Event, out: dict) -> threading.Thread:
    def body():
        started.set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return "not interrupted"

    def run():
        out["outcome"] = _run_cancellable(body, task_id, cancellation.INTERRUPT)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_registry_interrupts_the_thread_running_the_task():
    task_id, started, out = os.urandom(24), threading.Event(), {}
    thread = _spin_in_thread(task_id, started, out)
    assert started.wait(30)
    cancellation.registry.cancel(task_id)
    thread.join(30)
    result, error, cancelled = out["outcome"]
    assert isinstance(error, KeyboardInterrupt) and cancelled and result is None


def test_registry_cancel_before_start_skips_the_task():
    task_id, called = os.urandom(24), []
    cancellation.registry.cancel(task_id)  # the node's cancel overtook the task
    result, error, cancelled = _run_cancellable(lambda: called.append(1), task_id, cancellation.INTERRUPT)
    assert (result, error, cancelled, called) == (None, None, True, [])


def test_registry_ignores_a_cancel_after_the_task():
    task_id = os.urandom(24)
    assert _run_cancellable(lambda: 5, task_id, cancellation.INTERRUPT) == (5, None, False)
    cancellation.registry.cancel(task_id)
    # Nothing is raised in this thread later: it runs Python code for a while undisturbed.
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        time.sleep(0.01)
    assert not cancellation.registry.is_cancelled(task_id)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
