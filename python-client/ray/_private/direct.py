"""Direct actor calls from a driver: pushed to the actor's worker, answered by it.

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
"""

from __future__ import annotations

import threading
import time
from typing import Dict, List, Optional

import grpc

from ray._private import ids
from ray._private.transport import _CHANNEL_OPTIONS
from ray.rpc import common_pb2 as common
from ray.rpc import core_worker_pb2 as core
from ray.rpc import node_manager_pb2 as nm

PUSH_METHOD = "/ray.rpc.CoreWorkerService/PushTask"
WATCH_METHOD = "/ray.rpc.CoreWorkerService/Watch"
# After the node said "not yet" (actor not alive, or calls of ours still unfinished), how long
# calls keep the node path before asking again.
RETRY_ADDRESS_S = 0.05


class _Route:
    """How this process reaches one actor.

    At most one push is in flight per ordered actor (so calls arrive in order), up to its
    max_concurrency for threaded and async ones (whose calls have no order); calls made while
    that many are in flight wait in ``queued`` and go together in the next push, so a burst of
    calls costs a few messages, not one each.
    """

    __slots__ = ("push", "retry_at", "in_flight", "queued")

    def __init__(self):
        self.push = None  # the worker's PushTask method, once direct
        self.retry_at = 0.0  # while on the node path: when to ask the node again
        self.in_flight = 0
        self.queued: List[tuple] = []  # (spec, owner seq, return ids, pending)


class _Pending:
    """The returns of one pushed call, until its answer is in."""

    __slots__ = ("done", "forgotten")

    def __init__(self):
        self.done = threading.Event()
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
        self._channels: Dict[str, grpc.Channel] = {}
        self._watches = []
        self._pushes_in_flight = 0  # over all routes
        self._closed = False
        # Woken on every answer while a ray.get of several pushed calls waits (await_answers).
        self._answer_cond = threading.Condition(threading.Lock())
        self._early_waiters = 0

    # ------------------------------------------------------------------ submitting

    def submit(self, spec: common.TaskSpec, concurrency: int = 1) -> bool:
        """Pushes an actor call to its worker; False if it must go through the node."""
        actor_id = spec.actor_task.actor_id
        route = self._direct_route(actor_id)
        if route is None:
            return False
        spec.direct = True
        return_ids = [ids.return_id(spec.task_id, i) for i in range(1, spec.num_returns + 1)]
        pending = _Pending()
        seq = self._session.outbox.register_direct(spec)
        with self._lock:
            for object_id in return_ids:
                self._pending[object_id] = pending
            route.queued.append((spec, seq, return_ids, pending))
            if route.in_flight >= max(1, concurrency):
                return True  # goes with the next push, when one in flight is answered
            batch = self._take_batch(route)
        self._send(actor_id, route, batch)
        return True

    def _take_batch(self, route: _Route):
        """The queued calls, for one push (caller holds the lock)."""
        batch, route.queued = route.queued, []
        if batch:
            route.in_flight += 1
            self._pushes_in_flight += 1
        return batch

    def _send(self, actor_id: bytes, route: _Route, batch) -> None:
        if not batch:
            return
        request = core.PushTaskRequest(
            specs=[spec for spec, _, _, _ in batch], owner_id=self._session.client_id, owner_seq=batch[-1][1]
        )
        try:
            future = route.push.future(request.SerializeToString())
        except Exception as e:  # noqa: BLE001 - a closed channel: the node path takes over
            self._answered(actor_id, route, batch, None, e)
            return
        future.add_done_callback(lambda f: self._answered(actor_id, route, batch, f, None))

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
                # A fan-out over many actors is cheaper through the node (one message for all
                # the calls, where each push costs a gRPC call here): a route switches to pushing
                # only while no other push is in flight, as in one-call-at-a-time code.
                return None
            route.retry_at = now + RETRY_ADDRESS_S
        session = self._session
        reply = session.node_call(
            "GetActorAddress",
            nm.GetActorAddressRequest(client_id=session.client_id, actor_id=actor_id, after_seq=session.outbox.fence()),
            nm.GetActorAddressReply,
        )
        if not reply.address:
            return None
        with self._lock:
            if route.queued or route.in_flight:
                return None  # an earlier push is failing over to the node: follow it
            channel = self._channels.get(reply.address)
            if channel is None:
                channel = grpc.insecure_channel(reply.address, options=_CHANNEL_OPTIONS)
                self._channels[reply.address] = channel
                # A call that stays open: gRPC keeps the channel's polling thread while any
                # call is in flight, instead of starting a thread for each push.
                watch = channel.unary_stream(
                    WATCH_METHOD, request_serializer=_identity, response_deserializer=_identity
                )
                self._watches.append(watch(b""))
            route.push = channel.unary_unary(PUSH_METHOD, request_serializer=_identity, response_deserializer=_identity)
            return route

    # ------------------------------------------------------------------ answers

    def _answered(self, actor_id: bytes, route: _Route, batch, future, failure) -> None:
        """On a gRPC thread: caches the calls' returns, so ray.get needs no round trip, and
        sends the calls queued meanwhile."""
        results = []
        if failure is None:
            try:
                results = core.PushTaskReply.FromString(future.result()).results
            except grpc.RpcError as e:
                failure = e
            except Exception as e:  # noqa: BLE001 - cancelled at shutdown, or a bad answer
                failure = e
        cache = self._session._cache
        with self._lock:
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
            for _, _, return_ids, _ in batch:
                for object_id in return_ids:
                    self._pending.pop(object_id, None)
            route.in_flight -= 1
            self._pushes_in_flight -= 1
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
        for _, _, _, pending in batch:
            pending.done.set()
        for _, _, _, pending in failed_over:
            pending.done.set()
        if self._early_waiters:
            with self._answer_cond:
                self._answer_cond.notify_all()
        if failure is not None and not self._closed:
            code = failure.code() if isinstance(failure, grpc.RpcError) else None
            if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                # The worker is alive but did not take the calls: the node fails them. (A worker
                # that went away makes the node retry or fail its calls by itself.)
                reason = f"{type(failure).__name__}: {failure}"
                for spec, _, _, _ in batch + failed_over:
                    self._session.outbox.direct_call_failed(spec.task_id, reason)
        self._send(actor_id, route, next_batch)

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
        with self._answer_cond:
            self._early_waiters += 1
            try:
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
                    self._answer_cond.wait(remaining)
            finally:
                self._early_waiters -= 1

    def close(self) -> None:
        with self._lock:
            self._closed = True
            channels = list(self._channels.values())
            self._channels.clear()
            watches, self._watches = self._watches, []
        for watch in watches:
            watch.cancel()
        for channel in channels:
            channel.close()
