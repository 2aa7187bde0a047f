"""Actors: @ray.remote on a class and its options, resources held, validation, method calls,
ordering and concurrency (threaded and async actors), handles passed around, named actors and
namespaces."""

from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest
from helpers import max_overlap, touch, wait_for_file, wait_until

import ray
from ray.exceptions import ActorAlreadyExistsError, RayError


@pytest.fixture(scope="module")
def cluster():
    """2 CPUs, as ray_cluster, plus one GPU and one custom resource for the resource tests."""
    ray.init(num_cpus=2, num_gpus=1, resources={"custom": 1}, object_store_memory=512 * 1024 * 1024)
    yield
    ray.shutdown()


pytestmark = pytest.mark.usefixtures("cluster")


# ----------------------------------------------------------------------------- actor classes


@ray.remote
class Counter:
    def __init__(self, start=0):
        self.value = start

    def increment(self, by=1):
        self.value += by
        return self.value

    def get(self):
        return self.value

    def pid(self):
        return os.getpid()


@ray.remote
class Recorder:
    """Appends what it is given; remembers when each call ran and whether calls overlapped."""

    def __init__(self):
        self.items = []
        self.intervals = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def append(self, item):
        self.items.append(item)
        return item

    def items_seen(self):
        return list(self.items)

    def busy(self, seconds):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
        with self.lock:
            self.active -= 1
        self.intervals.append((start, end))
        return threading.get_ident()

    def report(self):
        return self.max_active, list(self.intervals)


@ray.remote
class Sleeper:
    def ready(self):
        return True

    def sleep(self, seconds):
        time.sleep(seconds)
        return seconds


@ray.remote
class GatedInit:
    """__init__ blocks until a file appears."""

    def __init__(self, gate):
        wait_for_file(gate)

    def ready(self):
        return "ready"


@ray.remote
class AsyncWorker:
    def __init__(self):
        self.active = 0
        self.max_active = 0

    async def nap(self, seconds):
        await asyncio.sleep(seconds)
        return seconds

    async def crowd(self, reach, hold):
        """Counts running coroutines; waits (bounded) until ``reach`` have run at once, then holds."""
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            deadline = time.monotonic() + 10
            while self.max_active < reach and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(hold)
        finally:
            self.active -= 1
        return True

    async def peak(self):
        return self.max_active


@ray.remote
class Splitter:
    @ray.method(num_returns=2)
    def halves(self, x):
        return x // 2, x - x // 2

    def triple(self, x):
        return x, x, x

    def one(self, x):
        return x


@ray.remote
def call_increment(handle, by):
    return ray.get(handle.increment.remote(by))


@ray.remote
def call_from_container(container):
    handles = list(container.values()) if isinstance(container, dict) else list(container)
    return [ray.get(h.increment.remote(1)) for h in handles]


@ray.remote
def hand_back(x):
    return x


@ray.remote
def make_counter_and_return(start):
    handle = Counter.remote(start)
    ray.get(handle.get.remote())
    return [handle]


@ray.remote
def lookup_and_increment(name, namespace=None):
    handle = ray.get_actor(name, namespace=namespace)
    return ray.get(handle.increment.remote(1))


@ray.remote
def wait_for_peers(marker_dir, index, peers):
    """A plain task: marks itself running and waits (bounded) until ``peers`` tasks run together."""
    touch(os.path.join(marker_dir, f"task-{index}"))
    deadline = time.monotonic() + 60
    while len([f for f in os.listdir(marker_dir) if f.startswith("task-")]) < peers:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


@ray.remote
class Holder:
    """Keeps other actors' handles and calls them."""

    def __init__(self, handle):
        self.handle = handle

    def poke(self, by):
        return ray.get(self.handle.increment.remote(by))

    def give_back(self):
        return self.handle

    def create_and_return(self):
        self.made = Counter.remote(100)
        return self.made


@ray.remote
def drain(handle, count, offset):
    return ray.get([handle.busy.remote(0.02) for _ in range(count)]) and offset


def _cpus():
    return ray.available_resources().get("CPU", 0)


# ----------------------------------------------------------------------------- creation


