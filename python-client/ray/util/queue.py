"""A FIFO queue shared between drivers, tasks and actors, kept by an async actor."""

from __future__ import annotations

import asyncio
import queue as _stdlib_queue
from typing import Any, Dict, Iterable, List, Optional

import ray


class Empty(_stdlib_queue.Empty):
    pass


class Full(_stdlib_queue.Full):
    pass


class Queue:
    """Like ``queue.Queue``, but usable from any process of the cluster.

    The items live in an actor; the Queue object itself is small and can be passed to tasks
    and actors. ``maxsize <= 0`` means unbounded.
    """

    def __init__(self, maxsize: int = 0, actor_options: Optional[Dict] = None) -> None:
        self.maxsize = maxsize
        actor_class = ray.remote(_QueueActor)
        if actor_options:
            self.actor = actor_class.options(**actor_options).remote(maxsize)
        else:
            self.actor = actor_class.remote(maxsize)

    def __len__(self) -> int:
        return self.size()

    def size(self) -> int:
        return ray.get(self.actor.qsize.remote())

    def qsize(self) -> int:
        return self.size()

    def empty(self) -> bool:
        return ray.get(self.actor.empty.remote())

    def full(self) -> bool:
        return ray.get(self.actor.full.remote())

    def put(self, item: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        """Adds an item; waits (up to timeout) for room if block, else raises Full at once."""
        if not block:
            self.put_nowait(item)
            return
        _check_timeout(timeout)
        ray.get(self.actor.put.remote(item, timeout))

    async def put_async(self, item: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        if not block:
            await self.actor.put_nowait.remote(item)
            return
        _check_timeout(timeout)
        await self.actor.put.remote(item, timeout)

    def get(self, block: bool = True, timeout: Optional[float] = None) -> Any:
        """Removes and returns the oldest item; waits (up to timeout) if block, else raises Empty."""
        if not block:
            return self.get_nowait()
        _check_timeout(timeout)
        return ray.get(self.actor.get.remote(timeout))

    async def get_async(self, block: bool = True, timeout: Optional[float] = None) -> Any:
        if not block:
            return await self.actor.get_nowait.remote()
        _check_timeout(timeout)
        return await self.actor.get.remote(timeout)

    def put_nowait(self, item: Any) -> None:
        ray.get(self.actor.put_nowait.remote(item))

    def put_nowait_batch(self, items: Iterable) -> None:
        """Adds all items at once, or none (Full) if they do not all fit."""
        if not isinstance(items, Iterable):
            raise TypeError("Argument 'items' must be an Iterable")
        ray.get(self.actor.put_nowait_batch.remote(list(items)))

    def get_nowait(self) -> Any:
        return ray.get(self.actor.get_nowait.remote())

    def get_nowait_batch(self, num_items: int) -> List[Any]:
        """Removes and returns num_items items, or none (Empty) if there are fewer."""
        if not isinstance(num_items, int):
            raise TypeError("Argument 'num_items' must be an int")
        if num_items < 0:
            raise ValueError("'num_items' must be nonnegative")
        return ray.get(self.actor.get_nowait_batch.remote(num_items))

    def shutdown(self, force: bool = False, grace_period_s: int = 5) -> None:
        """Stops the queue's actor: at once if force, else after its pending calls."""
        if self.actor is None:
            return
        if force:
            ray.kill(self.actor, no_restart=True)
        else:
            done = self.actor.__ray_terminate__.remote()
            finished, _ = ray.wait([done], timeout=grace_period_s)
            if not finished:
                ray.kill(self.actor, no_restart=True)
        self.actor = None


def _check_timeout(timeout) -> None:
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number")


class _QueueActor:
    """Holds the items. Async, so that blocked puts and gets wait without holding a thread."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self.queue = asyncio.Queue(maxsize)

    def qsize(self) -> int:
        return self.queue.qsize()

    def empty(self) -> bool:
        return self.queue.empty()

    def full(self) -> bool:
        return self.queue.full()

    async def put(self, item, timeout=None):
        try:
            await asyncio.wait_for(self.queue.put(item), timeout)
        except asyncio.TimeoutError:
            raise Full from None

    async def get(self, timeout=None):
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except asyncio.TimeoutError:
            raise Empty from None

    def put_nowait(self, item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            raise Full from None

    def put_nowait_batch(self, items) -> None:
        if self.maxsize > 0 and len(items) + self.queue.qsize() > self.maxsize:
            raise Full(
                f"Cannot add {len(items)} items to queue of size {self.queue.qsize()} and maxsize {self.maxsize}."
            )
        for item in items:
            self.queue.put_nowait(item)

    def get_nowait(self):
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            raise Empty from None

    def get_nowait_batch(self, num_items: int):
        if num_items > self.queue.qsize():
            raise Empty(f"Cannot get {num_items} items from queue of size {self.queue.qsize()}.")
        return [self.queue.get_nowait() for _ in range(num_items)]
