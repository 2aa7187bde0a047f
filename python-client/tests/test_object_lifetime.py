"""Objects live exactly as long as something holds them: ObjectRefs anywhere, arguments of
pending tasks, containing objects, and in-place views. A small store makes leaks visible as
ObjectStoreFullError."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from helpers import touch, wait_for_file

import ray

MIB = 1024 * 1024
STORE = 128 * MIB
BIG = 50 * MIB  # two fit in the store, three do not


def big_array(fill: int) -> np.ndarray:
    return np.full(BIG // 8, fill, dtype=np.int64)


@pytest.fixture(scope="module")
def small_store():
    ray.init(num_cpus=2, object_store_memory=STORE)
    yield
    ray.shutdown()


def test_dropped_refs_free_space_for_new_puts(small_store):
    for i in range(10):
        ref = ray.put(big_array(i))
        assert ray.get(ref)[-1] == i
        del ref  # the next put must see this space again, at once


def test_store_full_is_reported_not_hung(small_store):
    held = [ray.put(big_array(1)), ray.put(big_array(2))]
    with pytest.raises(ray.exceptions.ObjectStoreFullError, match="object_store_memory"):
        ray.put(big_array(3))
    del held


def test_a_view_keeps_its_object_alive_after_the_ref_dies(small_store):
    ref = ray.put(big_array(7))
    view = ray.get(ref)
    del ref
    gc.collect()
    other = ray.put(big_array(8))
    with pytest.raises(ray.exceptions.ObjectStoreFullError):
        ray.put(big_array(9))
    assert view[0] == 7 and view[-1] == 7, "the view's memory was not reused"
    del view
    third = ray.put(big_array(9))  # the view's death released the space
    assert ray.get(third)[0] == 9
    del other, third


def test_nested_refs_keep_inner_objects_alive(small_store):
    inner = ray.put(big_array(5))
    outer = ray.put({"inner": inner})
    inner_hex = inner.hex()
    del inner
    gc.collect()
    (got,) = [ray.get(outer)["inner"]]
    assert got.hex() == inner_hex
    assert ray.get(got)[0] == 5
    del got, outer


@ray.remote
def make_big(fill):
    return big_array(fill)


@ray.remote
def first_element(x):
    return int(x[0])


def test_task_returns_and_arguments_are_freed(small_store):
    for i in range(8):
        ref = make_big.remote(i)
        assert ray.get(first_element.remote(ref)) == i
        del ref


@ray.remote
def wait_for(path):
    wait_for_file(path)


@ray.remote
def first_element_after(x, _blocker):
    return int(x[0])


def test_a_pending_task_keeps_its_argument_alive(small_store, tmp_path):
    gate = tmp_path / "gate"
    ref = ray.put(big_array(4))
    result = first_element_after.remote(ref, wait_for.remote(str(gate)))
    del ref
    gc.collect()
    ready, _ = ray.wait([result], timeout=0.2)  # a read: the node has now seen the ref die
    assert ready == [], "the task must still be waiting for its gate"
    touch(gate)
    assert ray.get(result) == 4


@ray.remote
def return_a_fresh_ref():
    # The task's own ref dies with the task: only the returned list keeps the object alive.
    return [ray.put(123)]


@ray.remote
def return_a_fresh_big_ref():
    return {"inner": ray.put(big_array(6))}


def test_refs_returned_inside_values_outlive_the_task(small_store):
    (inner,) = ray.get(return_a_fresh_ref.remote())
    assert ray.get(inner) == 123
    inner_big = ray.get(return_a_fresh_big_ref.remote())["inner"]
    assert ray.get(inner_big)[0] == 6
