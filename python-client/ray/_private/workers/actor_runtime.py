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
        if is_async:
            self._loop = asyncio.new_event_loop()
            ready = threading.Event()
            threading.Thread(target=self._run_loop, args=(ready,), name="ray-actor-asyncio", daemon=True).start()
            ready.wait()
        elif self.max_concurrency > 1:
            self._pool = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="ray-actor")

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

        For an async actor ``call`` may return an awaitable (an async method) or a value.
        """
        if self._loop is not None:

            async def run():
                # Catch everything here: asyncio lets SystemExit (exit_actor) escape a task
                # and stop the loop. The slot is taken inside the try, so that a call
                # cancelled (ray.cancel) while it waits for one is still reported.
                try:
                    async with self._slots:
                        result = call()
                        if inspect.isawaitable(result):
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
