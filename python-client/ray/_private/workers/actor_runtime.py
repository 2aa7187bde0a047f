"""The actor a worker hosts, and how its method calls run.

An ordered actor (max_concurrency 1, no async methods) runs calls one at a time on the
worker's main loop, in the order the node sends them (per caller, submission order). A
threaded actor runs up to max_concurrency calls on a thread pool; an async actor runs them as
coroutines on one asyncio event loop, at most max_concurrency at once.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

_current: Optional[ActorRuntime] = None


def current() -> Optional[ActorRuntime]:
    """The actor this worker hosts, or None."""
    return _current


def install(runtime: ActorRuntime) -> None:
    global _current
    _current = runtime


def display_name(instance, class_name: str) -> str:
    """Log prefix of an actor: its own __repr__ if the class defines one, else the class name."""
    if type(instance).__repr__ is not object.__repr__:
        try:
            return repr(instance)
        except Exception:  # noqa: BLE001 - a broken __repr__ must not break logging
            return class_name
    return class_name


def handle_state(actor_id, class_name, cls, lifetime_id, max_task_retries, is_async, max_concurrency):
    from ray.actor import _HandleState, _method_table, _signature_table

    return _HandleState(
        actor_id=actor_id,
        class_name=class_name,
        methods=_method_table(cls),
        lifetime_id=lifetime_id,
        max_task_retries=max_task_retries,
        is_async=is_async,
        max_concurrency=max_concurrency,
        signatures=_signature_table(cls),
    )


def creating_handle_state(creation, cls):
    """As ActorRuntime.handle_state, while the actor's __init__ runs (from its creation spec)."""
    from ray._private import ids

    c = creation.actor_creation
    return handle_state(
        c.actor_id,
        c.class_name,
        cls,
        ids.return_id(creation.task_id, 1),
        c.max_task_retries,
        c.is_async,
        c.max_concurrency,
    )


class ActorRuntime:
    def __init__(self, instance, class_name: str, max_concurrency: int, is_async: bool):
        self.instance = instance
        self.class_name = class_name
        self.name = display_name(instance, class_name)
        self.is_async = is_async
        self.max_concurrency = max(1, max_concurrency)
        self._pool: Optional[ThreadPoolExecutor] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._slots: Optional[asyncio.Semaphore] = None
        # Set by describe() once the actor is created.
        self.actor_id = b""
        self.actor_name = ""
        self.resources: dict = {}
        self.reconstructed = False
        self.function_prefix = class_name
        self.lifetime_id = b""
        self.max_task_retries = 0
        if is_async:
            self._loop = asyncio.new_event_loop()
            ready = threading.Event()
            threading.Thread(target=self._run_loop, args=(ready,), name="ray-actor-asyncio", daemon=True).start()
            ready.wait()
        elif self.max_concurrency > 1:
            self._pool = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="ray-actor")

    def describe(self, creation) -> None:
        """What ray.get_runtime_context() tells about the actor, from its creation TaskSpec."""
        from ray._private import ids

        c = creation.actor_creation
        self.actor_id = c.actor_id
        self.actor_name = c.name
        self.resources = dict(c.lifetime_resources)
        # The node counts the creation's attempts: a restarted actor is created again.
        self.reconstructed = creation.attempt > 0
        self.function_prefix = f"{creation.function.module_name}.{creation.function.function_name}"
        self.lifetime_id = ids.return_id(creation.task_id, 1)
        self.max_task_retries = c.max_task_retries

    def handle_state(self):
        """The state of a handle to this actor (ray.get_runtime_context().current_actor)."""
        return handle_state(
            self.actor_id,
            self.class_name,
            type(self.instance),
            self.lifetime_id,
            self.max_task_retries,
            self.is_async,
            self.max_concurrency,
        )

    @property
    def concurrent(self) -> bool:
        return self.is_async or self.max_concurrency > 1

    def _run_loop(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def make_slots():
            self._slots = asyncio.Semaphore(self.max_concurrency)

        self._loop.run_until_complete(make_slots())
        ready.set()
        self._loop.run_forever()

    def current_task(self):
        """(loop, asyncio task) of the call running now on this actor's event loop."""
        return self._loop, asyncio.current_task(self._loop)

    def refresh_name(self) -> None:
        self.name = display_name(self.instance, self.class_name)

    def submit(self, call: Callable[[], object], done: Callable[[object, Optional[BaseException]], None]) -> None:
        """Runs ``call`` concurrently with other calls; ``done(result, error)`` reports it.

        For an async actor ``call`` may return a coroutine (an async method) or a value.
        """
        if self._loop is not None:

            async def run():
                # Catch everything here: asyncio lets SystemExit (exit_actor) escape a task
                # and stop the loop. The slot is taken inside the try, so that a call
                # cancelled (ray.cancel) while it waits for one is still reported.
                try:
                    async with self._slots:
                        result = call()
                        # Only an async method's coroutine is awaited: a plain method's value
                        # is returned as is (an ObjectRef, awaitable too, stays a ref, as in Ray).
                        if inspect.iscoroutine(result):
                            result = await result
                except BaseException as e:  # noqa: BLE001 - reported as the call's error
                    done(None, e)
                    return
                done(result, None)

            asyncio.run_coroutine_threadsafe(run(), self._loop)
        else:

            def run_in_thread():
                try:
                    result = call()
                except BaseException as e:  # noqa: BLE001 - reported as the call's error
                    done(None, e)
                    return
                done(result, None)

            self._pool.submit(run_in_thread)