def test_remote_returns_an_actor_handle_at_once(tmp_path):
    gate = tmp_path / "gate"
    try:
        handle = GatedInit.remote(str(gate))
        assert isinstance(handle, ray.actor.ActorHandle)
        ref = handle.ready.remote()
        assert isinstance(ref, ray.ObjectRef)
        # __init__ is still blocked on the gate, so .remote() did not wait for it.
        ready, pending = ray.wait([ref], timeout=0.5)
        assert ready == [] and pending == [ref]
    finally:
        touch(gate)
    assert ray.get(ref, timeout=60) == "ready"


def test_actor_class_keeps_the_class_identity():
    assert isinstance(Counter, ray.actor.ActorClass)


def test_constructor_arguments_positional_and_keyword():
    assert ray.get(Counter.remote(5).get.remote()) == 5
    assert ray.get(Counter.remote(start=7).increment.remote(by=3)) == 10
    ref = ray.put(40)
    # A top-level ObjectRef argument arrives as its value, as for tasks.
    assert ray.get(Counter.remote(ref).increment.remote(2)) == 42


def test_decorator_options_are_accepted_and_work(tmp_path):
    @ray.remote(
        num_cpus=0,
        num_gpus=0,
        resources={},
        max_concurrency=2,
        name="decorated-with-options",
        namespace="options-ns",
        max_restarts=1,
        max_task_retries=1,
    )
    class Decorated:
        def meet(self, marker_dir, index):
            """Both calls must be running at once for either to return True."""
            touch(os.path.join(marker_dir, str(index)))
            deadline = time.monotonic() + 30
            while len(os.listdir(marker_dir)) < 2:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.02)
            return True

    handle = Decorated.remote()
    assert ray.get_actor("decorated-with-options", namespace="options-ns") == handle
    # max_concurrency=2 from the decorator: two calls run at the same time.
    assert ray.get([handle.meet.remote(str(tmp_path), i) for i in range(2)], timeout=60) == [True, True]
    ray.kill(handle)


def test_options_override_and_do_not_change_the_class():
    a = Counter.options(name="counter-options-a", max_concurrency=1, max_restarts=0).remote(3)
    assert ray.get(ray.get_actor("counter-options-a").increment.remote()) == 4
    # The class itself is unchanged: a second actor without options has no name.
    b = Counter.remote(10)
    assert ray.get(b.get.remote()) == 10
    with pytest.raises(ValueError):
        ray.get_actor("counter-options-b")
    ray.kill(a)


def test_default_actors_hold_no_cpu_while_tasks_run(tmp_path):
    # Ray's default: 1 CPU to place an actor, 0 held while it lives.
    actors = [Counter.remote(i) for i in range(3)]
    assert ray.get([a.get.remote() for a in actors], timeout=120) == [0, 1, 2]
    wait_until(lambda: _cpus() == 2, what="both CPUs available with 3 default actors alive")
    # Both CPUs are really usable by plain tasks: two run at the same time.
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    assert ray.get([wait_for_peers.remote(str(marker_dir), i, 2) for i in range(2)], timeout=90) == [True, True]
    assert ray.get([a.increment.remote() for a in actors]) == [1, 2, 3]


def test_actor_with_num_cpus_holds_its_cpu_until_killed():
    wait_until(lambda: _cpus() == 2, what="both CPUs free")
    holder = Counter.options(num_cpus=1).remote()
    assert ray.get(holder.get.remote()) == 0
    wait_until(lambda: _cpus() == 1, what="the actor's CPU taken")
    ray.kill(holder)
    wait_until(lambda: _cpus() == 2, what="the CPU given back after ray.kill")


def test_actor_holds_gpu_and_custom_resources_and_a_second_waits_for_them():
    assert ray.cluster_resources().get("GPU") == 1
    wait_until(lambda: ray.available_resources().get("GPU") == 1, what="GPU free")
    first = Counter.options(num_gpus=1, resources={"custom": 1}).remote()
    assert ray.get(first.get.remote()) == 0
    wait_until(
        lambda: "GPU" not in ray.available_resources() or ray.available_resources()["GPU"] == 0,
        what="the GPU taken",
    )
    assert ray.available_resources().get("custom", 0) == 0
    second = Counter.options(resources={"custom": 1}).remote(1)
    waiting = second.get.remote()
    ready, _ = ray.wait([waiting], timeout=1.0)
    assert ready == []  # cannot be placed while the first holds "custom"
    ray.kill(first)
    assert ray.get(waiting, timeout=60) == 1
    ray.kill(second)
    wait_until(lambda: ray.available_resources().get("custom") == 1, what="custom resource back")
    wait_until(lambda: ray.available_resources().get("GPU") == 1, what="GPU back")


