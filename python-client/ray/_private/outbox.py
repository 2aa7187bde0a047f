"""A client's changes to the cluster, sent in order on its session stream.

Task submissions, small puts and reference changes (an ObjectRef appears or dies, a view of
an arena object is taken or dropped) are queued here and cut into ``ClientOps`` messages with
increasing ``seq``. One pump sends them, in order: the gRPC request stream of a driver's
``AttachDriver`` call, or the worker JVM's channel. A read that must see this client's
changes (``ray.get`` of a task just submitted) calls :meth:`Outbox.fence` and sends the
returned seq as ``after_seq``; the node serves it once it has applied that message. So
submissions cost no round trip, batch themselves, and stay ordered with reads.

Reference changes arrive from ObjectRef finalizers, which may run on any thread at any
moment (even inside this module), so they are appended to a deque without a lock and only
drained under it.

The outbox also keeps this process's own count of references per object; when the last one
dies, ``on_released(object_id)`` lets the session drop what it cached for the object.
"""

from __future__ import annotations

import collections
import threading
from typing import Callable, Dict, List

from ray._private.waits import Pulse
from ray.rpc import common_pb2 as common

_REF = 0  # a reference the node counts
_LOCAL_REF = 1  # a reference the node already counted (a put or a task return): local only
_PIN_ACQUIRED = 2
_PIN_RELEASED = 3

FLUSH_INTERVAL_S = 0.02
# Direct-call registrations wait this long for company: nobody waits on them (the caller
# gets its answer from the worker), so a run of calls becomes one message for the node.
DIRECT_FLUSH_S = 0.002
# A pump with nothing to send sleeps until a change wakes it (this is only a safety net): an
# idle process, of which a node may have dozens, costs no CPU.
IDLE_WAIT_S = 1.0


