"""@ray.remote on functions: submission, options and their validation, returns, arguments,
nested tasks."""

from __future__ import annotations

import os
import re
import time

import pytest
from helpers import touch, wait_for_file, wait_until

import ray

OBJECT_REF_REPR = re.compile(r"ObjectRef\([0-9a-f]{56}\)")


@ray.remote
def add(a, b=0):
    return a + b


@ray.remote
def identity(x):
    return x


@ray.remote
def sleep_then_return(seconds, value):
    time.sleep(seconds)
    return value


@ray.remote(num_cpus=1, num_gpus=0, resources={}, num_returns=2, max_retries=1)
def two_values(x):
    return x, x * 2


@ray.remote
def three_values():
    return "a", "b", "c"


@ray.remote
def describe(*args, **kwargs):
    """What the task received: type names and values, positional and keyword."""
    return (
        [(type(a).__name__, a if not isinstance(a, ray.ObjectRef) else None) for a in args],
        {k: (type(v).__name__, v if not isinstance(v, ray.ObjectRef) else None) for k, v in kwargs.items()},
    )


@ray.remote
def inspect_nested(container):
    """Refs inside a container arrive as ObjectRefs; the task can get them itself."""
    if isinstance(container, dict):
        items = list(container.values())
    else:
        items = list(container)
    kinds = [isinstance(x, ray.ObjectRef) for x in items]
    return kinds, ray.get(items)


@ray.remote
def write_marker(path):
    touch(path)


@ray.remote
def fan_out(n):
    """A task that submits tasks and waits for them."""
    return sum(ray.get([add.remote(i, 1) for i in range(n)]))


@ray.remote
def outer_waiting_on_inner(index, started_dir, expected):
    """Both outer tasks hold a CPU before either submits its inner task and blocks in get."""
    touch(os.path.join(started_dir, f"outer-{index}"))
    deadline = time.monotonic() + 60
    while len(os.listdir(started_dir)) < expected:
        if time.monotonic() > deadline:
            raise TimeoutError("the other outer task never started")
        time.sleep(0.02)
    return ray.get(add.remote(index, 100))


# ----------------------------------------------------------------------------- submission


def test_bare_decorator_submits_a_task(ray_cluster):
    assert ray.get(add.remote(1, 2)) == 3


def test_remote_accepts_positional_and_keyword_arguments(ray_cluster):
    assert ray.get(add.remote(1, b=5)) == 6
    assert ray.get(add.remote(a=2, b=3)) == 5
    assert ray.get(describe.remote(1, "x", k=[1, 2])) == ([("int", 1), ("str", "x")], {"k": ("list", [1, 2])})


def test_decorator_with_options(ray_cluster):
    refs = two_values.remote(21)
    assert isinstance(refs, list) and len(refs) == 2
    assert ray.get(refs) == [21, 42]


def test_remote_returns_an_object_ref_at_once(ray_cluster):
    start = time.monotonic()
    ref = sleep_then_return.remote(2, "done")
    submit_seconds = time.monotonic() - start
    assert submit_seconds < 1.0, f".remote() took {submit_seconds:.2f} s for a task that sleeps 2 s"
    assert isinstance(ref, ray.ObjectRef)
    assert OBJECT_REF_REPR.fullmatch(repr(ref)), repr(ref)
    assert ray.get(ref, timeout=60) == "done"
    assert time.monotonic() - start >= 1.9


def test_object_refs_are_distinct_per_call(ray_cluster):
    a, b = add.remote(1), add.remote(1)
    assert a != b
    assert a.hex() != b.hex() and len(a.hex()) == 56
    assert ray.get([a, b]) == [1, 1]


def test_calling_a_remote_function_directly_raises(ray_cluster):
    with pytest.raises(TypeError, match="Remote functions cannot be called directly"):
        add(1, 2)
    with pytest.raises(TypeError, match="Remote functions cannot be called directly"):
        add.options(num_cpus=1)(1, 2)


def test_remote_function_keeps_the_functions_name_and_doc():
    assert add.__name__ == "add"
    assert "What the task received" in describe.__doc__


# ----------------------------------------------------------------------------- options


INVALID_OPTIONS = [
    ({"num_cpus": -1}, ValueError),
    ({"num_gpus": -1}, ValueError),
    ({"num_returns": -1}, ValueError),
    ({"max_retries": -2}, ValueError),
    ({"resources": {"CPU": 1}}, ValueError),
    ({"resources": {"GPU": 1}}, ValueError),
    ({"resources": {"slot": -1}}, ValueError),
    ({"not_an_option": 1}, ValueError),
    ({"num_cpus": "1"}, TypeError),
    ({"num_gpus": "x"}, TypeError),
    ({"num_returns": 1.5}, TypeError),
    ({"max_retries": 1.5}, TypeError),
    ({"max_retries": "3"}, TypeError),
    ({"resources": ["slot"]}, TypeError),
    ({"name": 3}, TypeError),
]


@pytest.mark.parametrize("options,error", INVALID_OPTIONS, ids=[repr(o) for o, _ in INVALID_OPTIONS])
def test_invalid_decorator_options_raise(options, error):
    def f():
        return 1

    with pytest.raises(error):
        ray.remote(**options)(f)


