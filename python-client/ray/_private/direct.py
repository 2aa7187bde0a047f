"""Direct calls from a driver: actor calls pushed to the actor's worker, and plain tasks
pushed to a worker leased from the node; the worker answers the caller.

See docs/architecture.md, "Ownership and direct calls". The node still learns everything
about a call: its registration travels on this process's ordered change stream (pending
returns, argument references, the call running on the actor), and its end on the worker's
channel. Only the execution and the answer skip the node, which is what one call at a time
waits for.

Ordering: a caller's calls to an actor take one path at a time. They go through the node
until the node confirms (``GetActorAddress``, fenced on this process's changes) that the actor
is alive and none of this caller's calls to it is unfinished there; from then on they are
pushed, in order, on one channel. A failed push sends the caller back to the node path; the
node, which registered the call as running on that worker, retries or fails it when the worker
dies, and ``ray.get`` then reads the outcome from the node.

Leases (plain tasks): a task goes to a leased worker only while that worker has nothing in
flight; otherwise it goes through the node, which spreads a batch over every CPU. A lease is
asked for (``LeaseWorker``) when none is held for the task's shape (resources, runtime_env)
and nothing else is being pushed; the node grants one only at once, from an idle worker, with
nothing waiting in its queue. A lease idle for LEASE_IDLE_S is given back on this process's
change stream (after the registrations of the tasks it ran), so a burst that follows finds
its CPU free again.
"""

from __future__ import annotations

import _thread
import itertools
import queue
import threading
import time
from typing import Callable, Dict, List, Optional

import grpc

from ray._private import auth, ids
from ray._private.transport import _CHANNEL_OPTIONS
from ray._private.waits import Pulse, until_none
from ray.rpc import common_pb2 as common
from ray.rpc import core_worker_pb2 as core
from ray.rpc import node_manager_pb2 as nm

PUSH_STREAM_METHOD = "/ray.rpc.CoreWorkerService/PushStream"
# After the node said "not yet" (actor not alive, or calls of ours still unfinished), how long
# calls keep the node path before asking again.
RETRY_ADDRESS_S = 0.05
# A lease with nothing in flight for this long goes back to the node.
LEASE_IDLE_S = 0.01


class StreamEnded(Exception):
    """A push stream ended without an error: its worker stopped."""


