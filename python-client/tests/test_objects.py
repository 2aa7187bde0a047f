"""ray.put, ray.get and ray.wait: values, argument checks, timeouts, large NumPy arrays."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from helpers import touch, wait_for_file, wait_until

import ray


@ray.remote
def identity(x):
    return x


@ray.remote
def wait_then_return(gate, value):
    wait_for_file(gate)
    return value


@ray.remote
def double_array(arr):
    """Returns the received array's facts and a new array computed from it."""
    return {"dtype": str(arr.dtype), "shape": arr.shape, "sum": float(arr.sum())}, arr * 2


@ray.remote
def make_array(n):
    return np.arange(n, dtype=np.int64)


# ----------------------------------------------------------------------------- put / get


@pytest.mark.parametrize(
    "value",
    [0, -7, 3.5, "text", b"\x00bytes", None, True, [1, [2, 3]], {"k": (1, 2)}, {1, 2, 3}, ("a", None)],
    ids=repr,
)
def test_put_get_round_trip(ray_cluster, value):
    ref = ray.put(value)
    assert isinstance(ref, ray.ObjectRef)
    assert ray.get(ref) == value
    assert type(ray.get(ref)) is type(value)


def test_get_of_a_list_keeps_order(ray_cluster):
    refs = [ray.put(i) for i in range(5)] + [identity.remote(i) for i in range(5, 10)]
    assert ray.get(refs) == list(range(10))
    assert ray.get([]) == []


def test_same_ref_twice_in_a_get(ray_cluster):
    ref = ray.put("same")
    assert ray.get([ref, ref]) == ["same", "same"]


def test_put_of_an_object_ref_raises_type_error(ray_cluster):
    ref = ray.put(1)
    with pytest.raises(TypeError, match="Calling 'put' on an ray.ObjectRef is not allowed"):
        ray.put(ref)
    # Wrapped in a list it is allowed, and the inner ref survives.
    outer = ray.put([ref])
    inner = ray.get(outer)[0]
    assert isinstance(inner, ray.ObjectRef)
    assert ray.get(inner) == 1


@pytest.mark.parametrize("bad", [5, "ref", (1,), None, {"a": 1}], ids=repr)
def test_get_of_a_non_ref_raises_value_error(ray_cluster, bad):
    with pytest.raises(ValueError, match="'object_refs' must either be an ObjectRef or a list of ObjectRefs"):
        ray.get(bad)


def test_get_of_a_tuple_of_refs_raises_value_error(ray_cluster):
    with pytest.raises(ValueError):
        ray.get((ray.put(1), ray.put(2)))


@pytest.mark.parametrize("bad", [[5], ["x"], "mixed"], ids=repr)
def test_get_of_a_list_with_a_non_ref_raises_type_error(ray_cluster, bad):
    items = [ray.put(1), 5] if bad == "mixed" else bad
    with pytest.raises(TypeError, match="which is not an ray.ObjectRef"):
        ray.get(items)


# ----------------------------------------------------------------------------- get timeouts


def test_get_timeout_raises_get_timeout_error(ray_cluster, tmp_path, gate):
    ref = wait_then_return.remote(str(gate), "late")
    start = time.monotonic()
    with pytest.raises(ray.exceptions.GetTimeoutError) as info:
        ray.get(ref, timeout=0.5)
    elapsed = time.monotonic() - start
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, ray.exceptions.RayError)
    assert 0.45 <= elapsed < 30, elapsed
    # A list with one unfinished ref times out as well.
    with pytest.raises(TimeoutError):
        ray.get([ray.put(1), ref], timeout=0.2)
    touch(gate)
    assert ray.get(ref, timeout=60) == "late"


def test_get_timeout_error_is_a_timeout_error():
    assert issubclass(ray.exceptions.GetTimeoutError, TimeoutError)
    assert issubclass(ray.exceptions.GetTimeoutError, ray.exceptions.RayError)


def test_get_with_zero_timeout_on_a_ready_object(ray_cluster):
    ref = ray.put("ready")
    assert ray.get(ref, timeout=0) == "ready"
    finished = identity.remote(4)
    assert ray.get(finished, timeout=60) == 4
    assert ray.get(finished, timeout=0) == 4


# ----------------------------------------------------------------------------- wait


def test_wait_argument_checks(ray_cluster):
    a, b = ray.put(1), ray.put(2)
    with pytest.raises(TypeError):
        ray.wait(a)
    with pytest.raises(TypeError):
        ray.wait((a, b))
    with pytest.raises(TypeError):
        ray.wait([a, 5])
    with pytest.raises(ValueError, match="unique"):
        ray.wait([a, a])
    with pytest.raises(ValueError):
        ray.wait([a, b], num_returns=0)
    with pytest.raises(ValueError):
        ray.wait([a, b], num_returns=-1)
    with pytest.raises(ValueError, match="num_returns cannot be greater"):
        ray.wait([a, b], num_returns=3)
    with pytest.raises(ValueError, match="nonnegative"):
        ray.wait([a, b], timeout=-1)
    with pytest.raises(ValueError, match="nonnegative"):
        ray.wait([a, b], timeout=-0.5)


def test_wait_on_an_empty_list(ray_cluster):
    assert ray.wait([]) == ([], [])


