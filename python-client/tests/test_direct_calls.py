"""Direct actor calls: a driver pushes calls straight to the actor's worker once the node has
confirmed the actor is alive; results come back on the push, and the node still learns of
every call (so refs can be passed on, and failures are handled as before)."""

from __future__ import annotations

import os

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
