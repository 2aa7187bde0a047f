"""Small waiting primitives shared by the client's threads."""

from __future__ import annotations

import _thread
import queue
from typing import Iterator, Optional


class Pulse:
    """A wake-up for one waiter at a time: ``pulse()`` lets the current or next ``wait``
    through; pulses while nobody waits collapse into one.

    Safe where a lock-based primitive is not: ``pulse()`` takes no lock (a finalizer may call it
    while its thread holds any lock), and ``wait`` is one acquire of a primitive lock, atomic and
    interruptible (a Ctrl-C inside ``threading.Event.wait`` can surface as "release unlocked
    lock" instead of KeyboardInterrupt).
    """

    __slots__ = ("_lock",)

    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._lock.acquire()

    def pulse(self) -> None:
        try:
            self._lock.release()
        except RuntimeError:
            pass  # already pulsed

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits for a pulse (for ever when ``timeout`` is None); True if one came."""
        return self._lock.acquire(timeout=-1 if timeout is None else max(0.0, timeout))


def until_none(q: queue.SimpleQueue) -> Iterator:
    """The items put on ``q`` until a None: a gRPC request stream fed from other threads."""
    while True:
        item = q.get()
        if item is None:
            return
        yield item
