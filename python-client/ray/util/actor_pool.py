"""ActorPool: spread work over a fixed set of actors, one call per actor at a time."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import ray


class ActorPool:
    """Runs ``fn(actor, value)`` on whichever actor of the pool is idle.

    Results come back in submission order (``get_next``, ``map``) or as they finish
    (``get_next_unordered``, ``map_unordered``). Submissions beyond the idle actors wait in
    the pool until an actor frees up.
    """

    def __init__(self, actors: list):
        self._idle: List[Any] = list(actors)
        # index of each submission -> its future; future -> (index, actor running it)
        self._futures: Dict[int, Any] = {}
        self._running: Dict[Any, Tuple[int, Any]] = {}
        self._waiting: List[Tuple[Callable, Any]] = []
        self._next_index = 0
        self._next_to_return = 0

    def map(self, fn: Callable, values: list):
        """Applies fn to every value; returns an iterator of the results in the order of
        ``values``. Every value is submitted now; only collecting the results is lazy."""
        self._discard_pending()
        for v in values:
            self.submit(fn, v)

        def results():
            while self.has_next():
                yield self.get_next()

        return results()

    def map_unordered(self, fn: Callable, values: list):
        """Applies fn to every value; returns an iterator of the results as they finish."""
        self._discard_pending()
        for v in values:
            self.submit(fn, v)

        def results():
            while self.has_next():
                yield self.get_next_unordered()

        return results()

    def _discard_pending(self) -> None:
        """A new map starts clean: results of earlier submissions are dropped as they finish."""
        while self.has_next():
            try:
                self.get_next_unordered(timeout=0, ignore_if_timedout=True)
            except TimeoutError:
                pass

    def submit(self, fn: Callable, value) -> None:
        """Schedules fn(actor, value) on an idle actor, or queues it until one is free."""
        if not self._idle:
            self._waiting.append((fn, value))
            return
        actor = self._idle.pop()
        future = fn(actor, value)
        key = _key(future)
        self._futures[self._next_index] = future
        self._running[key] = (self._next_index, actor)
        self._next_index += 1

    def has_next(self) -> bool:
        """Whether results (finished or not) are still to be fetched."""
        return bool(self._running)

    def get_next(self, timeout=None, ignore_if_timedout: bool = False):
        """The next result in submission order."""
        if not self.has_next():
            raise StopIteration("No more results to get")
        if self._next_to_return not in self._futures:
            raise ValueError("It is not allowed to call get_next() after get_next_unordered().")
        future = self._futures[self._next_to_return]
        return self._take(future, timeout, ignore_if_timedout)

    def get_next_unordered(self, timeout=None, ignore_if_timedout: bool = False):
        """Whichever result finishes first."""
        if not self.has_next():
            raise StopIteration("No more results to get")
        futures = list(self._futures.values())
        refs = [f[0] if isinstance(f, list) else f for f in futures]
        ready, _ = ray.wait(refs, num_returns=1, timeout=timeout)
        future = futures[refs.index(ready[0])] if ready else futures[0]
        return self._take(future, timeout if not ready else None, ignore_if_timedout, timed_out=not ready)

    def _take(self, future, timeout, ignore_if_timedout: bool, timed_out: bool = False):
        if not timed_out and timeout is not None:
            ref = future[0] if isinstance(future, list) else future
            ready, _ = ray.wait([ref], timeout=timeout)
            timed_out = not ready
        if timed_out and not ignore_if_timedout:
            raise TimeoutError("Timed out waiting for result")
        index, actor = self._running.pop(_key(future))
        del self._futures[index]
        if index == self._next_to_return:
            self._next_to_return += 1
            while self._next_to_return < self._next_index and self._next_to_return not in self._futures:
                self._next_to_return += 1
        if timed_out:
            self._release(actor)
            raise TimeoutError(f"Timed out waiting for result. The task {future} has been ignored.")
        try:
            result = ray.get(future)
        except ray.exceptions.RayActorError:
            # A dead actor leaves the pool; queued work goes to the others.
            raise
        except BaseException:
            self._release(actor)
            raise
        self._release(actor)
        return result

    def _release(self, actor) -> None:
        self._idle.append(actor)
        if self._waiting:
            fn, value = self._waiting.pop(0)
            self.submit(fn, value)

    def has_free(self) -> bool:
        """Whether an actor is idle and nothing is queued."""
        return bool(self._idle) and not self._waiting

    def pop_idle(self):
        """Removes and returns an idle actor, or None."""
        return self._idle.pop() if self.has_free() else None

    def push(self, actor) -> None:
        """Adds an actor to the pool."""
        busy = [a for _, a in self._running.values()]
        if actor in self._idle or actor in busy:
            raise ValueError("Actor already belongs to current ActorPool")
        self._release(actor)


def _key(future):
    return tuple(future) if isinstance(future, list) else future
