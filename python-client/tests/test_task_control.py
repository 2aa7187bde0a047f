"""How tasks end and start over: retry_exceptions (True, False, a list of classes), max_calls
(a worker exits after N calls of a function), sys.exit() and KeyboardInterrupt inside a
task, and the GPU ids a task is leased (ray.get_gpu_ids(), CUDA_VISIBLE_DEVICES).

Attempts are counted in files: every attempt appends one byte, whichever worker runs it.
One cluster (two CPUs, two GPUs the engine only counts) serves the module.
"""

from __future__ import annotations

import os
import sys

import pytest
from helpers import touch, wait_for_file

import ray
from ray._private import context
from ray._private.executor import TaskExecutor
from ray.exceptions import ActorDiedError, RayTaskError, TaskCancelledError, WorkerCrashedError
from ray.rpc import common_pb2 as common

GET_TIMEOUT = 90


@pytest.fixture(scope="module")
def gpu_cluster():
    # Workers inherit the driver's environment: without this, a CUDA_VISIBLE_DEVICES of the
    # machine running the tests would change what tasks see.
    saved = os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    ray.init(num_cpus=2, num_gpus=2, object_store_memory=256 * 1024 * 1024)
    yield
    ray.shutdown()
    if saved is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = saved


def attempt(path) -> int:
    """Records one attempt; returns how many there were so far (this one included)."""
    with open(path, "ab") as f:
        f.write(b"x")
    return os.path.getsize(path)


def attempts(path) -> int:
    return os.path.getsize(path) if os.path.exists(path) else 0


class AppError(Exception):
    pass


def raise_named(name):
    raise {"ValueError": ValueError, "KeyError": KeyError, "AppError": AppError}[name]("boom")


@ray.remote(max_retries=2, retry_exceptions=[ValueError])
def retry_value_errors(path, name):
    attempt(path)
    raise_named(name)


@ray.remote(max_retries=2)
def fails(path, name):
    attempt(path)
    raise_named(name)


# ----------------------------------------------------------------------------- retry_exceptions


@pytest.mark.parametrize(
    "name, options, expected_attempts",
    [
        ("ValueError", {}, 3),  # listed: 1 try + max_retries=2
        ("KeyError", {}, 1),  # not listed
        ("KeyError", {"retry_exceptions": [LookupError]}, 3),  # a subclass of a listed class
        ("AppError", {"retry_exceptions": True}, 3),  # True: any exception
        ("AppError", {"retry_exceptions": True, "max_retries": 1}, 2),
        ("AppError", {"retry_exceptions": False}, 1),
        ("ValueError", {"retry_exceptions": []}, 1),  # an empty list retries nothing (as Ray)
    ],
)
def test_retry_exceptions_decides_by_class(gpu_cluster, tmp_path, name, options, expected_attempts):
    path = tmp_path / "attempts"
    function = retry_value_errors if "retry_exceptions" not in options else fails
    ref = function.options(**options).remote(str(path), name)
    with pytest.raises(RayTaskError) as info:
        ray.get(ref, timeout=GET_TIMEOUT)
    assert type(info.value.cause).__name__ == name
    assert attempts(path) == expected_attempts


@ray.remote(max_retries=3, retry_exceptions=[ValueError])
def flaky(path):
    n = attempt(path)
    if n < 3:
        raise ValueError(f"attempt {n}")
    return n


def test_a_retried_task_returns_the_value_of_its_first_good_attempt(gpu_cluster, tmp_path):
    assert ray.get(flaky.remote(str(tmp_path / "attempts")), timeout=GET_TIMEOUT) == 3


# ----------------------------------------------------------------------------- max_calls


@ray.remote(max_calls=1)
def pid_once(path):
    attempt(path)
    return os.getpid()


@ray.remote(max_calls=2)
def pid_twice(path):
    attempt(path)
    return os.getpid()


def test_max_calls_1_runs_each_call_in_a_new_worker(gpu_cluster, tmp_path):
    path = tmp_path / "attempts"
    pids = [ray.get(pid_once.remote(str(path)), timeout=GET_TIMEOUT) for _ in range(3)]
    assert len(set(pids)) == 3, pids
    # A worker that exits at its limit is retired, not crashed: no call ran twice.
    assert attempts(path) == 3


def test_max_calls_2_lets_a_worker_run_two_calls(gpu_cluster, tmp_path):
    path = tmp_path / "attempts"
    pids = [ray.get(pid_twice.remote(str(path)), timeout=GET_TIMEOUT) for _ in range(6)]
    per_pid = {pid: pids.count(pid) for pid in pids}
    # Never more than two calls per worker, and the limit is 2, not 1: some worker ran two.
    assert max(per_pid.values()) == 2, pids
    assert len(per_pid) >= 3, pids
    assert attempts(path) == 6


def test_max_calls_is_rejected_in_options(gpu_cluster):
    with pytest.raises(ValueError, match="max_calls"):
        pid_once.options(max_calls=3)


# ----------------------------------------------------------------------------- sys.exit, KeyboardInterrupt


@ray.remote
def exits(path, code):
    attempt(path)
    sys.exit(code)


@ray.remote(max_retries=2, retry_exceptions=True)
def interrupted(path):
    attempt(path)
    raise KeyboardInterrupt