# ----------------------------------------------------------------------------- validation


def test_calling_the_class_directly_raises_type_error():
    with pytest.raises(TypeError, match=r"Actors cannot be instantiated directly.*Counter\.remote\(\)"):
        Counter()
    with pytest.raises(TypeError, match="Actors cannot be instantiated directly"):
        Counter(5)


INVALID_OPTIONS = [
    ({"lifetime": "forever"}, ValueError, "lifetime"),
    ({"max_restarts": -2}, ValueError, "max_restarts"),
    ({"max_task_retries": -2}, ValueError, "max_task_retries"),
    ({"max_concurrency": -1}, ValueError, "max_concurrency"),
    ({"max_concurrency": 1.5}, TypeError, "max_concurrency"),
    ({"num_cpus": -1}, ValueError, "num_cpus"),
    ({"name": 3}, TypeError, "name"),
    ({"get_if_exists": True}, ValueError, "name must be specified"),
    ({"resources": {"CPU": 1}}, ValueError, "num_cpus"),
    ({"num_returns": 2}, ValueError, "Invalid option keyword num_returns for actors"),
    ({"max_retries": 2}, ValueError, "Invalid option keyword max_retries for actors"),
]


@pytest.mark.parametrize("options, error, text", INVALID_OPTIONS, ids=[str(o[0]) for o in INVALID_OPTIONS])
def test_invalid_actor_options_raise_in_options_and_decorator(options, error, text):
    class Plain:
        def f(self):
            return 1

    with pytest.raises(error, match=text):
        ray.remote(Plain).options(**options)
    with pytest.raises(error, match=text):
        ray.remote(**options)(Plain)


def test_unknown_keyword_raises_value_error():
    class Plain:
        def f(self):
            return 1

    with pytest.raises(ValueError, match="Invalid option keyword foo for actors"):
        ray.remote(Plain).options(foo=1)
    with pytest.raises(ValueError):
        ray.remote(foo=1)(Plain)


def test_wrong_constructor_arguments_raise_type_error_at_remote_time():
    with pytest.raises(TypeError):
        Counter.remote(1, 2, 3)
    with pytest.raises(TypeError):
        Counter.remote(nonexistent=1)
    with pytest.raises(TypeError):
        Counter.options(name="never-created").remote(1, 2)
    with pytest.raises(ValueError):
        ray.get_actor("never-created")


def test_calling_a_method_directly_raises_type_error():
    handle = Counter.remote()
    with pytest.raises(TypeError, match=r"object\.increment\.remote\(\)"):
        handle.increment()
    with pytest.raises(TypeError):
        handle.get(1)


def test_unknown_method_raises_attribute_error():
    handle = Counter.remote()
    with pytest.raises(AttributeError):
        handle.nonexistent.remote()
    with pytest.raises(AttributeError):
        handle.nonexistent  # noqa: B018
    assert ray.get(handle.increment.remote()) == 1


# ----------------------------------------------------------------------------- methods


def test_method_remote_returns_object_ref():
    handle = Counter.remote()
    ref = handle.increment.remote(2)
    assert isinstance(ref, ray.ObjectRef)
    assert ray.get(ref) == 2
    # A method's result can be passed on as an argument.
    assert ray.get(handle.increment.remote(ref)) == 4


def test_method_num_returns():
    s = Splitter.remote()
    refs = s.halves.remote(9)
    assert isinstance(refs, list) and len(refs) == 2
    assert all(isinstance(r, ray.ObjectRef) for r in refs)
    assert ray.get(refs) == [4, 5]
    three = s.triple.options(num_returns=3).remote("x")
    assert ray.get(three) == ["x", "x", "x"]
    # Without options a tuple comes back as one value.
    assert ray.get(s.triple.remote(1)) == (1, 1, 1)
    assert ray.get(s.halves.options(num_returns=1).remote(4)) == (2, 2)


def test_ray_method_rejects_a_negative_num_returns():
    with pytest.raises(ValueError):

        @ray.method(num_returns=-1)
        def f(self):
            pass


