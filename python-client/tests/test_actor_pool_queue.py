"""ray.util.ActorPool and ray.util.queue.Queue, with Ray's methods and semantics."""

from __future__ import annotations

import asyncio
import os
import queue as stdlib_queue
import time

import pytest
from helpers import touch, wait_for_file, wait_until

import ray
import ray.util
from ray.exceptions import RayActorError
from ray.util import ActorPool
from ray.util.queue import Empty, Full, Queue

pytestmark = pytest.mark.usefixtures("ray_cluster")


@ray.remote
class Doubler:
    def double(self, x):
        return 2 * x

    def pid(self):
        return os.getpid()

    def gated(self, value, gate, done_dir=None):
        """Returns ``value``; if ``gate`` is set, only once that file exists. Leaves a marker
        in ``done_dir``, if given, when done."""
        if gate:
            wait_for_file(gate, timeout=120)
        if done_dir:
            touch(os.path.join(done_dir, str(value)))
        return value

    def with_peers(self, marker_dir, index, peers):
        """Marks itself running and waits (bounded) until ``peers`` calls run at the same time."""
        touch(os.path.join(marker_dir, f"call-{index}"))
        deadline = time.monotonic() + 60
        while len(os.listdir(marker_dir)) < peers:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True


@ray.remote
class Consumer:
    def __init__(self, q):
        self.q = q

    def take(self, n):
        return [self.q.get(timeout=60) for _ in range(n)]


@ray.remote
class AsyncConsumer:
    def __init__(self, q):
        self.q = q

    async def take(self, n):
        items = []
        for _ in range(n):
            items.append(await self.q.get_async(timeout=60))
        return items

    async def give(self, items):
        for item in items:
            await self.q.put_async(item)
        return len(items)


@ray.remote
def produce(q, items):
    for item in items:
        q.put(item)
    return len(items)


@ray.remote
def put_one(q, item):
    q.put(item, timeout=60)
    return "put done"


def _pool(n):
    actors = [Doubler.remote() for _ in range(n)]
    ray.get([a.pid.remote() for a in actors])
    return ActorPool(actors), actors


# ----------------------------------------------------------------------------- ActorPool


def test_actor_pool_is_exported_from_ray_util():
    assert ray.util.ActorPool is ActorPool


def test_map_returns_results_in_order():
    pool, _ = _pool(2)
    results = pool.map(lambda a, v: a.double.remote(v), range(10))
    assert list(results) == [2 * v for v in range(10)]
    assert not pool.has_next()


def test_map_keeps_order_when_an_early_value_finishes_last(tmp_path):
    pool, _ = _pool(2)
    gate, done = tmp_path / "gate", tmp_path / "done"
    done.mkdir()
    values = [("slow", str(gate))] + [(i, "") for i in range(3)]
    results = pool.map(lambda a, v: a.gated.remote(v[0], v[1], str(done)), values)
    try:
        # The second actor finishes value 0 while the first is stuck on the slow value...
        wait_for_file(done / "0", timeout=20)
        assert not (done / "slow").exists()
    finally:
        touch(gate)
    # ...yet the results come out in the order of the values.
    assert list(results) == ["slow", 0, 1, 2]


def test_map_unordered_returns_results_as_they_finish(tmp_path):
    pool, _ = _pool(2)
    gate = tmp_path / "gate"
    values = [("slow", str(gate))] + [(i, "") for i in range(4)]
    results = pool.map_unordered(lambda a, v: a.gated.remote(v[0], v[1]), values)
    try:
        # One actor is stuck on the slow value; the other serves the rest, which come first.
        first_four = [next(results) for _ in range(4)]
    finally:
        touch(gate)
    assert sorted(first_four) == [0, 1, 2, 3]
    assert list(results) == ["slow"]


def test_pool_actors_work_in_parallel(tmp_path):
    pool, _ = _pool(2)
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    results = pool.map(lambda a, i: a.with_peers.remote(str(marker_dir), i, 2), range(2))
    assert list(results) == [True, True]


def test_submit_get_next_and_has_next():
    pool, _ = _pool(2)
    assert not pool.has_next()
    with pytest.raises(StopIteration):
        pool.get_next()
    with pytest.raises(StopIteration):
        pool.get_next_unordered()
    for v in range(5):  # more values than actors: the rest wait for a free actor
        pool.submit(lambda a, v: a.double.remote(v), v)
    assert pool.has_next()
    assert [pool.get_next() for _ in range(5)] == [0, 2, 4, 6, 8]
    assert not pool.has_next()


def test_single_actor_pool_runs_pending_submits_in_order():
    pool, _ = _pool(1)
    for v in range(6):
        pool.submit(lambda a, v: a.double.remote(v), v)
    assert not pool.has_free()
    assert [pool.get_next() for _ in range(6)] == [0, 2, 4, 6, 8, 10]
    assert pool.has_free()


