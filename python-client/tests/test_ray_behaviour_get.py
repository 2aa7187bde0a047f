"""ray.get and ray.wait as Ray 2.60 does them where Ray's own tests look (issue 10).

- ``ray.get`` of a list raises the first error as soon as it is known, without waiting for
  the other objects (a task's error, an actor's death), whichever path the calls took
  (through the node, or pushed straight to an actor's worker).
- ``ray.wait(refs, timeout=0.2)`` returns on time.

The same scenarios were run against real Ray 2.60 (same timings, same exception types).
"""

from __future__ import annotations

import os
import time

import pytest
from helpers import wait_for_file

import ray
from ray.exceptions import ActorDiedError, RayActorError, RayTaskError

# "As soon as it is known": well under this, on a shared 2-core machine.
FAIL_FAST_S = 1.0
# A ray.wait timeout of 0.2 s must return within this (the bound).
WAIT_BOUND_S = 0.3


@ray.remote
def blocked(gate):
    wait_for_file(gate, timeout=600)
    return "late"


@ray.remote(max_retries=0)
def fail(message="boom"):
    raise ValueError(message)


@ray.remote
class Worker:
    def ping(self):
        return os.getpid()

    def wait_for(self, gate):
        wait_for_file(gate, timeout=600)
        return "late"

    def fail_after(self, seconds):
        time.sleep(seconds)
        raise ValueError("late failure")

    def die(self):
        os._exit(1)


def _time_get(refs):
    start = time.monotonic()
    with pytest.raises(Exception) as info:
        ray.get(refs, timeout=120)
    return info.value, time.monotonic() - start


def test_get_of_a_list_raises_a_known_task_error_at_once(ray_cluster, gate):
    slow = blocked.remote(str(gate))
    failed = fail.remote()
    ray.wait([failed], timeout=60)  # the failure is known to the cluster now
    error, took = _time_get([slow, failed])
    assert isinstance(error, RayTaskError) and isinstance(error, ValueError)
    assert took < FAIL_FAST_S, f"ray.get took {took:.2f} s to raise a known error"
    # Also when the failing ref comes first, and when the error is already cached here.
    error, took = _time_get([failed, slow])
    assert isinstance(error, ValueError) and took < FAIL_FAST_S


def test_get_raises_an_error_that_arrives_while_it_waits(ray_cluster, gate):
    actor = Worker.remote()
    ray.get(actor.ping.remote(), timeout=60)
    slow = blocked.remote(str(gate))
    failing = actor.fail_after.remote(0.3)
    error, took = _time_get([slow, failing])
    assert isinstance(error, ValueError) and "late failure" in str(error)
    assert took < 0.3 + FAIL_FAST_S, f"ray.get took {took:.2f} s"


def test_get_fails_fast_among_calls_pushed_to_one_actor(ray_cluster, gate):
    # Two calls in flight on a threaded actor (both pushed straight to its worker).
    actor = Worker.options(max_concurrency=2).remote()
    ray.get(actor.ping.remote(), timeout=60)
    slow = actor.wait_for.remote(str(gate))
    failing = actor.fail_after.remote(0.2)
    error, took = _time_get([slow, failing])
    assert isinstance(error, ValueError)
    assert took < 0.2 + FAIL_FAST_S, f"ray.get took {took:.2f} s"


def test_get_raises_a_dead_actors_error_at_once(ray_cluster, gate):
    actor = Worker.remote()
    ray.get(actor.ping.remote(), timeout=60)
    slow = blocked.remote(str(gate))
    ray.kill(actor)
    dead_call = actor.ping.remote()
    error, took = _time_get([slow, dead_call])
    assert isinstance(error, ActorDiedError)
    assert took < FAIL_FAST_S, f"ray.get took {took:.2f} s to raise ActorDiedError"


def test_get_raises_when_the_actor_dies_during_the_call(ray_cluster, gate):
    actor = Worker.remote()
    ray.get(actor.ping.remote(), timeout=60)
    slow = blocked.remote(str(gate))
    dying = actor.die.remote()
    error, took = _time_get([slow, dying])
    assert isinstance(error, RayActorError)
    assert took < FAIL_FAST_S, f"ray.get took {took:.2f} s"


def test_get_of_values_and_errors_still_returns_values_when_no_error(ray_cluster):
    refs = [ray.put(i) for i in range(5)]
    assert ray.get(refs) == list(range(5))


def test_wait_with_a_timeout_returns_on_time(ray_cluster, gate):
    actor = Worker.remote()
    ray.get(actor.ping.remote(), timeout=60)
    refs = [blocked.remote(str(gate)) for _ in range(3)] + [actor.wait_for.remote(str(gate))]
    durations = []
    for _ in range(10):
        start = time.monotonic()
        ready, not_ready = ray.wait(refs, timeout=0.2)
        durations.append(time.monotonic() - start)
        assert ready == [] and len(not_ready) == 4
    assert max(durations) < WAIT_BOUND_S, f"ray.wait(timeout=0.2) took up to {max(durations):.3f} s"
    assert min(durations) >= 0.19


def test_wait_right_after_submitting_returns_on_time(ray_cluster):
    # The node is busy with the submissions (and starting workers) when the wait arrives.
    @ray.remote
    def sleepy():
        time.sleep(1.0)

    durations = []
    for _ in range(3):
        refs = [sleepy.remote() for _ in range(4)]
        start = time.monotonic()
        ray.wait(refs, num_returns=4, timeout=0.2)
        durations.append(time.monotonic() - start)
        ray.get(refs, timeout=60)
    assert max(durations) < WAIT_BOUND_S, f"ray.wait(timeout=0.2) took up to {max(durations):.3f} s"