# ----------------------------------------------------------------------------- ordering and concurrency


def test_calls_from_one_caller_run_in_submission_order():
    recorder = Recorder.remote()
    refs = [recorder.append.remote(i) for i in range(1000)]
    assert ray.get(refs) == list(range(1000))
    assert ray.get(recorder.items_seen.remote()) == list(range(1000))


def test_each_actor_has_its_own_process():
    a, b = Counter.remote(), Counter.remote()
    pa, pb = ray.get([a.pid.remote(), b.pid.remote()])
    assert pa != pb
    assert os.getpid() not in (pa, pb)
    # The process is the same for every call of one actor.
    assert ray.get([a.pid.remote() for _ in range(5)]) == [pa] * 5


def test_actor_state_is_kept_between_calls():
    c = Counter.remote(10)
    for i in range(1, 6):
        assert ray.get(c.increment.remote()) == 10 + i
    assert ray.get(c.get.remote()) == 15


def test_default_sync_actor_never_overlaps_calls_from_several_callers():
    recorder = Recorder.remote()
    direct = [recorder.busy.remote(0.02) for _ in range(10)]
    via_tasks = [drain.remote(recorder, 10, i) for i in range(2)]
    threads = ray.get(direct)
    ray.get(via_tasks, timeout=120)
    max_active, intervals = ray.get(recorder.report.remote())
    assert len(intervals) == 30
    assert max_active == 1
    assert max_overlap(intervals) == 1
    assert len(set(threads)) == 1


def test_threaded_actor_runs_max_concurrency_calls_at_once():
    actor = Sleeper.options(max_concurrency=4).remote()
    assert ray.get(actor.ready.remote())
    start = time.monotonic()
    assert ray.get([actor.sleep.remote(1) for _ in range(4)], timeout=60) == [1, 1, 1, 1]
    elapsed = time.monotonic() - start
    assert elapsed < 1.9, f"four 1-second calls took {elapsed:.2f} s with max_concurrency=4"


def test_threaded_actor_bounds_concurrency():
    recorder = Recorder.options(max_concurrency=2).remote()
    ray.get([recorder.busy.remote(0.2) for _ in range(6)], timeout=60)
    max_active, intervals = ray.get(recorder.report.remote())
    assert max_active == 2
    assert max_overlap(intervals) == 2


def test_async_actor_runs_many_coroutines_at_once():
    actor = AsyncWorker.remote()
    assert ray.get(actor.peak.remote()) == 0
    start = time.monotonic()
    assert ray.get([actor.nap.remote(1) for _ in range(100)], timeout=60) == [1] * 100
    elapsed = time.monotonic() - start
    assert elapsed < 2.9, f"100 concurrent 1-second awaits took {elapsed:.2f} s"


def test_async_actor_max_concurrency_bounds_running_coroutines():
    actor = AsyncWorker.options(max_concurrency=2).remote()
    assert ray.get([actor.crowd.remote(2, 0.2) for _ in range(8)], timeout=60) == [True] * 8
    assert ray.get(actor.peak.remote()) == 2


def test_async_actor_default_concurrency_is_far_above_one():
    actor = AsyncWorker.remote()
    # Twenty coroutines wait until all twenty run at once: only possible with a large default.
    assert ray.get([actor.crowd.remote(20, 0) for _ in range(20)], timeout=60) == [True] * 20
    assert ray.get(actor.peak.remote()) == 20


# ----------------------------------------------------------------------------- handles anywhere


def test_handle_passed_to_tasks():
    c = Counter.remote()
    assert sorted(ray.get([call_increment.remote(c, 1) for _ in range(3)])) == [1, 2, 3]
    assert ray.get(c.get.remote()) == 3


def test_handle_passed_to_another_actor():
    c = Counter.remote()
    holder = Holder.remote(c)
    assert ray.get(holder.poke.remote(5)) == 5
    assert ray.get(c.increment.remote()) == 6
    back = ray.get(holder.give_back.remote())
    assert back == c
    assert ray.get(back.increment.remote()) == 7


def test_handle_returned_from_task_and_actor():
    c = Counter.remote(1)
    returned = ray.get(hand_back.remote(c))
    assert isinstance(returned, ray.actor.ActorHandle)
    assert returned == c
    assert ray.get(returned.increment.remote()) == 2
    holder = Holder.remote(c)
    back = ray.get(holder.give_back.remote())
    assert ray.get(back.increment.remote()) == 3


