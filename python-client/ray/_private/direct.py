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
    """How this process reaches one actor."""

    __slots__ = ("push", "retry_at", "node_calls")

    def __init__(self):
        self.push = None  # the worker's PushTask method, once direct
        self.retry_at = 0.0
        self.node_calls: List[bytes] = []  # first returns of calls sent through the node


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
        self._closed = False

    # ------------------------------------------------------------------ submitting

    def submit(self, spec: common.TaskSpec) -> bool:
        """Pushes an actor call to its worker; False if it must go through the node."""
        actor_id = spec.actor_task.actor_id
        push = self._push_method(actor_id)
        if push is None:
            return False
        session = self._session
        spec.direct = True
        return_ids = [ids.return_id(spec.task_id, i) for i in range(1, spec.num_returns + 1)]
        pending = _Pending()
        with self._lock:
            for object_id in return_ids:
                self._pending[object_id] = pending
        seq = session.outbox.register_direct(spec)
        request = core.PushTaskRequest(spec=spec, owner_id=session.client_id, owner_seq=seq)
        future = push.future(request.SerializeToString())
        future.add_done_callback(lambda f: self._answered(actor_id, spec.task_id, return_ids, pending, f))
        return True

    def note_node_call(self, spec: common.TaskSpec) -> None:
        """A call to the actor went through the node (it holds the direct path back)."""
        if spec.num_returns == 0:
            return
        with self._lock:
            route = self._routes.setdefault(spec.actor_task.actor_id, _Route())
            route.node_calls.append(ids.return_id(spec.task_id, 1))

    def _push_method(self, actor_id: bytes):
        with self._lock:
            if self._closed:
                return None
            route = self._routes.setdefault(actor_id, _Route())
            if route.push is not None:
                return route.push
            cache = self._session._cache
            route.node_calls = [i for i in route.node_calls if i not in cache]
            now = time.monotonic()
            if route.node_calls or now < route.retry_at:
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
            return route.push

    # ------------------------------------------------------------------ answers

    def _answered(self, actor_id: bytes, task_id: bytes, return_ids, pending: _Pending, future) -> None:
        """On a gRPC thread: caches the call's returns so ray.get needs no round trip."""
        failure = None
        try:
            reply = core.PushTaskReply.FromString(future.result())
        except grpc.RpcError as e:
            failure = e
        except Exception as e:  # noqa: BLE001 - cancelled at shutdown, or a bad answer
            failure = e
        cache = self._session._cache
        with self._lock:
            if failure is None:
                for v in reply.result.returns:
                    if v.object_id in pending.forgotten:
                        continue
                    if v.WhichOneof("location") == "inline":
                        # A value holding refs is read from the node instead: only there is it
                        # stored with the refs it contains counted, before anyone can drop it.
                        if not v.inline.nested_refs:
                            cache[v.object_id] = v
                    elif v.shared.payload_offset > 0:
                        cache[v.object_id] = v  # sealed after our registration; refs counted
            else:
                route = self._routes.get(actor_id)
                if route is not None:
                    route.push = None
                    route.retry_at = time.monotonic() + RETRY_ADDRESS_S
            for object_id in return_ids:
                self._pending.pop(object_id, None)
        pending.done.set()
        if failure is not None and not self._closed:
            code = failure.code() if isinstance(failure, grpc.RpcError) else None
            if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                # The worker is alive but did not take the call: the node fails it. (A worker
                # that went away makes the node retry or fail its calls by itself.)
                self._session.outbox.direct_call_failed(task_id, f"{type(failure).__name__}: {failure}")

    def forget(self, object_id: bytes) -> None:
        """This process's last reference died: an answer that comes later is not cached."""
        with self._lock:
            pending = self._pending.get(object_id)
            if pending is not None:
                pending.forgotten.add(object_id)

    def await_answers(self, object_ids, deadline: Optional[float]) -> bool:
        """Waits for the answers of pushed calls among ``object_ids``; False on timeout."""
        with self._lock:
            waits = {id(p): p for p in (self._pending.get(i) for i in object_ids) if p is not None}
        for pending in waits.values():
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not pending.done.wait(remaining):
                return False
        return True

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
