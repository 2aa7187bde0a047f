"""Generator tasks: num_returns="streaming" (refs arrive while the task runs) and "dynamic",
for tasks and actor methods, sync and async."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from helpers import touch, wait_for_file

import ray


@ray.remote(num_returns="streaming")
def count(n, big=False):
    for i in range(n):
        yield np.full(1 << 18, i) if big else i


@ray.remote(num_returns="streaming")
def one_then_wait(gate):
    yield "first"
    wait_for_file(gate)
    yield "second"


@pytest.fixture(scope="module", autouse=True)
def cluster(ray_cluster):
    yield


def test_items_arrive_in_order_while_the_task_still_runs(gate):
    gen = one_then_wait.remote(str(gate))
    assert isinstance(gen, ray.ObjectRefGenerator)
    # The task is blocked on the gate: its first value is readable already.
    assert ray.get(next(gen), timeout=60) == "first"
    assert not gen.is_finished()
    touch(gate)
    assert [ray.get(r) for r in gen] == ["second"]
    assert gen.is_finished()
    with pytest.raises(StopIteration):
        next(gen)


def test_small_and_large_items_come_back_equal():
    assert [ray.get(r) for r in count.remote(5)] == [0, 1, 2, 3, 4]
    arrays = [ray.get(r) for r in count.remote(3, True)]
    assert [int(a[0]) for a in arrays] == [0, 1, 2] and all(a.shape == (1 << 18,) for a in arrays)
    assert list(count.remote(0)) == []


def test_an_exception_is_the_last_item():
    @ray.remote(num_returns="streaming")
    def fails():
        yield 1
        raise ValueError("boom")

    gen = fails.remote()
    assert ray.get(next(gen)) == 1
    with pytest.raises(ValueError, match="boom"):
        ray.get(next(gen))
    assert list(gen) == []


def test_a_function_that_is_not_a_generator_fails_clearly():
    @ray.remote(num_returns="streaming")
    def plain():
        return 5

    with pytest.raises(TypeError, match="not a generator"):
        ray.get(next(plain.remote()))


def test_dynamic_returns_one_ref_to_the_refs():
    @ray.remote(num_returns="dynamic")
    def tens(n):
        for i in range(n):
            yield i * 10

    refs = ray.get(tens.remote(4))
    assert isinstance(refs, ray.DynamicObjectRefGenerator)
    assert len(refs) == 4 and [ray.get(r) for r in refs] == [0, 10, 20, 30]


def test_actor_methods_stream_sync_and_async():
    @ray.remote
    class Sync:
        @ray.method(num_returns="streaming")
        def gen(self, n):
            yield from range(n)

    @ray.remote
    class Async:
        async def gen(self, n):
            for i in range(n):
                await asyncio.sleep(0.01)
                yield i * 2

    assert [ray.get(r) for r in Sync.remote().gen.remote(3)] == [0, 1, 2]
    a = Async.remote()
    assert [ray.get(r) for r in a.gen.options(num_returns="streaming").remote(3)] == [0, 2, 4]
    assert [ray.get(r) for r in ray.get(a.gen.options(num_returns="dynamic").remote(2))] == [0, 2]


def test_async_iteration_and_awaiting_items():
    async def consume():
        return [await ref async for ref in count.remote(3)]

    assert asyncio.run(consume()) == [0, 1, 2]


def test_a_generator_cannot_be_passed_to_a_task():
    gen = count.remote(1)
    with pytest.raises(TypeError, match="ObjectRefGenerator"):
        ray.get(ray.remote(lambda g: g).remote(gen))
    list(gen)


def test_next_with_a_timeout(gate):
    gen = one_then_wait.remote(str(gate))
    assert ray.get(gen._next_sync(timeout_s=60)) == "first"
    with pytest.raises(ray.exceptions.GetTimeoutError):
        gen._next_sync(timeout_s=0.2)
    touch(gate)
    assert ray.get(gen._next_sync(timeout_s=60)) == "second"