def test_actor_created_in_a_task_and_returned_stays_usable():
    [made] = ray.get(make_counter_and_return.remote(50))
    assert isinstance(made, ray.actor.ActorHandle)
    assert ray.get(made.increment.remote()) == 51


def test_actor_created_by_an_actor_and_returned_stays_usable():
    holder = Holder.remote(Counter.remote())
    inner = ray.get(holder.create_and_return.remote())
    assert ray.get(inner.increment.remote()) == 101


def test_handles_stored_inside_objects():
    a, b = Counter.remote(), Counter.remote(10)
    [from_put] = ray.get(ray.put([a]))
    assert ray.get(from_put.increment.remote()) == 1
    assert ray.get(call_from_container.remote({"a": a, "b": b})) == [2, 11]
    assert ray.get(call_from_container.remote(ray.get(ray.put([a, b])))) == [3, 12]
    nested = ray.get(hand_back.remote({"inner": [a]}))
    assert ray.get(nested["inner"][0].get.remote()) == 3


# ----------------------------------------------------------------------------- named actors


def test_named_actor_lookup():
    c = Counter.options(name="named-lookup").remote(5)
    found = ray.get_actor("named-lookup")
    assert found == c
    assert ray.get(found.increment.remote()) == 6
    assert ray.get(c.get.remote()) == 6
    # Tasks of the same job look in the same namespace.
    assert ray.get(lookup_and_increment.remote("named-lookup")) == 7
    ray.kill(c)


def test_get_actor_without_such_actor_raises_value_error():
    with pytest.raises(ValueError, match="named-missing"):
        ray.get_actor("named-missing")


def test_name_conflict_raises_actor_already_exists():
    c = Counter.options(name="named-conflict").remote()
    ray.get(c.get.remote())
    with pytest.raises(ActorAlreadyExistsError) as info:
        Counter.options(name="named-conflict").remote()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, RayError)
    with pytest.raises(ValueError):
        Counter.options(name="named-conflict").remote()
    # The existing actor is untouched.
    assert ray.get(ray.get_actor("named-conflict").increment.remote()) == 1
    ray.kill(c)


def test_get_if_exists_returns_the_existing_actor():
    first = Counter.options(name="named-gie", get_if_exists=True).remote(1)
    assert ray.get(first.increment.remote()) == 2
    again = Counter.options(name="named-gie", get_if_exists=True).remote(100)
    assert again == first
    assert ray.get(again.increment.remote()) == 3
    ray.kill(first)


def test_name_is_free_again_after_kill():
    c = Counter.options(name="named-reuse").remote(1)
    assert ray.get(c.get.remote()) == 1
    ray.kill(c)

    def gone():
        try:
            ray.get_actor("named-reuse")
            return False
        except ValueError:
            return True

    wait_until(gone, what="the killed actor's name released")
    d = Counter.options(name="named-reuse").remote(2)
    assert ray.get(ray.get_actor("named-reuse").get.remote()) == 2
    ray.kill(d)


def test_named_actor_in_another_namespace():
    ns = ray.get_runtime_context().namespace
    assert ns and ns != "elsewhere"
    c = Counter.options(name="named-ns", namespace="elsewhere").remote(3)
    assert ray.get(c.get.remote()) == 3
    with pytest.raises(ValueError):
        ray.get_actor("named-ns")
    found = ray.get_actor("named-ns", namespace="elsewhere")
    assert ray.get(found.increment.remote()) == 4
    assert ray.get(lookup_and_increment.remote("named-ns", "elsewhere")) == 5
    # Same name in the driver's own namespace is no conflict.
    mine = Counter.options(name="named-ns").remote(0)
    assert ray.get(ray.get_actor("named-ns").get.remote()) == 0
    assert ray.get(ray.get_actor("named-ns", namespace=ns).get.remote()) == 0
    ray.kill(c)
    ray.kill(mine)


def test_detached_named_actor_in_this_driver():
    c = Counter.options(name="named-detached", lifetime="detached").remote(9)
    assert ray.get(ray.get_actor("named-detached").increment.remote()) == 10
    ray.kill(c)
