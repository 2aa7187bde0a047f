"""Public API details as Ray 2.60 has them (issue 10): auto-init on first use, the names
libraries import (ray.cloudpickle, ray.types, ActorClassInheritanceException,
ObjectRef.as_future), RayTaskError.cause for an exception that cannot be pickled, and the
validation of label_selector and fallback_strategy.

Everything but the leftover checks of the auto-init scripts was also run on real Ray 2.60.
"""

from __future__ import annotations

import asyncio
import textwrap
import threading

import pytest
from conftest import _descends_from_us, _owner_alive, arena_files, engine_processes, run_script
from helpers import wait_until

import ray
from ray.exceptions import RayError, RayTaskError

# ----------------------------------------------------------------------------- auto-init

AUTO_INIT_TASK = """
import ray

@ray.remote
def double(x):
    return 2 * x

print("initialized before:", ray.is_initialized())
print("result:", ray.get(double.remote(21)))
print("initialized after:", ray.is_initialized())
"""

AUTO_INIT_PUT_AND_CONTEXT = """
import ray

ref = ray.put("stored")
print("put:", ray.get(ref))
ray.shutdown()
print("job:", len(ray.get_runtime_context().get_job_id()) > 0)
print("initialized:", ray.is_initialized())
"""


def _foreign_engine_pids():
    """Engine processes not started by this test process (a script's, while it runs)."""
    return {p.pid for p in engine_processes() if not _descends_from_us(p)}


def _stale_arenas():
    return {f for f in arena_files() if not _owner_alive(f)}


def _run_leaving_nothing(tmp_path, source):
    before_processes = _foreign_engine_pids()
    before_arenas = _stale_arenas()
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    done = run_script(script, cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    # Nothing the script started outlives it: its node, workers and arena are gone.
    wait_until(
        lambda: not (_foreign_engine_pids() - before_processes),
        timeout=30,
        what="the script's engine processes to exit",
    )
    assert not (_stale_arenas() - before_arenas), "the script left an arena file behind"
    return done.stdout


def test_a_script_without_init_starts_ray_on_its_first_task(tmp_path):
    out = _run_leaving_nothing(tmp_path, AUTO_INIT_TASK)
    assert "initialized before: False" in out
    assert "result: 42" in out
    assert "initialized after: True" in out


def test_put_and_runtime_context_start_ray_too(tmp_path):
    out = _run_leaving_nothing(tmp_path, AUTO_INIT_PUT_AND_CONTEXT)
    assert "put: stored" in out
    assert "job: True" in out
    assert "initialized: True" in out


# ----------------------------------------------------------------------------- public names


def test_public_names_libraries_import(ray_cluster):
    from ray import cloudpickle
    from ray.actor import ActorClassInheritanceException

    assert ray.cloudpickle is cloudpickle
    factor = 3
    assert cloudpickle.loads(cloudpickle.dumps(lambda x: x * factor))(2) == 6

    from ray import types

    annotation = types.ObjectRef[int]
    assert annotation.__origin__ is types.ObjectRef
    assert ray.types is types

    assert issubclass(ActorClassInheritanceException, TypeError)


@ray.remote
def slow_value(x):
    import time

    time.sleep(0.2)
    return x


@ray.remote(max_retries=0)
def raises_key_error():
    raise KeyError("missing")


def test_object_ref_as_future(ray_cluster):
    async def main():
        fut = slow_value.remote(7).as_future()
        assert isinstance(fut, asyncio.Future)
        assert await fut == 7
        with pytest.raises(KeyError):
            await raises_key_error.remote().as_future()
        # Several at once, as asyncio code gathers them.
        return await asyncio.gather(*(slow_value.remote(i).as_future() for i in range(3)))

    assert asyncio.run(main()) == [0, 1, 2]


# ----------------------------------------------------------------------------- errors


class LockedError(Exception):
    """An exception that cannot be pickled (it holds a lock)."""

    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


@ray.remote(max_retries=0)
def raises_unpicklable():
    raise LockedError("holds a lock")


def test_cause_of_an_unpicklable_exception_is_a_ray_error_describing_it(ray_cluster):
    with pytest.raises(RayTaskError) as info:
        ray.get(raises_unpicklable.remote(), timeout=60)
    error = info.value
    assert not isinstance(error, LockedError)
    assert isinstance(error.cause, RayError)
    text = str(error.cause)
    assert "LockedError isn't serializable" in text
    assert "lock" in text and "holds a lock" in text
    assert "holds a lock" in str(error)


# ----------------------------------------------------------------------------- options


@ray.remote
def plain():
    return 1


@ray.remote
class PlainActor:
    pass


_NAME_RULE = "must be 63 chars or less beginning and ending with an alphanumeric character"


@pytest.mark.parametrize("target", [plain, PlainActor], ids=["task", "actor"])
@pytest.mark.parametrize(
    "selector, message",
    [
        ({"": "b"}, "Invalid label key name ``"),
        ({"a b": "c"}, "Invalid label key name `a b`"),
        ({"-a": "b"}, "Invalid label key name `-a`"),
        ({"a" * 64: "b"}, "Invalid label key name"),
        ({"a": "b c"}, "Invalid label selector value `b c`"),
        ({"a": "in()"}, "Invalid label selector value `in()`"),
        ({"a": "in(b"}, "Invalid label selector value `in(b`"),
        ({"a": "!"}, "Invalid label selector value `!`"),
        ({"a": "!!b"}, "Invalid label selector value `!!b`"),
        ({"a": "b" * 64}, "Invalid label selector value"),
    ],
)
def test_invalid_label_selector_is_rejected(ray_cluster, target, selector, message):
    with pytest.raises(ValueError, match=_NAME_RULE) as info:
        target.options(label_selector=selector)
    assert message in str(info.value)


@pytest.mark.parametrize("target", [plain, PlainActor], ids=["task", "actor"])
def test_label_selector_of_the_wrong_type_is_a_type_error(ray_cluster, target):
    with pytest.raises(TypeError):
        target.options(label_selector="a=b")
    with pytest.raises(TypeError):
        target.options(label_selector={1: "b"})
    with pytest.raises(TypeError):
        target.options(label_selector={"a": 1})
    target.options(label_selector=None)
    target.options(label_selector={})


@pytest.mark.parametrize("target", [plain, PlainActor], ids=["task", "actor"])
@pytest.mark.parametrize(
    "strategy, error, message",
    [
        ({"label_selector": {"a": "b"}}, TypeError, "The type of keyword 'fallback_strategy' must be"),
        (["x"], ValueError, "Each element in fallback_strategy must be a dictionary."),
        ([{}], ValueError, "Empty dictionary found in `fallback_strategy`."),
        ([{"num_cpus": 1}], ValueError, "Unsupported option found: 'num_cpus'. Only ['label_selector'] is"),
        ([{"label_selector": "a"}], ValueError, 'The value of "label_selector" must be a dictionary.'),
        ([{"label_selector": {"a": "!!b"}}], ValueError, "Invalid label selector value `!!b`"),
    ],
)
def test_fallback_strategy_is_validated(ray_cluster, target, strategy, error, message):
    with pytest.raises(error) as info:
        target.options(fallback_strategy=strategy)
    assert message in str(info.value)


@pytest.mark.parametrize("target", [plain, PlainActor], ids=["task", "actor"])
def test_empty_fallback_strategy_is_accepted(ray_cluster, target):
    target.options(fallback_strategy=None)
    target.options(fallback_strategy=[])