class Outbox:
    def __init__(self):
        # Told when this process's last reference to an object dies (set by the session).
        self.on_released: Callable[[bytes], None] = lambda object_id: None
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._actions: List[common.ClientAction] = []
        self._events: collections.deque = collections.deque()
        self._ready: collections.deque = collections.deque()
        self._counts: Dict[bytes, int] = {}
        self._seq = 0
        self._closed = False
        # Whether a pending action must go out at once (all but direct-call registrations).
        self._urgent = False
        # Held while taking messages and sending them, so that two senders (the pump and a
        # caller draining before a task ends) never reorder messages.
        self.send_lock = threading.Lock()
        # The pump sleeps on _wake while idle; producers pulse it then, without a lock (a
        # finalizer may run anywhere, even while this thread holds _lock).
        self._idle = False
        self._wake = Pulse()

    # ------------------------------------------------------------------ producers

    def submit(self, spec: common.TaskSpec) -> None:
        with self._lock:
            self._actions.append(common.ClientAction(submit=spec))
            self._urgent = True
            self._notify()

    def register_direct(self, spec: common.TaskSpec) -> int:
        """Queues a direct call's registration; returns the seq of the message that will hold
        it (the worker's reports about the call wait for it). It goes out with the next
        message, at the latest after DIRECT_FLUSH_S."""
        with self._lock:
            self._actions.append(common.ClientAction(submit=spec))
            if self._idle:
                self._nudge()
            return self._seq + 1

    def direct_call_failed(self, task_id: bytes, reason: str) -> None:
        with self._lock:
            failed = common.DirectCallFailed(task_id=task_id, reason=reason)
            self._actions.append(common.ClientAction(direct_call_failed=failed))
            self._urgent = True
            self._notify()

    def direct_finished(self, worker_id: bytes, finished: common.TaskFinished) -> None:
        """Forwards the end of a direct call its worker left to us (TaskFinished.caller_reports);
        like a registration, it goes with the next message, at the latest after DIRECT_FLUSH_S."""
        with self._lock:
            forwarded = common.DirectFinished(worker_id=worker_id, finished=finished)
            self._actions.append(common.ClientAction(direct_finished=forwarded))
            if self._idle:
                self._nudge()

    def return_lease(self, lease_id: bytes) -> None:
        """Gives back a leased worker, after the registrations of the tasks pushed to it."""
        with self._lock:
            self._actions.append(common.ClientAction(return_lease=common.ReturnLease(lease_id=lease_id)))
            self._urgent = True
            self._notify()

    def put(self, value: common.ObjectValue) -> None:
        """A small value this process put; the node stores it when it applies the message."""
        with self._lock:
            self._actions.append(common.ClientAction(put=value))
            self._urgent = True
            self._notify()

    def action(self, action: common.ClientAction) -> None:
        """Any other change, in order with the rest (generator items, dropped generators)."""
        with self._lock:
            self._actions.append(action)
            self._urgent = True
            self._notify()

    def kill_actor(self, actor_id: bytes, no_restart: bool) -> None:
        with self._lock:
            kill = common.KillActor(actor_id=actor_id, no_restart=no_restart)
            self._actions.append(common.ClientAction(kill_actor=kill))
            self._urgent = True
            self._notify()

    def cancel_task(self, task_id: bytes, force: bool, recursive: bool) -> None:
        with self._lock:
            cancel = common.CancelTask(task_id=task_id, force=force, recursive=recursive)
            self._actions.append(common.ClientAction(cancel_task=cancel))
            self._urgent = True
            self._notify()

    def add_ref(self, object_id: bytes, counted: bool = False) -> None:
        self._event(object_id, _LOCAL_REF if counted else _REF, 1)

    def remove_ref(self, object_id: bytes) -> None:
        self._event(object_id, _REF, -1)

    def acquire_pin(self, object_id: bytes) -> None:
        self._event(object_id, _PIN_ACQUIRED, 1)

    def release_pin(self, object_id: bytes) -> None:
        self._event(object_id, _PIN_RELEASED, 1)

    def _event(self, object_id: bytes, kind: int, amount: int) -> None:
        """Queues a reference event (no lock: see the module doc) and wakes an idle pump."""
        self._events.append((object_id, kind, amount))
        if self._idle:
            self._nudge()

    def holds(self, object_id: bytes) -> bool:
        """Whether this process had a live reference at the last cut (a hint, not a lock)."""
        return object_id in self._counts

    # ------------------------------------------------------------------ readers

    def fence(self) -> int:
        """Cuts pending changes into a message; returns the seq a read must wait for."""
        with self._lock:
            self._cut()
            return self._seq

    def take_for_read(self):
        """Cuts pending changes and takes every unsent message, for a read to carry.

        Returns (seq to fence on, messages). Carrying them in the read saves a message and the
        hand-off to the pump's thread on the critical path of ``ray.get(f.remote())``. If the
        read fails, the caller gives them back with :meth:`put_back`; the node drops a message
        it gets twice, so giving back one that did arrive is harmless.
        """
        with self._lock:
            self._cut()
            out = list(self._ready)
            self._ready.clear()
            return self._seq, out

    def put_back(self, messages: List[common.ClientOps]) -> None:
        """Messages a failed read carried go out with the pump after all."""
        if not messages:
            return
        with self._lock:
            self._ready.extendleft(reversed(messages))
            self._work.notify_all()
            self._nudge()

    # ------------------------------------------------------------------ pump side

    def wait_for_work(self, timeout: float = FLUSH_INTERVAL_S) -> bool:
        """Blocks until something may need sending (or the interval passes); False once closed."""
        with self._lock:
            if not (self._urgent or self._ready or self._closed):
                if self._actions or self._events:
                    self._work.wait(DIRECT_FLUSH_S if self._actions else timeout)
                else:
                    self._idle = True
        if self._idle:
            # Nothing pending: sleep until a producer nudges. Events are checked again after
            # the flag is up, so one appended meanwhile is not missed.
            if not self._events:
                self._wake.wait(IDLE_WAIT_S)
            self._idle = False
            with self._lock:
                # What woke us waits for company, as above (unless it is urgent).
                if (self._actions or self._events) and not (self._urgent or self._ready or self._closed):
                    self._work.wait(DIRECT_FLUSH_S if self._actions else timeout)
        with self._lock:
            return not (self._closed and not self._actions and not self._ready and not self._events)

    def take(self) -> List[common.ClientOps]:
        """Cuts what is pending and returns every message not sent yet, oldest first.

        Callers hold ``send_lock`` from take() until the messages are sent.
        """
        with self._lock:
            self._cut()
            out = list(self._ready)
            self._ready.clear()
            return out

    def close(self) -> None:
        """No more changes; the pump sends what is left and stops."""
        with self._lock:
            self._cut()
            self._closed = True
            self._work.notify_all()
            self._nudge()

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ internals

    def _notify(self) -> None:
        """Wakes the pump for an action (caller holds _lock)."""
        self._work.notify()
        if self._idle:
            self._nudge()

    def _nudge(self) -> None:
        """Wakes the idle pump; safe anywhere (no lock taken)."""
        self._wake.pulse()

    def _cut(self) -> None:
        """Turns pending actions and drained events into one message (caller holds _lock)."""
        net: Dict[bytes, List[int]] = {}
        events = self._events
        while True:
            try:
                object_id, kind, amount = events.popleft()
            except IndexError:
                break
            entry = net.get(object_id)
            if entry is None:
                entry = net[object_id] = [0, 0, 0, 0]
            entry[kind] += amount
        released = []
        deltas = []
        for object_id, (ref, local, acquired, freed) in net.items():
            change = ref + local
            if change:
                count = self._counts.get(object_id, 0) + change
                if count > 0:
                    self._counts[object_id] = count
                else:
                    self._counts.pop(object_id, None)
                    released.append(object_id)
            if ref or acquired or freed:
                deltas.append(
                    common.ReferenceDelta(
                        object_id=object_id, ref_delta=ref, pins_acquired=acquired, pins_released=freed
                    )
                )
        if self._actions or deltas:
            self._urgent = False
            self._seq += 1
            self._ready.append(common.ClientOps(seq=self._seq, actions=self._actions, references=deltas))
            self._actions = []
            self._work.notify_all()
            if self._idle:
                self._nudge()
        for object_id in released:
            self.on_released(object_id)


def stream_messages(outbox: Outbox, first, wrap: Callable[[common.ClientOps], object]):
    """The request iterator of a driver's session stream: ``first``, then its ops until closed.

    gRPC consumes it from one thread, which is the only taker, so order is kept.
    """
    yield first
    while outbox.wait_for_work():
        for ops in outbox.take():
            yield wrap(ops)
    for ops in outbox.take():
        yield wrap(ops)


class ThreadPump:
    """Sends a worker's ops through a callable (the worker JVM's channel), in order."""

    def __init__(self, outbox: Outbox, send: Callable[[common.ClientOps], None]):
        self._outbox = outbox
        self._send = send
        self._thread = threading.Thread(target=self._run, name="ray-ops", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self._outbox.wait_for_work():
            self.drain()

    def drain(self) -> int:
        """Sends everything pending now, from the calling thread; returns how many messages."""
        with self._outbox.send_lock:
            messages = self._outbox.take()
            for ops in messages:
                self._send(ops)
            return len(messages)

    def stop(self) -> None:
        self._outbox.close()
        self.drain()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)