def test_wait_returns_ready_refs_in_input_order(ray_cluster):
    refs = [ray.put(i) for i in range(5)]
    shuffled = [refs[3], refs[0], refs[4], refs[1], refs[2]]
    ready, not_ready = ray.wait(shuffled, num_returns=5, timeout=60)
    assert ready == shuffled
    assert not_ready == []
    ready, not_ready = ray.wait(shuffled, num_returns=2, timeout=60)
    assert ready == shuffled[:2]
    assert not_ready == shuffled[2:]


def test_wait_splits_ready_from_pending(ray_cluster, tmp_path, gate):
    pending = wait_then_return.remote(str(gate), "p")
    done_a, done_b = ray.put("a"), identity.remote("b")
    refs = [pending, done_a, done_b]
    ready, not_ready = ray.wait(refs, num_returns=2, timeout=60)
    assert ready == [done_a, done_b]
    assert not_ready == [pending]
    # Default num_returns=1: one ready ref, the first ready one in input order.
    ready, not_ready = ray.wait(refs, timeout=60)
    assert ready == [done_a]
    assert not_ready == [pending, done_b]
    touch(gate)
    ready, not_ready = ray.wait(refs, num_returns=3, timeout=60)
    assert ready == refs and not_ready == []


def test_wait_timeout_returns_what_is_ready(ray_cluster, tmp_path, gate):
    pending = [wait_then_return.remote(str(gate), i) for i in range(2)]
    done = ray.put("done")
    start = time.monotonic()
    ready, not_ready = ray.wait(pending + [done], num_returns=2, timeout=0.5)
    elapsed = time.monotonic() - start
    assert ready == [done]
    assert not_ready == pending
    assert 0.45 <= elapsed < 30, elapsed
    # timeout=0 polls.
    start = time.monotonic()
    ready, not_ready = ray.wait(pending, timeout=0)
    assert ready == [] and not_ready == pending
    assert time.monotonic() - start < 10
    touch(gate)
    ready, not_ready = ray.wait(pending, num_returns=2, timeout=60)
    assert ready == pending and not_ready == []


def test_wait_without_timeout_blocks_until_ready(ray_cluster, tmp_path, gate):
    started = tmp_path / "started"
    ref = signal_then_wait.remote(str(started), str(gate))
    wait_until(started.exists, what="the task to start")
    touch(gate)
    ready, not_ready = ray.wait([ref])
    assert ready == [ref] and not_ready == []


@ray.remote
def signal_then_wait(started, gate):
    touch(started)
    wait_for_file(gate)
    return os.getpid()


# ----------------------------------------------------------------------------- large values


def test_large_array_argument_and_return_round_trip(ray_cluster):
    rng = np.random.default_rng(7)
    arr = rng.standard_normal(40_000)  # 320 KB
    assert arr.nbytes > 100 * 1024
    facts, doubled = ray.get(double_array.remote(arr), timeout=60)
    assert facts == {"dtype": "float64", "shape": (40_000,), "sum": float(arr.sum())}
    assert doubled.dtype == arr.dtype and doubled.shape == arr.shape
    np.testing.assert_array_equal(doubled, arr * 2)
    # As a keyword argument, and as a ref to a put value.
    facts, doubled = ray.get(double_array.remote(arr=arr), timeout=60)
    assert facts["sum"] == float(arr.sum())
    np.testing.assert_array_equal(doubled, arr * 2)
    facts, doubled = ray.get(double_array.remote(ray.put(arr)), timeout=60)
    np.testing.assert_array_equal(doubled, arr * 2)


def test_large_array_survives_put_and_task_unchanged(ray_cluster):
    arr = np.arange(300 * 300, dtype=np.int32).reshape(300, 300)  # 360 KB, 2-D
    ref = ray.put(arr)
    back = ray.get(identity.remote(ref), timeout=60)
    assert back.shape == (300, 300) and back.dtype == np.int32
    np.testing.assert_array_equal(back, arr)
    np.testing.assert_array_equal(ray.get(ref), arr)


def test_large_array_from_get_is_read_only(ray_cluster):
    returned = ray.get(make_array.remote(50_000), timeout=60)  # 400 KB
    assert returned.nbytes > 100 * 1024
    assert returned.flags.writeable is False
    with pytest.raises(ValueError):
        returned[0] = 1
    np.testing.assert_array_equal(returned, np.arange(50_000, dtype=np.int64))

    put_back = ray.get(ray.put(np.ones(30_000)))
    assert put_back.flags.writeable is False
    # A copy is writable, as in Ray.
    copy = put_back.copy()
    copy[0] = 5
    assert copy[0] == 5 and put_back[0] == 1


def test_large_arrays_nested_in_containers(ray_cluster):
    value = {"a": np.full(20_000, 3.0), "b": [np.arange(20_000), "tag"]}
    back = ray.get(identity.remote(value), timeout=60)
    np.testing.assert_array_equal(back["a"], value["a"])
    np.testing.assert_array_equal(back["b"][0], value["b"][0])
    assert back["b"][1] == "tag"


def test_large_bytes_round_trip(ray_cluster):
    payload = os.urandom(2 * 1024 * 1024)
    assert ray.get(identity.remote(payload), timeout=60) == payload
    assert ray.get(ray.put(payload)) == payload