@pytest.mark.parametrize("max_retries", [0, 1])
def test_sys_exit_in_a_task_is_a_worker_crash_retried_like_one(gpu_cluster, tmp_path, max_retries):
    path = tmp_path / "attempts"
    ref = exits.options(max_retries=max_retries).remote(str(path), 3)
    with pytest.raises(WorkerCrashedError):
        ray.get(ref, timeout=GET_TIMEOUT)
    assert attempts(path) == 1 + max_retries
    # The node replaced the workers that exited.
    assert ray.get(pid_twice.remote(str(tmp_path / "after")), timeout=GET_TIMEOUT) > 0


def test_keyboard_interrupt_in_a_task_is_a_cancellation_never_retried(gpu_cluster, tmp_path):
    path = tmp_path / "attempts"
    with pytest.raises(TaskCancelledError) as info:
        ray.get(interrupted.remote(str(path)), timeout=GET_TIMEOUT)
    # As Ray: a RayTaskError that is also a TaskCancelledError, with the remote traceback.
    assert isinstance(info.value, RayTaskError)
    assert "raise KeyboardInterrupt" in str(info.value)
    assert attempts(path) == 1


@ray.remote(max_restarts=1)
class Quitter:
    def interrupt(self):
        raise KeyboardInterrupt

    def quit(self):
        sys.exit(0)

    def ping(self):
        return "pong"


def test_keyboard_interrupt_and_sys_exit_in_actor_methods(gpu_cluster):
    actor = Quitter.remote()
    # As Ray: a KeyboardInterrupt cancels the call only; the actor goes on.
    with pytest.raises(TaskCancelledError):
        ray.get(actor.interrupt.remote(), timeout=GET_TIMEOUT)
    assert ray.get(actor.ping.remote(), timeout=GET_TIMEOUT) == "pong"
    # sys.exit() ends the actor for good (no restart, despite max_restarts).
    with pytest.raises(ActorDiedError):
        ray.get(actor.quit.remote(), timeout=GET_TIMEOUT)
    with pytest.raises(ActorDiedError):
        ray.get(actor.ping.remote(), timeout=GET_TIMEOUT)


# ----------------------------------------------------------------------------- GPUs


@ray.remote
def gpu_view():
    return ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")


@ray.remote(num_gpus=1)
def gpu_view_holding(started, gate):
    touch(started)
    wait_for_file(gate)
    return ray.get_gpu_ids(), os.environ.get("CUDA_VISIBLE_DEVICES")


@ray.remote(num_gpus=1)
def gpu_pid():
    return os.getpid()


def test_driver_has_no_gpu_ids(gpu_cluster):
    assert ray.get_gpu_ids() == []


def test_a_task_sees_the_gpus_it_was_leased(gpu_cluster):
    ids, visible = ray.get(gpu_view.options(num_gpus=1).remote(), timeout=GET_TIMEOUT)
    assert len(ids) == 1 and ids[0] in (0, 1) and isinstance(ids[0], int)
    assert visible == str(ids[0])
    assert ray.get(gpu_view.options(num_gpus=2).remote(), timeout=GET_TIMEOUT) == ([0, 1], "0,1")
    assert ray.get(gpu_view.remote(), timeout=GET_TIMEOUT) == ([], None)


def test_concurrent_gpu_tasks_get_different_gpus(gpu_cluster, tmp_path, gate):
    started = [tmp_path / "started0", tmp_path / "started1"]
    refs = [gpu_view_holding.remote(str(s), str(gate)) for s in started]
    for s in started:
        wait_for_file(s)  # both run at once: each holds its GPU until the gate opens
    touch(gate)
    (ids_a, visible_a), (ids_b, visible_b) = ray.get(refs, timeout=GET_TIMEOUT)
    assert sorted(ids_a + ids_b) == [0, 1]
    assert (visible_a, visible_b) == (str(ids_a[0]), str(ids_b[0]))


def test_a_gpu_function_runs_each_call_in_a_new_worker_by_default(gpu_cluster):
    # As Ray: num_gpus in @ray.remote without max_calls means max_calls=1.
    pids = [ray.get(gpu_pid.remote(), timeout=GET_TIMEOUT) for _ in range(3)]
    assert len(set(pids)) == 3, pids


def _spec_with_gpus(gpu_ids):
    spec = common.TaskSpec(task_id=b"t" * 24, name="f")
    spec.assigned_gpu_ids.extend(gpu_ids)
    return spec


def test_gpu_lease_sets_and_restores_cuda_visible_devices(monkeypatch):
    # In-process: the executor's lease is undone after the task, whatever was there before.
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    executor = TaskExecutor(session=None)
    restore = executor._lease_gpus(_spec_with_gpus([1, 0]))
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert context.task_context.gpu_ids == [0, 1]
    restore()
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    context.task_context.gpu_ids = None


def test_gpu_ids_index_into_the_workers_original_cuda_visible_devices(monkeypatch):
    # A worker started with CUDA_VISIBLE_DEVICES=4,6 was given those two; index 1 is GPU "6".
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6")
    executor = TaskExecutor(session=None)
    restore = executor._lease_gpus(_spec_with_gpus([1]))
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "6"
    assert context.task_context.gpu_ids == ["6"]
    restore()
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "4,6"
    context.task_context.gpu_ids = None
