"""ray.cancel inside a worker: which task runs where, and how to stop it.

The node sends a ``CancelTask`` down the worker's channel for a task it believes runs here; a
daemon thread (jep_worker) hands it to :data:`registry`. How a running task is stopped
depends on how it runs, as in Ray:

- a plain task (INTERRUPT): KeyboardInterrupt is raised in the thread running it
  (``PyThreadState_SetAsyncExc``; it fires at the next bytecode the thread runs, so a task
  blocked in a long C call or a Java call notices when that call returns);
- a call of an async actor (ASYNC): its asyncio task is cancelled (CancelledError at its
  current ``await``);
- a call of an ordered or threaded actor (FLAG): nothing is interrupted; the call can poll
  ``ray.get_runtime_context().is_canceled()``.

Whichever way, a task cancelled while registered is reported as cancelled
(TaskCancelledError), even if it went on to return a value.

Invariants: entries are added and removed only by the thread (or coroutine) running the task
and looked at by the cancel thread, all under one lock; a KeyboardInterrupt is requested at
most once per entry and only while its entry exists, and :meth:`CancelRegistry.finish`
withdraws one that was requested but not delivered, so an interrupt never escapes into the
worker's own code after the task. A cancel for a task id with no entry (it has not started
here yet, or it has already finished) is remembered, and a task that starts with a
remembered id starts cancelled: the node may send the cancel before the worker took the task.
"""

from __future__ import annotations

import collections
import ctypes
import threading
from typing import Dict, Optional

INTERRUPT = 0
ASYNC = 1
FLAG = 2

# Remembered cancels of task ids not running here: task ids are never reused, so a stale one
# is harmless; the bound only keeps memory in check.
EARLY_LIMIT = 1024


class _Entry:
    __slots__ = ("mode", "ident", "loop", "task", "cancelled", "interrupt_pending")

    def __init__(self, mode: int, ident: int, loop=None, task=None):
        self.mode = mode
        self.ident = ident
        self.loop = loop
        self.task = task
        self.cancelled = False
        self.interrupt_pending = False


class CancelRegistry:
    def __init__(self):
        self._lock = threading.Lock()
        self._running: Dict[bytes, _Entry] = {}
        self._early: collections.OrderedDict[bytes, None] = collections.OrderedDict()

    def start(self, task_id: bytes, mode: int, loop=None, task=None) -> bool:
        """Registers the task as running on the calling thread (or, ASYNC, as asyncio ``task``
        on ``loop``). Returns True if it was cancelled before it started: the caller must
        not run it, and reports it cancelled."""
        entry = _Entry(mode, threading.get_ident(), loop, task)
        with self._lock:
            self._running[task_id] = entry
            if task_id in self._early:
                del self._early[task_id]
                entry.cancelled = True
        return entry.cancelled

    def finish(self, task_id: bytes) -> bool:
        """Unregisters the task; returns whether it was cancelled while registered.

        Called by the thread that ran it. A KeyboardInterrupt requested but not yet raised is
        withdrawn here; one raised inside this call reaches the caller, which must treat it as
        a cancel and call finish again (a second call finds no entry and returns False).
        """
        with self._lock:
            entry = self._running.pop(task_id, None)
            if entry is None:
                return False
            if entry.interrupt_pending:
                _set_async_exc(entry.ident, None)
                entry.interrupt_pending = False
            return entry.cancelled

    def cancel(self, task_id: bytes) -> None:
        """Cancels the task if it runs here; otherwise remembers the id (see module doc)."""
        with self._lock:
            entry = self._running.get(task_id)
            if entry is None:
                self._early[task_id] = None
                while len(self._early) > EARLY_LIMIT:
                    self._early.popitem(last=False)
                return
            if entry.cancelled:
                return
            entry.cancelled = True
            if entry.mode == INTERRUPT:
                entry.interrupt_pending = _set_async_exc(entry.ident, KeyboardInterrupt)
            elif entry.mode == ASYNC and entry.task is not None:
                entry.loop.call_soon_threadsafe(entry.task.cancel)

    def is_cancelled(self, task_id: Optional[bytes]) -> bool:
        with self._lock:
            entry = self._running.get(task_id) if task_id else None
            return entry is not None and entry.cancelled


def _set_async_exc(ident: int, exc) -> bool:
    """Requests (exc a class) or withdraws (exc None) an exception in thread ``ident``."""
    arg = ctypes.py_object(exc) if exc is not None else None
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), arg) == 1


registry = CancelRegistry()


def serve(next_cancel, parse) -> None:
    """The cancel thread's loop: ``next_cancel()`` blocks for the next request (None when
    the worker stops); ``parse`` turns it into a CancelTask."""
    while True:
        try:
            buffer = next_cancel()
        except Exception:  # noqa: BLE001 - the link is closing; nothing more will come
            return
        if buffer is None:
            return
        registry.cancel(parse(buffer).task_id)