@pytest.mark.parametrize("options,error", INVALID_OPTIONS, ids=[repr(o) for o, _ in INVALID_OPTIONS])
def test_invalid_dot_options_raise(options, error):
    with pytest.raises(error):
        add.options(**options)


def test_unknown_option_message_names_the_keyword():
    with pytest.raises(ValueError, match="Invalid option keyword not_an_option"):
        add.options(not_an_option=1)


def test_options_override_for_that_call_only(ray_cluster):
    refs = three_values.options(num_returns=3).remote()
    assert isinstance(refs, list) and len(refs) == 3
    assert ray.get(refs) == ["a", "b", "c"]
    # The function itself is unchanged: one ref holding the whole tuple.
    single = three_values.remote()
    assert isinstance(single, ray.ObjectRef)
    assert ray.get(single) == ("a", "b", "c")
    # Chained .options() calls merge.
    chained = three_values.options(num_cpus=0.5).options(num_returns=3).remote()
    assert ray.get(chained) == ["a", "b", "c"]


def test_num_returns_two_gives_two_refs(ray_cluster):
    first, second = identity.options(num_returns=2).remote((1, 2))
    assert isinstance(first, ray.ObjectRef) and isinstance(second, ray.ObjectRef)
    assert first != second
    assert ray.get(first) == 1
    assert ray.get(second) == 2


def test_num_returns_zero_returns_none_and_still_runs(ray_cluster, tmp_path):
    marker = tmp_path / "ran"
    assert write_marker.options(num_returns=0).remote(str(marker)) is None
    wait_until(marker.exists, what="the num_returns=0 task to run")


# ----------------------------------------------------------------------------- arguments


def test_top_level_ref_arguments_are_resolved(ray_cluster):
    put_ref = ray.put(10)
    task_ref = add.remote(5, 6)
    args, kwargs = ray.get(describe.remote(put_ref, task_ref, 3, key=put_ref, other=task_ref))
    assert args == [("int", 10), ("int", 11), ("int", 3)]
    assert kwargs == {"key": ("int", 10), "other": ("int", 11)}


def test_task_outputs_chain_into_tasks(ray_cluster):
    ref = add.remote(1, 1)
    for _ in range(5):
        ref = add.remote(ref, b=ref)
    assert ray.get(ref, timeout=60) == 64


def test_refs_nested_in_a_list_stay_refs(ray_cluster):
    refs = [ray.put("x"), add.remote(2, 3)]
    kinds, values = ray.get(inspect_nested.remote(refs))
    assert kinds == [True, True]
    assert values == ["x", 5]


def test_refs_nested_in_a_dict_stay_refs(ray_cluster):
    kinds, values = ray.get(inspect_nested.remote({"a": ray.put(1), "b": add.remote(1, 1)}))
    assert kinds == [True, True]
    assert values == [1, 2]


# ----------------------------------------------------------------------------- nested tasks


def test_tasks_can_submit_tasks_and_get_them(ray_cluster):
    assert ray.get(fan_out.remote(4), timeout=90) == sum(i + 1 for i in range(4))


def test_no_deadlock_when_every_cpu_waits_on_an_inner_task(ray_cluster, tmp_path):
    """Two CPUs, two outer tasks both running and blocked in ray.get on inner tasks: the
    blocked workers lend their CPUs back, so the inner tasks run."""
    started = tmp_path / "started"
    started.mkdir()
    outers = [outer_waiting_on_inner.remote(i, str(started), 2) for i in range(2)]
    assert ray.get(outers, timeout=120) == [100, 101]


def test_tasks_queue_while_all_cpus_are_held(ray_cluster, tmp_path, gate):
    """Two tasks hold both CPUs (waiting on a file, not in ray.get): later tasks wait for a
    CPU, then all complete once the holders finish."""
    started = tmp_path / "started"
    started.mkdir()
    holders = [hold_cpu_until.remote(str(gate), str(started / str(i))) for i in range(2)]
    wait_until(lambda: len(os.listdir(started)) == 2, what="both holders to start")
    queued = [add.remote(i) for i in range(6)]
    ready, not_ready = ray.wait(queued, num_returns=1, timeout=1.0)
    assert ready == [] and not_ready == queued, "a task ran although no CPU was free"
    touch(gate)
    assert ray.get(holders, timeout=60) == ["opened", "opened"]
    assert ray.get(queued, timeout=60) == list(range(6))


@ray.remote
def hold_cpu_until(gate, started):
    touch(started)
    wait_for_file(gate)
    return "opened"


def test_wrong_arguments_fail_at_remote_time(ray_cluster):
    """Like Ray, arguments are checked against the signature when the task is submitted."""

    @ray.remote
    def one(x):
        return x

    with pytest.raises(TypeError, match="too many positional arguments"):
        one.remote(1, 2)
    with pytest.raises(TypeError, match="missing a required argument: 'x'"):
        one.remote()
    with pytest.raises(TypeError, match="unexpected keyword argument 'y'"):
        one.remote(1, y=2)
    assert ray.get(one.remote(x=3)) == 3