class _PushStream:
    """This process's stream to one worker (``CoreWorkerService/PushStream``).

    ``push`` queues a request for gRPC's sending thread and returns at once; a reader thread
    matches each reply to its push by call_id and runs the push's callback. When the stream
    ends, every push not answered gets the failure: its worker is gone (or stopped taking
    calls), and the node, which registered those calls, retries or fails them.

    The reader thread also opens the channel and the call (~2 ms of CPU, measured): a caller
    reaching 40 actors for the first time does not wait for 40 connections in a row; pushes
    made meanwhile wait in the queue.
    """

    def __init__(self, address: str, on_end):
        self.address = address
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._callbacks: Dict[int, Callable] = {}
        self._ids = itertools.count(1)
        self._failure: Optional[Exception] = None
        self._on_end = on_end
        self._channel: Optional[grpc.Channel] = None
        self._call = None
        self._closing = False
        threading.Thread(target=self._read, name="ray-push-stream", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self._failure is None

    def push(self, request: core.PushTaskRequest, callback: Callable) -> None:
        """Sends ``request``; ``callback(reply, failure)`` runs on the reader thread (or here, if
        the stream has ended already)."""
        with self._lock:
            failure = self._failure
            if failure is None:
                request.call_id = call_id = next(self._ids)
                self._callbacks[call_id] = callback
        if failure is not None:
            callback(None, failure)
            return
        self._requests.put(request.SerializeToString())

    def close(self) -> None:
        with self._lock:
            self._closing = True
            call = self._call
        self._requests.put(None)
        if call is not None:
            call.cancel()

    def _open(self):
        self._channel = auth.channel(self.address, _CHANNEL_OPTIONS)
        method = self._channel.stream_stream(
            PUSH_STREAM_METHOD, request_serializer=_identity, response_deserializer=_identity
        )
        call = method(until_none(self._requests))
        with self._lock:
            self._call = call
            closing = self._closing
        if closing:
            call.cancel()
        return call

    def _read(self) -> None:
        failure: Exception = StreamEnded("the worker ended the stream")
        try:
            for raw in self._open():
                reply = core.PushTaskReply.FromString(raw)
                with self._lock:
                    callback = self._callbacks.pop(reply.call_id, None)
                if callback is not None:
                    callback(reply, None)
        except grpc.RpcError as e:
            failure = e
        except Exception as e:  # noqa: BLE001 - a bad reply: treat the worker as gone
            failure = StreamEnded(f"bad reply: {e}")
        with self._lock:
            self._failure = failure
            callbacks, self._callbacks = self._callbacks, {}
        self._requests.put(None)
        if self._channel is not None:
            self._channel.close()
        self._on_end(self)
        for callback in callbacks.values():
            callback(None, failure)


class _Lease:
    """A worker leased for tasks of one shape; at most one push in flight."""

    __slots__ = ("lease_id", "push", "busy", "idle_since")

    def __init__(self, lease_id: bytes, push):
        self.lease_id = lease_id
        self.push = push
        self.busy = True
        self.idle_since = 0.0


class _Route:
    """How this process reaches one actor.

    At most one push is in flight per ordered actor (so calls arrive in order), up to its
    max_concurrency for threaded and async ones (whose calls have no order); calls made while
    that many are in flight wait in ``queued`` and go together in the next push, so a burst of
    calls costs a few messages, not one each.
    """

    __slots__ = ("push", "worker_id", "retry_at", "in_flight", "queued")

    def __init__(self):
        self.push: Optional[_PushStream] = None  # the stream to the actor's worker, once direct
        self.worker_id = b""  # the worker hosting the actor when the node gave its address
        self.retry_at = 0.0  # while on the node path: when to ask the node again
        self.in_flight = 0
        self.queued: List[tuple] = []  # (spec, owner seq, return ids, pending)


class _Answer:
    """Set once a push is answered; waited on by ray.get on the main thread.

    Not a threading.Event: a Ctrl-C that lands inside Event.wait (between its condition's
    release and re-acquire) makes the wait's own ``with`` raise "release unlocked lock" instead
    of KeyboardInterrupt. Acquiring a primitive lock is atomic and interruptible, so the wait
    is a lock acquired in slices; whoever gets it passes it on at once.
    """

    __slots__ = ("_lock", "_set")

    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._lock.acquire()
        self._set = False

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._lock.release()

    def wait(self, timeout: Optional[float] = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._set:
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                break
            if self._lock.acquire(timeout=left):
                self._lock.release()
                return True
        return self._set


class _Pending:
    """The returns of one pushed call, until its answer is in."""

    __slots__ = ("done", "forgotten")

    def __init__(self):
        self.done = _Answer()
        self.forgotten = set()


def _identity(b):
    return b


class DirectCalls:
    """A driver's direct calls. Thread-safe; answers arrive on gRPC's threads."""

    def __init__(self, session):
        self._session = session
        self._lock = threading.Lock()
        self._routes: Dict[bytes, _Route] = {}
        self._pending: Dict[bytes, _Pending] = {}
        self._streams: Dict[str, _PushStream] = {}
        self._pushes_in_flight = 0  # over all routes and leases
        self._closed = False
        self._leases: Dict[tuple, _Lease] = {}
        self._lease_retry_at: Dict[tuple, float] = {}
        self._reaper: Optional[threading.Thread] = None
        self._reaper_wake = threading.Condition(self._lock)
        # Pulsed on every answer, for a ray.get of several pushed calls that stops at the
        # first error (await_answers).
        self._any_answer = Pulse()

    # ------------------------------------------------------------------ submitting

    def submit(self, spec: common.TaskSpec, concurrency: int = 1) -> bool:
        """Pushes an actor call to its worker; False if it must go through the node."""
        actor_id = spec.actor_task.actor_id
        route = self._direct_route(actor_id)
        stream = route.push if route is not None else None
        if stream is None:
            return False
        spec.pushed_to = route.worker_id  # the node fails it if that incarnation is gone
        call = self._register(spec)
        with self._lock:
            route.queued.append(call)
            if route.in_flight >= max(1, concurrency):
                return True  # goes with the next push, when one in flight is answered
            batch = self._take_batch(route)
        self._send(actor_id, route, stream, batch)
        return True

    def stop_pushing(self, actor_id: bytes) -> None:
        """Calls to the actor take the node path until the node says it is reachable again
        (after ray.kill: the node applies the kill before it answers)."""
        with self._lock:
            route = self._routes.get(actor_id)
            if route is not None:
                route.push = None
                route.retry_at = time.monotonic() + RETRY_ADDRESS_S

    def _register(self, spec: common.TaskSpec) -> tuple:
        """Marks a call as pushed and queues its registration for the node; returns
        (spec, owner seq, return ids, pending answer)."""
        spec.direct = True
        return_ids = [ids.return_id(spec.task_id, i) for i in range(1, spec.num_returns + 1)]
        pending = _Pending()
        seq = self._session.outbox.register_direct(spec)
        with self._lock:
            for object_id in return_ids:
                self._pending[object_id] = pending
        return spec, seq, return_ids, pending

    def _lookup(self, method: str, request, reply_type, carried):
        """Asks the node, carrying this process's unsent changes (the node serves the request
        after them without waiting for our stream); on failure they go back to the outbox."""
        try:
            return self._session.node_call(method, request, reply_type)
        except BaseException:
            self._session.outbox.put_back(carried)
            raise

    def _take_batch(self, route: _Route):
        """The queued calls, for one push (caller holds the lock)."""
        batch, route.queued = route.queued, []
        if batch:
            route.in_flight += 1
            self._pushes_in_flight += 1
        return batch

    def _send(self, actor_id: bytes, route: _Route, stream: _PushStream, batch) -> None:
        if not batch:
            return
        request = core.PushTaskRequest(
            specs=[spec for spec, _, _, _ in batch], owner_id=self._session.client_id, owner_seq=batch[-1][1]
        )
        stream.push(request, lambda reply, failure: self._answered(actor_id, route, stream, batch, reply, failure))

    def _direct_route(self, actor_id: bytes) -> Optional[_Route]:
        """The actor's route if its calls may be pushed now, else None (use the node)."""
        with self._lock:
            if self._closed:
                return None
            route = self._routes.setdefault(actor_id, _Route())
            if route.push is not None:
                return route
            now = time.monotonic()
            if now < route.retry_at or self._pushes_in_flight:
                # A fan-out over many actors goes through the node: one message carries all
                # the calls and the node dispatches them, where each first push would wait for
                # a lookup (40 actors x 10 calls: 550-800 calls/s this way, 480-570 pushing).
                # A route switches to pushing while no other push is in flight, as in
                # one-call-at-a-time code.
                return None
            route.retry_at = now + RETRY_ADDRESS_S
        session = self._session
        after, carried = session.outbox.take_for_read()
        request = nm.GetActorAddressRequest(
            client_id=session.client_id, actor_id=actor_id, after_seq=after, ops=carried
        )
        reply = self._lookup("GetActorAddress", request, nm.GetActorAddressReply, carried)
        if not reply.address:
            return None
        with self._lock:
            if route.queued or route.in_flight:
                return None  # an earlier push is failing over to the node: follow it
            route.push = self._stream(reply.address)
            route.worker_id = reply.worker_id
            return route

    def _stream(self, address: str) -> _PushStream:
        """This process's stream to the worker at ``address`` (caller holds the lock)."""
        stream = self._streams.get(address)
        if stream is None or not stream.alive:
            stream = self._streams[address] = _PushStream(address, self._stream_ended)
        return stream

    def _stream_ended(self, stream: _PushStream) -> None:
        """On the stream's reader thread: a worker's stream ended."""
        with self._lock:
            if self._streams.get(stream.address) is stream:
                del self._streams[stream.address]

    # ------------------------------------------------------------------ leased workers

    def submit_task(self, spec: common.TaskSpec) -> bool:
        """Pushes a plain task to a leased worker; False if it must go through the node."""
        if (
            spec.max_calls
            or spec.retry_exceptions
            or spec.resources.get("GPU", 0) > 0
            or spec.HasField("scheduling_strategy")
        ):
            return False  # a worker per call, retries or devices or a node the node decides
        for arg in spec.args:
            if arg.HasField("object_id"):
                return False  # the node resolves (and waits for) arguments by reference
        # A lease serves one language too: Java tasks (java_function) run in Java workers.
        key = (tuple(sorted(spec.resources.items())), spec.runtime_env.hash, spec.function.language)
        with self._lock:
            if self._closed:
                return False
            lease = self._leases.get(key)
            if lease is not None:
                if lease.busy:
                    return False
                lease.busy = True
            elif self._pushes_in_flight or time.monotonic() < self._lease_retry_at.get(key, 0.0):
                return False
        if lease is None:
            lease = self._lease(key, spec)
            if lease is None:
                return False
        spec.lease_id = lease.lease_id
        call = self._register(spec)
        with self._lock:
            self._pushes_in_flight += 1
        request = core.PushTaskRequest(specs=[spec], owner_id=self._session.client_id, owner_seq=call[1])
        batch = [call]
        lease.push.push(request, lambda reply, failure: self._task_answered(key, lease, batch, reply, failure))
        return True

    def _lease(self, key: tuple, spec: common.TaskSpec) -> Optional[_Lease]:
        session = self._session
        shape = common.TaskSpec(job_id=spec.job_id, caller_id=spec.caller_id, function=spec.function)
        shape.resources.update(spec.resources)
        shape.runtime_env.CopyFrom(spec.runtime_env)
        after, carried = session.outbox.take_for_read()
        request = nm.LeaseWorkerRequest(client_id=session.client_id, after_seq=after, shape=shape, ops=carried)
        reply = self._lookup("LeaseWorker", request, nm.LeaseWorkerReply, carried)
        if not reply.lease_id:
            with self._lock:
                self._lease_retry_at[key] = time.monotonic() + RETRY_ADDRESS_S
            return None
        with self._lock:
            if self._closed or key in self._leases:
                lease = None  # shut down, or another thread leased one meanwhile
            else:
                lease = _Lease(reply.lease_id, self._stream(reply.address))
                self._leases[key] = lease
                if self._reaper is None:
                    self._reaper = threading.Thread(target=self._reap, name="ray-leases", daemon=True)
                    self._reaper.start()
                self._reaper_wake.notify()
        if lease is None:
            session.outbox.return_lease(reply.lease_id)
        return lease

    def _task_answered(self, key: tuple, lease: _Lease, batch, reply, failure) -> None:
        """On a stream's reader thread: caches the task's returns; the lease is free again, or
        gone."""
        results = reply.results if failure is None else ()
        with self._lock:
            self._settle(batch, results)
            lost = failure is not None or len(results) < len(batch)
            if lost:
                # The worker is gone or stopped taking tasks: the node, which registered the
                # task as running there, retries or fails it; the lease is given back.
                if self._leases.get(key) is lease:
                    del self._leases[key]
            else:
                lease.busy = False
                lease.idle_since = time.monotonic()
        self._forward(reply, results)
        for _, _, _, pending in batch:
            pending.done.set()
        self._any_answer.pulse()
        if lost and not self._closed:
            outbox = self._session.outbox
            if failure is not None and not _worker_gone(failure):
                for spec, _, _, _ in batch:
                    outbox.direct_call_failed(spec.task_id, f"{type(failure).__name__}: {failure}")
            outbox.return_lease(lease.lease_id)

    def _reap(self) -> None:
        """Gives back leases idle for LEASE_IDLE_S (the reaper thread's loop)."""
        while True:
            expired = []
            with self._lock:
                if self._closed:
                    return
                now = time.monotonic()
                for key, lease in list(self._leases.items()):
                    if not lease.busy and now - lease.idle_since >= LEASE_IDLE_S:
                        del self._leases[key]
                        expired.append(lease)
                if not expired:
                    # While leases are held, look again every LEASE_IDLE_S (no wake-up per task).
                    self._reaper_wake.wait(LEASE_IDLE_S if self._leases else None)
            for lease in expired:
                self._session.outbox.return_lease(lease.lease_id)

    # ------------------------------------------------------------------ answers

    def _answered(self, actor_id: bytes, route: _Route, stream: _PushStream, batch, reply, failure) -> None:
        """On a stream's reader thread: caches the calls' returns, so ray.get needs no round
        trip, and sends the calls queued meanwhile."""
        results = reply.results if failure is None else ()
        with self._lock:
            self._settle(batch, results)
            route.in_flight -= 1
            if failure is not None or len(results) < len(batch):
                # The worker is gone or stopped taking calls (its actor ended): this and the
                # queued calls are the node's to finish (it registered them); new calls take
                # the node path until it says the actor is reachable again.
                route.push = None
                route.retry_at = time.monotonic() + RETRY_ADDRESS_S
                failed_over, route.queued = route.queued, []
                next_batch = []
            else:
                failed_over = []
                next_batch = self._take_batch(route)
        self._forward(reply, results)
        for _, _, _, pending in batch:
            pending.done.set()
        for _, _, _, pending in failed_over:
            pending.done.set()
        self._any_answer.pulse()
        if failure is not None and not self._closed:
            if not _worker_gone(failure):
                # The worker is alive but did not take the calls: the node fails them. (A worker
                # that went away makes the node retry or fail its calls by itself.)
                reason = f"{type(failure).__name__}: {failure}"
                for spec, _, _, _ in batch + failed_over:
                    self._session.outbox.direct_call_failed(spec.task_id, reason)
        self._send(actor_id, route, stream, next_batch)

    def _forward(self, reply, results) -> None:
        """Forwards to the node the ends of calls whose worker left that to us (not under
        the lock: the outbox calls back into this class under its own)."""
        if self._closed:
            return
        for finished in results:
            if finished.caller_reports:
                self._session.outbox.direct_finished(reply.worker_id, finished)

    def _settle(self, batch, results) -> None:
        """A push was answered (or failed): caches the returns it brought, so ray.get needs no
        round trip, and stops tracking the push (caller holds the lock)."""
        self._cache_returns(results)
        for _, _, return_ids, _ in batch:
            for object_id in return_ids:
                self._pending.pop(object_id, None)
        self._pushes_in_flight -= 1

    def _cache_returns(self, results) -> None:
        cache = self._session._cache
        for finished in results:
            for v in finished.returns:
                if v.object_id in self._forgotten(v.object_id):
                    continue
                if v.WhichOneof("location") == "inline":
                    # A value holding refs is read from the node instead: only there is it
                    # stored with the refs it contains counted, before anyone can drop it.
                    if not v.inline.nested_refs:
                        cache[v.object_id] = v
                elif v.shared.payload_offset > 0:
                    cache[v.object_id] = v  # sealed after our registration; refs counted

    def _forgotten(self, object_id: bytes):
        pending = self._pending.get(object_id)
        return pending.forgotten if pending is not None else ()

    def forget(self, object_id: bytes) -> None:
        """This process's last reference died: an answer that comes later is not cached."""
        with self._lock:
            pending = self._pending.get(object_id)
            if pending is not None:
                pending.forgotten.add(object_id)

    def all_pushed(self, object_ids) -> bool:
        """Whether every one of ``object_ids`` is a return of a pushed call not answered yet."""
        with self._lock:
            pending = self._pending
            return all(i in pending for i in object_ids)

    def await_answers(self, object_ids, deadline: Optional[float], stop=None) -> bool:
        """Waits for the answers of pushed calls among ``object_ids``; False on timeout.

        ``stop(object_id)``, asked about each answered id, ends the wait early when true (a
        ``ray.get`` of several objects stops at the first error, as Ray's does).
        """
        waits, by_pending = {}, {}
        with self._lock:
            for object_id in object_ids:
                p = self._pending.get(object_id)
                if p is not None:
                    waits[id(p)] = p
                    by_pending.setdefault(id(p), []).append(object_id)
        if stop is None or len(waits) <= 1:
            for pending in waits.values():
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                if not pending.done.wait(remaining):
                    return False
            return True
        while True:
            unanswered = False
            for key, pending in waits.items():
                if not pending.done.is_set():
                    unanswered = True
                elif any(stop(i) for i in by_pending[key]):
                    return True
            if not unanswered:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._any_answer.wait(0.1 if remaining is None else min(remaining, 0.1))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._reaper_wake.notify_all()  # leases end with the session on the node
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.close()


def _worker_gone(failure) -> bool:
    """Whether a push failed because its worker went away (the node then retries or fails the
    calls by itself) rather than because the worker did not take them."""
    if isinstance(failure, StreamEnded):
        return True
    code = failure.code() if isinstance(failure, grpc.RpcError) else None
    return code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