def test_get_next_unordered_returns_a_finished_result_first(tmp_path):
    pool, _ = _pool(2)
    gate = tmp_path / "gate"
    pool.submit(lambda a, v: a.gated.remote(v, str(gate)), "slow")
    pool.submit(lambda a, v: a.gated.remote(v, ""), "fast")
    try:
        assert pool.get_next_unordered(timeout=60) == "fast"
    finally:
        touch(gate)
    assert pool.get_next_unordered(timeout=60) == "slow"
    assert not pool.has_next()


def test_get_next_timeout(tmp_path):
    pool, _ = _pool(1)
    gate = tmp_path / "gate"
    pool.submit(lambda a, v: a.gated.remote(v, str(gate)), "late")
    try:
        with pytest.raises(TimeoutError):
            pool.get_next(timeout=0.2)
        with pytest.raises(TimeoutError):
            pool.get_next_unordered(timeout=0.2)
        # Without ignore_if_timedout the result is still there to get.
        assert pool.has_next()
    finally:
        touch(gate)
    assert pool.get_next(timeout=60) == "late"


def test_get_next_timeout_with_ignore_drops_the_task(tmp_path):
    pool, _ = _pool(1)
    gate = tmp_path / "gate"
    pool.submit(lambda a, v: a.gated.remote(v, str(gate)), "dropped")
    try:
        with pytest.raises(TimeoutError):
            pool.get_next(timeout=0.2, ignore_if_timedout=True)
        assert not pool.has_next()
    finally:
        touch(gate)
    # The actor is back in the pool and serves the next value (after the dropped one).
    assert pool.has_free()
    pool.submit(lambda a, v: a.double.remote(v), 21)
    assert pool.get_next(timeout=60) == 42


def test_has_free_pop_idle_and_push(tmp_path):
    pool, actors = _pool(2)
    assert pool.has_free()
    gate = tmp_path / "gate"
    try:
        pool.submit(lambda a, v: a.gated.remote(v, str(gate)), 1)
        assert pool.has_free()
        pool.submit(lambda a, v: a.gated.remote(v, str(gate)), 2)
        assert not pool.has_free()
        assert pool.pop_idle() is None
        pool.submit(lambda a, v: a.gated.remote(v, str(gate)), 3)  # waits for an actor
        assert not pool.has_free()
    finally:
        touch(gate)
    assert [pool.get_next() for _ in range(3)] == [1, 2, 3]
    assert pool.has_free()

    popped = pool.pop_idle()
    assert popped in actors
    remaining = pool.pop_idle()
    assert remaining in actors and remaining != popped
    assert pool.pop_idle() is None
    assert not pool.has_free()

    pool.push(popped)
    assert pool.has_free()
    with pytest.raises(ValueError):
        pool.push(popped)
    newcomer = Doubler.remote()
    pool.push(newcomer)
    with pytest.raises(ValueError):
        pool.push(newcomer)
    pids = set(pool.map(lambda a, v: a.pid.remote(), range(2)))
    assert pids == set(ray.get([popped.pid.remote(), newcomer.pid.remote()]))


def test_pool_drops_an_actor_that_died():
    pool, [actor] = _pool(1)
    ray.kill(actor)
    pool.submit(lambda a, v: a.double.remote(v), 1)
    with pytest.raises(RayActorError):
        pool.get_next(timeout=60)
    assert not pool.has_next()
    assert not pool.has_free()
    assert pool.pop_idle() is None
    pool.push(Doubler.remote())
    assert list(pool.map(lambda a, v: a.double.remote(v), [5])) == [10]


# ----------------------------------------------------------------------------- Queue


def test_queue_exceptions_are_stdlib_queue_exceptions():
    assert issubclass(Empty, stdlib_queue.Empty)
    assert issubclass(Full, stdlib_queue.Full)


def test_queue_is_fifo_and_reports_its_size():
    q = Queue()
    assert q.maxsize == 0
    assert q.empty() and not q.full()
    assert q.qsize() == q.size() == len(q) == 0
    for item in ["a", {"b": 2}, 3, None]:
        q.put(item)
    assert q.qsize() == q.size() == len(q) == 4
    assert not q.empty() and not q.full()
    assert [q.get() for _ in range(4)] == ["a", {"b": 2}, 3, None]
    assert q.empty()
    q.shutdown()


def test_bounded_queue_full_and_nowait():
    q = Queue(maxsize=2)
    assert q.maxsize == 2
    q.put_nowait(1)
    q.put(2, block=False)
    assert q.full() and q.qsize() == 2
    with pytest.raises(Full):
        q.put_nowait(3)
    with pytest.raises(Full):
        q.put(3, block=False)
    assert q.get_nowait() == 1
    assert q.get(block=False) == 2
    with pytest.raises(Empty):
        q.get_nowait()
    with pytest.raises(Empty):
        q.get(block=False)
    q.shutdown()


