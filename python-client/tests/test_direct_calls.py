"""Direct actor calls: a driver pushes calls straight to the actor's worker once the node has
confirmed the actor is alive; results come back on the push, and the node still learns of
every call (so refs can be passed on, and failures are handled as before)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from helpers import wait_until

import ray
from ray._private import context
from ray.exceptions import RayActorError


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, object_store_memory=256 * 1024 * 1024)
    yield
    ray.shutdown()


@ray.remote
class Box:
    def __init__(self):
        self.items = []

    def add(self, x):
        self.items.append(x)
        return len(self.items)

    def items_so_far(self):
        return list(self.items)

    def pid(self):
        return os.getpid()

    def big(self, n):
        return np.arange(n, dtype=np.int64)

    def wrap(self, value):
        return [ray.put(value)]

    def total(self, array):
        return int(array.sum())


@ray.remote
def double(x):
    return 2 * x


def _pushed(actor) -> bool:
    route = context.current_session().direct._routes.get(actor._actor_id.binary())
    return route is not None and route.push is not None


def _until_pushed(actor) -> None:
    """Calls the actor until its calls are pushed (after the first call has finished, and once
    the node has confirmed the actor is alive with nothing of ours pending there)."""
    wait_until(lambda: ray.get(actor.pid.remote()) and _pushed(actor), what="calls to be pushed")


def test_calls_after_the_first_are_pushed_and_stay_in_order():
    box = Box.remote()
    assert ray.get(box.add.remote(0)) == 1
    _until_pushed(box)
    refs = [box.add.remote(i) for i in range(1, 501)]
    assert ray.get(refs) == list(range(2, 502))
    assert ray.get(box.items_so_far.remote()) == list(range(501))


def test_a_pushed_calls_result_can_be_passed_to_a_task():
    box = Box.remote()
    ray.get(box.add.remote("first"))
    _until_pushed(box)
    count = box.add.remote("x")
    assert ray.get(double.remote(count)) == 4


def test_large_returns_arguments_by_reference_and_returned_refs():
    box = Box.remote()
    _until_pushed(box)
    array = ray.get(box.big.remote(1 << 20))
    assert array.shape == (1 << 20,) and int(array[-1]) == (1 << 20) - 1
    assert not array.flags.writeable, "read in place from shared memory"
    stored = ray.put(np.ones(1 << 18, dtype=np.int64))
    assert ray.get(box.total.remote(stored)) == 1 << 18
    (inner,) = ray.get(box.wrap.remote("inside"))
    assert ray.get(inner) == "inside"


def test_errors_of_pushed_calls_are_raised():
    box = Box.remote()
    ray.get(box.pid.remote())
    ray.get(box.pid.remote())
    with pytest.raises(ray.exceptions.RayTaskError):
        ray.get(box.total.remote("not an array"))


def test_a_restarted_actor_gets_the_calls_its_worker_was_running():
    box = Box.options(max_restarts=1, max_task_retries=-1).remote()
    first = ray.get(box.pid.remote())
    _until_pushed(box)
    ray.kill(box, no_restart=False)
    # Calls made while the worker dies are retried on the restarted actor: none fails.
    pids = ray.get([box.pid.remote() for _ in range(20)], timeout=120)
    wait_until(lambda: ray.get(box.pid.remote(), timeout=60) != first, what="the restarted actor to answer")
    after = ray.get([box.pid.remote() for _ in range(20)], timeout=60)
    assert len(set(after)) == 1 and first not in after
    assert set(pids) <= {first} | set(after)
    wait_until(lambda: ray.get(box.pid.remote()) and _pushed(box), what="calls to be pushed again")


def test_calls_to_an_actor_killed_for_good_fail():
    box = Box.remote()
    _until_pushed(box)
    ray.kill(box)
    with pytest.raises(RayActorError):
        ray.get([box.pid.remote() for _ in range(10)], timeout=60)


# ---------------------------------------------------------------------- leased workers


@ray.remote
def worker_pid():
    return os.getpid()


@ray.remote
def nap(seconds):
    time.sleep(seconds)
    return os.getpid()


@ray.remote(max_retries=1)
def dies_once(marker):
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return "second attempt"


def _leases():
    return dict(context.current_session().direct._leases)


def test_tasks_one_at_a_time_run_on_a_leased_worker():
    wait_until(lambda: ray.get(worker_pid.remote()) and bool(_leases()), timeout=10)
    pids = {ray.get(worker_pid.remote()) for _ in range(30)}
    assert _leases(), "the driver holds a lease while it submits one task at a time"
    assert len(pids) == 1, f"the leased worker ran them all, got pids {pids}"


def test_an_idle_lease_is_given_back_so_a_burst_uses_every_cpu():
    # Two workers exist (workers of the actors above may still be being replaced): what is
    # measured below is the lease's return, not a worker's start.
    ray.get([nap.remote(0.2) for _ in range(2)], timeout=60)
    for _ in range(5):
        ray.get(worker_pid.remote())
    wait_until(lambda: not _leases(), timeout=5)  # idle: given back
    start = time.monotonic()
    pids = ray.get([nap.remote(1.0) for _ in range(2)], timeout=30)
    elapsed = time.monotonic() - start
    assert len(set(pids)) == 2 and elapsed < 1.8, f"two CPUs used in parallel ({elapsed:.2f}s, {pids})"


def test_a_leased_workers_death_retries_its_task_through_the_node(tmp_path):
    wait_until(lambda: ray.get(worker_pid.remote()) and bool(_leases()), timeout=10)
    ref = dies_once.remote(str(tmp_path / "marker"))
    assert ray.get(ref, timeout=60) == "second attempt"
    assert ray.get(worker_pid.remote(), timeout=60) > 0  # and later tasks still run


@ray.remote
def read_nested(refs):
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=30)
    return ray.get(refs) if len(ready) == len(refs) else "wait missed them"


def test_refs_nested_in_a_pushed_tasks_arguments_are_read_after_their_owners_changes():
    # A task pushed to a leased worker may run before the node has the driver's changes that
    # made the refs nested in its arguments (a put, a pushed task's registration): its reads
    # wait for them instead of finding the objects unknown.
    for _ in range(20):
        ray.get(worker_pid.remote())
        inner = double.remote(21)
        # Answered on its push (no read that would carry our changes to the node): the lease
        # is free for the next task while the registration of this one may still be unsent.
        pending = context.current_session().direct._pending
        deadline = time.monotonic() + 10
        while inner.binary() in pending and time.monotonic() < deadline:
            pass  # spin: a sleep would let the 2 ms flush send the registration first
        assert ray.get(read_nested.remote([inner, ray.put("x")]), timeout=60) == [42, "x"]


@ray.remote
def sleeper(marker):
    open(marker, "w").close()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.05)  # Python code between sleeps: ray.cancel's KeyboardInterrupt lands


@ray.remote
def fan_out(n):
    return sum(ray.get([double.remote(i) for i in range(n)]))


def _lease_then(submit):
    """Submits with a lease held and free (so the task is pushed to the leased worker)."""
    wait_until(lambda: ray.get(worker_pid.remote()) and bool(_leases()), timeout=10)
    return submit()


@pytest.mark.parametrize("force", [False, True])
def test_ray_cancel_reaches_a_task_on_a_leased_worker(tmp_path, force):
    from ray.exceptions import TaskCancelledError

    marker = tmp_path / "started"
    ref = _lease_then(lambda: sleeper.remote(str(marker)))
    assert ref.binary() in context.current_session().direct._pending, "pushed to the lease"
    wait_until(marker.exists, timeout=30)
    ray.cancel(ref, force=force)
    with pytest.raises(TaskCancelledError):
        ray.get(ref, timeout=30)
    assert ray.get(worker_pid.remote(), timeout=60) > 0, "later tasks still run"


def test_a_task_on_a_leased_worker_lends_its_cpu_while_it_waits_for_children():
    ref = _lease_then(lambda: fan_out.remote(6))
    assert ray.get(ref, timeout=60) == 2 * sum(range(6))
    wait_until(lambda: ray.available_resources().get("CPU") == 2.0, timeout=10, what="every CPU back")


# ---------------------------------------------------------------------- calls from workers


@ray.remote
class Caller:
    def call_many(self, box, n):
        values = [ray.get(box.add.remote(i)) for i in range(n)]
        route = context.current_session().direct._routes.get(box._actor_id.binary())
        return values, route is not None and route.push is not None


@ray.remote
def tasks_one_at_a_time(n):
    session = context.current_session()
    deadline = time.monotonic() + 20
    while not session.direct._leases and time.monotonic() < deadline:
        ray.get(worker_pid.remote())
    held = bool(session.direct._leases)
    return held, {ray.get(worker_pid.remote()) for _ in range(n)}, os.getpid()


def test_an_actors_calls_to_another_actor_are_pushed_in_order():
    box = Box.remote()
    values, pushed = ray.get(Caller.remote().call_many.remote(box, 50), timeout=120)
    assert values == list(range(1, 51))
    assert pushed, "the calling actor's worker pushes its calls straight to the other actor"


def test_a_tasks_tasks_one_at_a_time_run_on_a_worker_it_leased():
    held, pids, caller = ray.get(tasks_one_at_a_time.remote(20), timeout=120)
    assert held, "the calling task's worker holds a lease"
    assert len(pids) == 1 and caller not in pids, f"one leased worker ran them all, got {pids}"
