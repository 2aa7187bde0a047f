"""Actor classes and actor lifetimes as Ray 2.60 has them where Ray's own tests look (issue 10).

Each behaviour here was also observed on real Ray 2.60 with the same code (see the issue's
note in the commit): class attributes on the decorated class, ActorClassInheritanceException,
@ray.remote() rejected, TypeError at .remote() for wrong method arguments, weak handles from
ray.get_actor, atexit handlers on exit_actor/__ray_terminate__, calls queued behind
exit_actor failing, and async actors' plain methods returning refs.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from helpers import wait_until

import ray
from ray.actor import ActorClassInheritanceException
from ray.exceptions import RayActorError
from ray.util.queue import Queue


class Grandparent:
    GRANDPARENT = 2

    @staticmethod
    def grandparent_static():
        return 1


class Parent(Grandparent):
    PARENT = 6


@ray.remote
class Configured(Parent):
    LIMIT = 3

    @classmethod
    def make_limit(cls):
        return cls.LIMIT * 2

    @staticmethod
    def helper(x):
        return x + 1

    def limits(self):
        # Inside the actor the decorated class is what the name refers to, as in Ray.
        return (
            Configured.LIMIT,
            Configured.PARENT,
            Configured.GRANDPARENT,
            Configured.make_limit(),
            Configured.helper(1),
            Configured.grandparent_static(),
        )

    def add(self, a, b=2, *, scale=1):
        return (a + b) * scale


def test_class_and_static_attributes_and_classmethods_are_on_the_actor_class(ray_cluster):
    assert isinstance(Configured, ray.actor.ActorClass)
    assert Configured.LIMIT == 3
    assert Configured.PARENT == 6 and Configured.GRANDPARENT == 2
    assert Configured.make_limit() == 6
    assert Configured.helper(4) == 5
    assert Configured.grandparent_static() == 1
    actor = Configured.remote()
    assert ray.get(actor.limits.remote(), timeout=60) == (3, 6, 2, 6, 2, 1)


def test_actor_class_cannot_be_instantiated_or_subclassed(ray_cluster):
    with pytest.raises(TypeError, match="Actors cannot be instantiated directly"):
        Configured()
    with pytest.raises(ActorClassInheritanceException) as info:

        class Derived(Configured):
            pass

    assert isinstance(info.value, TypeError)
    assert "Inheriting from actor classes is not currently supported" in str(info.value)
    assert "'Derived'" in str(info.value) and "'Configured'" in str(info.value)


def test_remote_with_empty_parentheses_is_rejected(ray_cluster):
    with pytest.raises(AssertionError, match="The @ray.remote decorator must be applied either with no arguments"):

        @ray.remote()
        class Actor:
            pass

    with pytest.raises(AssertionError, match="must be applied either with no arguments"):

        @ray.remote()
        def f():
            pass

    with pytest.raises(ValueError):

        @ray.remote(invalid_kwarg=0)
        class Actor2:
            pass


def test_wrong_arguments_to_an_actor_method_raise_type_error_at_remote(ray_cluster):
    actor = Configured.remote()
    with pytest.raises(TypeError, match="missing a required argument: 'a'"):
        actor.add.remote()
    with pytest.raises(TypeError, match="multiple values for argument 'a'"):
        actor.add.remote(1, a=2)
    with pytest.raises(TypeError, match="too many positional arguments"):
        actor.add.remote(1, 2, 3)
    with pytest.raises(TypeError, match="got an unexpected keyword argument 'c'"):
        actor.add.remote(1, c=3)
    assert ray.get(actor.add.remote(1), timeout=60) == 3
    assert ray.get(actor.add.remote(1, 1, scale=2), timeout=60) == 4
    assert ray.get(actor.add.options(num_returns=1).remote(a=2, b=3), timeout=60) == 5

    # A handle that travelled (pickled into a task) checks the same way.
    @ray.remote
    def misuse(handle):
        try:
            handle.add.remote()
        except TypeError as e:
            return str(e)
        return "accepted"

    assert ray.get(misuse.remote(actor), timeout=60) == "missing a required argument: 'a'"


@ray.remote
class Named:
    def pid(self):
        return os.getpid()


def test_a_handle_from_get_actor_does_not_keep_the_actor_alive(ray_cluster):
    original = Named.options(name="weakly-held").remote()
    ray.get(original.pid.remote(), timeout=60)
    looked_up = ray.get_actor("weakly-held")
    assert ray.get(looked_up.pid.remote(), timeout=60)
    del original
    # The actor goes with its only strong handle; its name is released.
    wait_until(lambda: _lookup("weakly-held") is None, what="the named actor to die")
    with pytest.raises(RayActorError):
        ray.get(looked_up.pid.remote(), timeout=60)


def test_a_named_actor_lives_while_its_original_handle_does(ray_cluster):
    original = Named.options(name="strongly-held").remote()
    pid = ray.get(original.pid.remote(), timeout=60)
    for _ in range(3):
        handle = ray.get_actor("strongly-held")
        assert ray.get(handle.pid.remote(), timeout=60) == pid
        del handle
    assert ray.get(original.pid.remote(), timeout=60) == pid


def _lookup(name):
    try:
        return ray.get_actor(name)
    except ValueError:
        return None


@ray.remote
class Exiting:
    def __init__(self, marker):
        import atexit

        self.marker = marker
        atexit.register(self._on_exit)

    def _on_exit(self):
        with open(self.marker, "w") as f:
            f.write("ran")

    def ping(self):
        return "pong"

    def leave(self):
        ray.actor.exit_actor()


@pytest.mark.parametrize("ending", ["leave", "__ray_terminate__"])
def test_atexit_handlers_run_when_the_actor_exits(ray_cluster, tmp_path, ending):
    """exit_actor() (called by the method ``leave``) and __ray_terminate__ both run them."""
    marker = tmp_path / f"atexit-{ending}"
    actor = Exiting.remote(str(marker))
    assert ray.get(actor.ping.remote(), timeout=60) == "pong"
    with pytest.raises(RayActorError):
        ray.get(getattr(actor, ending).remote(), timeout=60)
    wait_until(marker.exists, what="the atexit handler's file")
    assert marker.read_text() == "ran"


def test_calls_queued_behind_exit_actor_fail(ray_cluster, tmp_path):
    for attempt in range(5):
        actor = Exiting.remote(str(tmp_path / f"m{attempt}"))
        ray.get(actor.ping.remote(), timeout=60)
        leaving = actor.leave.remote()
        behind = [actor.ping.remote() for _ in range(5)]
        with pytest.raises(RayActorError):
            ray.get(leaving, timeout=60)
        for ref in behind:
            with pytest.raises(RayActorError):
                ray.get(ref, timeout=60)


@ray.remote
class AsyncHolder:
    def __init__(self):
        self.ref = None

    def make_ref(self):
        # A plain method of an async actor: its ObjectRef return is handed over as is.
        return ray.put("inner value")

    async def make_ref_async(self):
        await asyncio.sleep(0)
        return ray.put("async inner value")

    async def ready(self):
        return True


def test_a_plain_method_of_an_async_actor_returns_its_object_ref(ray_cluster):
    actor = AsyncHolder.remote()
    assert ray.get(actor.ready.remote(), timeout=60)
    ref = ray.get(actor.make_ref.remote(), timeout=60)
    assert isinstance(ref, ray.ObjectRef)
    assert ray.get(ref, timeout=60) == "inner value"
    ref = ray.get(actor.make_ref_async.remote(), timeout=60)
    assert isinstance(ref, ray.ObjectRef)
    assert ray.get(ref, timeout=60) == "async inner value"


def test_a_queue_of_object_refs_hands_back_refs(ray_cluster):
    queue = Queue()
    refs = [ray.put(i) for i in range(4)]
    # Refs nested in the batch stay refs; get_nowait is a plain method of the queue's async
    # actor, so the ref it returns reaches the caller as a ref (as in Ray).
    queue.put_nowait_batch(refs)
    first = queue.get_nowait()
    assert isinstance(first, ray.ObjectRef) and ray.get(first, timeout=60) == 0
    rest = queue.get_nowait_batch(2)
    assert all(isinstance(r, ray.ObjectRef) for r in rest)
    last = queue.get(timeout=60)
    assert isinstance(last, ray.ObjectRef)
    assert ray.get(rest + [last], timeout=60) == [1, 2, 3]
    # As in Ray, a ref given to put() itself is an argument, resolved to its value.
    queue.put(ray.put("value"))
    assert queue.get(timeout=60) == "value"