def test_blocking_get_and_put_time_out():
    q = Queue(maxsize=1)
    with pytest.raises(Empty):
        q.get(timeout=0.2)
    with pytest.raises(Empty):
        q.get(block=True, timeout=0)
    q.put("only")
    with pytest.raises(Full):
        q.put("more", timeout=0.2)
    with pytest.raises(Full):
        q.put("more", block=True, timeout=0)
    assert q.get(timeout=5) == "only"
    with pytest.raises(ValueError):
        q.get(timeout=-1)
    with pytest.raises(ValueError):
        q.put(1, timeout=-1)
    q.shutdown()


def test_batches():
    q = Queue(maxsize=5)
    q.put_nowait_batch([1, 2, 3])
    assert q.qsize() == 3
    with pytest.raises(Full):
        q.put_nowait_batch([4, 5, 6])
    assert q.qsize() == 3  # all or nothing
    q.put_nowait_batch((4, 5))
    assert q.full()
    with pytest.raises(Empty):
        q.get_nowait_batch(6)
    assert q.qsize() == 5
    assert q.get_nowait_batch(2) == [1, 2]
    assert q.get_nowait_batch(0) == []
    assert q.get_nowait_batch(3) == [3, 4, 5]
    with pytest.raises(TypeError):
        q.put_nowait_batch(7)
    with pytest.raises(TypeError):
        q.get_nowait_batch("2")
    with pytest.raises(ValueError):
        q.get_nowait_batch(-1)
    q.shutdown()


def test_blocking_get_waits_for_a_producer_task():
    q = Queue()
    producer = produce.remote(q, list(range(10)))
    assert [q.get(timeout=60) for _ in range(10)] == list(range(10))
    assert ray.get(producer) == 10
    assert q.empty()
    q.shutdown()


def test_blocking_put_waits_for_room():
    q = Queue(maxsize=1)
    q.put("first")
    ref = put_one.remote(q, "second")
    ready, _ = ray.wait([ref], timeout=1.0)
    assert ready == []  # the queue is full: the task's put is still blocked
    assert q.qsize() == 1
    assert q.get(timeout=60) == "first"
    assert ray.get(ref, timeout=60) == "put done"
    assert q.get(timeout=60) == "second"
    q.shutdown()


def test_queue_shared_by_producer_tasks_and_a_consumer_actor():
    q = Queue(maxsize=10)
    consumer = Consumer.remote(q)
    taken = consumer.take.remote(60)
    producers = [produce.remote(q, [(p, i) for i in range(30)]) for p in range(2)]
    items = ray.get(taken, timeout=120)
    assert ray.get(producers, timeout=60) == [30, 30]
    assert sorted(items) == [(p, i) for p in range(2) for i in range(30)]
    # Each producer's items arrive in the order it put them.
    for p in range(2):
        assert [i for (q_p, i) in items if q_p == p] == list(range(30))
    assert q.empty()
    q.shutdown()


def test_async_put_and_get_from_an_async_actor():
    q = Queue()
    actor = AsyncConsumer.remote(q)
    assert ray.get(actor.give.remote(["x", "y"])) == 2
    assert q.get_nowait_batch(2) == ["x", "y"]
    taken = actor.take.remote(3)
    for item in [1, 2, 3]:
        q.put(item)
    assert ray.get(taken, timeout=60) == [1, 2, 3]

    async def from_driver():
        await q.put_async("z")
        return await q.get_async(timeout=10)

    assert asyncio.run(from_driver()) == "z"
    q.shutdown()


def test_shutdown_ends_the_queue_actor():
    q = Queue()
    q.put(1)
    handle = q.actor
    q.shutdown()

    def dead():
        try:
            ray.get(handle.qsize.remote(), timeout=60)
            return False
        except RayActorError:
            return True

    wait_until(dead, what="the queue's actor to end after shutdown()")

    forced = Queue()
    forced_handle = forced.actor
    forced.shutdown(force=True)
    with pytest.raises(RayActorError):
        ray.get(forced_handle.qsize.remote(), timeout=60)


def test_queue_actor_options():
    wait_until(lambda: ray.available_resources().get("CPU") == 2, what="both CPUs free")
    q = Queue(actor_options={"num_cpus": 1})
    q.put("held")
    wait_until(lambda: ray.available_resources().get("CPU") == 1, what="the queue actor's CPU taken")
    assert q.get() == "held"
    q.shutdown()
    wait_until(lambda: ray.available_resources().get("CPU") == 2, what="the CPU given back after shutdown")
