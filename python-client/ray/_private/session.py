"""A process's connection to the engine: objects, tasks, references, functions.

A driver's Session speaks gRPC to its node; a worker's speaks through the worker JVM. The
public API (ray/_private/api.py) validates arguments and calls into this class.

Changes (task submissions, reference counts) go out asynchronously and in order through the
Outbox; reads carry a fence so that they see them. Values of objects this process holds are
cached: objects are immutable, and an object cannot be freed while we hold a reference, so a
cached value or arena location stays valid until our last reference dies (then the outbox
tells us to forget it).
"""

from __future__ import annotations

import dis
import hashlib
import sys
import threading
import time
import types
from typing import Dict, List, Optional, Sequence

import cloudpickle

from ray import exceptions
from ray._private import context, ids, runtime_env, serialization
from ray._private.object_ref import ObjectRef
from ray._private.object_store import Arena, pinned_base
from ray._private.outbox import Outbox
from ray.rpc import common_pb2 as common
from ray.rpc import control_service_pb2 as control
from ray.rpc import node_manager_pb2 as nm

NODE_MANAGER = "ray.rpc.NodeManagerService/"
CONTROL = "ray.rpc.ControlService/"

# How long past a ray.wait timeout the node's answer is awaited before wait returns without it.
WAIT_SLACK_S = 0.05

DRIVER_MODE = "driver"
WORKER_MODE = "worker"


def anonymous_namespace(job_id: bytes) -> str:
    """The namespace of a job that named none: private to the job (its driver and workers)."""
    return f"anonymous-{job_id.hex()}"


class Session:
    """State of one connected process. Thread-safe: the API may be used from any thread."""

    def __init__(
        self,
        *,
        mode: str,
        transport,
        client_id: bytes,
        job_id: bytes,
        node_id: bytes,
        node_ip: str,
        arena_path: str,
        arena_capacity: int,
        max_inline_bytes: int,
        namespace: str,
        outbox: Outbox,
        packager=None,
        base_runtime_env: Optional[Dict] = None,
    ):
        self.mode = mode
        self.transport = transport
        self.client_id = client_id
        self.job_id = job_id
        self.node_id = node_id
        self.node_ip = node_ip
        self.namespace = namespace
        self.max_inline_bytes = max_inline_bytes
        self.arena = Arena(arena_path, arena_capacity)
        self.connected = True
        self._cache: Dict[bytes, common.ObjectValue] = {}
        # Direct actor calls (ray/_private/direct.py); a driver's api sets it, workers have none.
        self.direct = None
        self.outbox = outbox
        outbox.on_released = self._forget
        self._exported: Dict[bytes, bool] = {}
        # Return ids of actor calls this process submitted, while it holds them: ray.cancel
        # refuses force=True for those (as Ray). Pruned by _forget.
        self._actor_call_returns: set = set()
        self._functions: Dict[bytes, object] = {}
        self._export_lock = threading.Lock()
        # runtime_env: what this process's submissions inherit (a driver: the job's; a worker:
        # its own), and the packager that uploads local directories once.
        self.base_runtime_env = base_runtime_env or {}
        self.packager = packager or runtime_env.Packager(self.control_call)

    # ------------------------------------------------------------------ rpc

    def node_call(self, method: str, request, reply_type, timeout: Optional[float] = None):
        return self.transport.call(NODE_MANAGER + method, request, reply_type, timeout)

    def control_call(self, method: str, request, reply_type, timeout: Optional[float] = None):
        return self.transport.call(CONTROL + method, request, reply_type, timeout)

    def _forget(self, object_id: bytes) -> None:
        self._cache.pop(object_id, None)
        direct = self.direct
        if direct is not None:
            direct.forget(object_id)
        self._actor_call_returns.discard(object_id)

    def note_actor_call(self, task_id: bytes, num_returns: int) -> None:
        """Remembers that the returns of ``task_id`` come from an actor call."""
        for i in range(1, num_returns + 1):
            self._actor_call_returns.add(ids.return_id(task_id, i))

    def is_actor_call_return(self, object_id: bytes) -> bool:
        return object_id in self._actor_call_returns

    # ------------------------------------------------------------------ objects

    def put(self, value) -> ObjectRef:
        try:
            sobj = serialization.serialize(value)
        except Exception as e:  # noqa: BLE001 - any pickling failure is the user's TypeError
            raise TypeError(f"Could not serialize the put value {value!r}: {type(e).__name__}: {e}") from e
        return self.put_serialized(sobj)

    def put_serialized(self, sobj) -> ObjectRef:
        """Stores an already serialized value; the returned ref is this process's."""
        return self._store_owned(sobj, ids.new_put_id(self.job_id), common.PICKLE5)

    def store_generator_item(self, spec: common.TaskSpec, index: int, value, fmt: int = common.PICKLE5):
        """Stores a streaming generator's ``index``-th value (its return ``index``) and reports it:
        the node hands it to the task's caller. Returns this process's ref to it, to be dropped
        once the task has ended (the report comes before the ref's release on the same stream)."""
        try:
            sobj = serialization.serialize(value)
        except Exception as e:  # noqa: BLE001 - the generator's error, as for a return value
            raise TypeError(f"Could not serialize the value yielded by {spec.name}: {type(e).__name__}: {e}") from e
        ref = self._store_owned(sobj, ids.return_id(spec.task_id, index), fmt)
        item = common.GeneratorItem(task_id=spec.task_id, index=index, caller_id=spec.caller_id)
        self.outbox.action(common.ClientAction(generator_item=item))
        return ref

    def next_generator_item(self, task_id: bytes, index: int, timeout: Optional[float]) -> str:
        """Waits for a streaming generator's item ``index``: "ready", "ended" or "timeout"."""
        after, carried = self.outbox.take_for_read()
        req = nm.NextGeneratorItemRequest(
            client_id=self.client_id,
            task_id=task_id,
            index=index,
            timeout_ms=-1 if timeout is None else int(timeout * 1000),
            after_seq=after,
            ops=carried,
        )
        reply = self._read("NextGeneratorItem", req, nm.NextGeneratorItemReply, timeout, carried)
        return "ready" if reply.ready else "ended" if reply.ended else "timeout"

    def _store_owned(self, sobj, object_id: bytes, fmt: int) -> ObjectRef:
        if sobj.size <= self.max_inline_bytes:
            # No round trip: the value travels in this process's next ops message, ordered
            # with its submissions; reads fence on it like on a submission.
            cached = common.ObjectValue(object_id=object_id)
            cached.inline.format = fmt
            cached.inline.payload = sobj.to_bytes()
            cached.inline.nested_refs.extend(sobj.nested_refs)
            self.outbox.put(cached)
        else:
            reply = self._write_to_arena(sobj, object_id, fmt, is_task_return=False)
            cached = common.ObjectValue(object_id=object_id)
            cached.shared.payload_offset = reply.payload_offset
            cached.shared.payload_size = sobj.size
            cached.shared.format = fmt
        ref = ObjectRef(object_id, _counted=True)
        self._cache[object_id] = cached
        return ref

    def _write_to_arena(
        self, sobj, object_id: bytes, fmt: int, is_task_return: bool, fence=None
    ) -> nm.CreateObjectReply:
        # Always fenced: refs and views this process just dropped free space the node must see
        # before it decides the store is full (and nested refs must be known, too).
        after = self.outbox.fence()
        req = nm.CreateObjectRequest(
            client_id=self.client_id,
            object_id=object_id,
            payload_size=sobj.size,
            format=fmt,
            nested_refs=sobj.nested_refs,
            is_task_return=is_task_return,
            after_seq=after,
        )
        if fence is not None:
            # A direct call's return: its pending entry exists once the owner's message is in.
            req.fence_client_id, req.fence_seq = fence
        reply = self.node_call("CreateObject", req, nm.CreateObjectReply)
        if reply.error:
            raise exceptions.ObjectStoreFullError(reply.error)
        if reply.not_needed:
            return reply
        sobj.write_to(self.arena.writable(reply.payload_offset, sobj.size))
        self.node_call(
            "SealObject", nm.SealObjectRequest(client_id=self.client_id, object_id=object_id), nm.SealObjectReply
        )
        return reply

    def store_return(self, value, object_id: bytes, fmt: int = common.PICKLE5, fence=None) -> common.ObjectValue:
        """Stores one return value of the running task; small values travel in the reply."""
        sobj = serialization.serialize(value)
        result = common.ObjectValue(object_id=object_id)
        if sobj.size <= self.max_inline_bytes:
            result.inline.format = fmt
            result.inline.payload = sobj.to_bytes()
            result.inline.nested_refs.extend(sobj.nested_refs)
        else:
            reply = self._write_to_arena(sobj, object_id, fmt, is_task_return=True, fence=fence)
            if not reply.not_needed:
                result.shared.payload_offset = reply.payload_offset  # for a direct call's caller
            result.shared.payload_size = sobj.size
            result.shared.format = fmt
        return result

    def get(self, object_ids: Sequence[bytes], timeout: Optional[float], remember: bool = True, fence=None) -> list:
        """Values of the objects; raises the first stored error, or GetTimeoutError.

        ``remember``: cache what was fetched. Only for callers holding ObjectRefs to the
        objects (whose death evicts the entries); a worker resolving task arguments holds none.
        """
        cache = self._cache
        # Snapshot what is cached now: entries may be evicted by another thread meanwhile.
        known: Dict[bytes, Optional[common.ObjectValue]] = {i: cache.get(i) for i in object_ids}
        missing = [i for i, v in known.items() if v is None]
        if missing and len(known) > 1:
            # As Ray: an error already known is raised without waiting for the other objects.
            self._raise_known_error(object_ids, known)
        if missing and self.direct is not None and self.direct.all_pushed(missing):
            # Answers of calls pushed to actors' workers arrive here, not from the node. (When
            # some of the missing objects come from elsewhere, the node is asked for all of
            # them: it learns pushed calls' answers too, and answers as soon as one is an error.)
            deadline = None if timeout is None else time.monotonic() + timeout
            # With several objects, a pushed call that failed (or whose answer must be read from
            # the node) ends this wait early: see above.
            answered = self.direct.await_answers(
                missing, deadline, (lambda i: not _is_value(cache.get(i))) if len(known) > 1 else None
            )
            if not answered:
                raise exceptions.GetTimeoutError("Get timed out: some object(s) not ready.")
            for i in missing:
                known[i] = cache.get(i)
            missing = [i for i, v in known.items() if v is None]
            if missing and len(known) > 1:
                self._raise_known_error(object_ids, known)
            if deadline is not None:
                timeout = max(0.0, deadline - time.monotonic())
        node_pinned = set()
        if missing:
            after, carried = self.outbox.take_for_read()
            req = nm.GetObjectsRequest(
                client_id=self.client_id,
                object_ids=missing,
                timeout_ms=-1 if timeout is None else int(timeout * 1000),
                after_seq=after,
                ops=carried,
            )
            if fence is None:
                fence = context.task_context.fence
            if fence is not None:
                # Read by a direct call (its argument, or a ref nested in one): the owner may
                # have put or submitted it just before the call.
                req.fence_client_id, req.fence_seq = fence
            reply = self._read("GetObjects", req, nm.GetObjectsReply, timeout, carried)
            if reply.timed_out:
                raise exceptions.GetTimeoutError("Get timed out: some object(s) not ready.")
            if reply.failed:
                # The node answered early: one of the objects holds an error (only those came).
                self._raise_first_error(object_ids, reply.objects)
            for v in reply.objects:
                known[v.object_id] = v
                node_pinned.add(v.object_id)  # the node pinned each fetched arena object once
                if remember:
                    cache[v.object_id] = v
        values = []
        error = None
        for object_id in object_ids:
            pinned_by_node = object_id in node_pinned
            node_pinned.discard(object_id)  # a repeated id takes its own pin
            value = self._decode_guarded(known[object_id], pinned_by_node)
            if error is None and isinstance(value, _StoredError):
                error = value.exception
            values.append(value)
        if error is not None:
            raise error
        return values

    def _raise_known_error(self, object_ids, known) -> None:
        """Raises the first error among the values already at hand (in request order), if any."""
        errors = [v for v in known.values() if _is_error_value(v)]
        if errors:
            self._raise_first_error(object_ids, errors, pinned_by_node=False)

    def _raise_first_error(self, object_ids, values, pinned_by_node: bool = True) -> None:
        """Raises the error of the first of ``object_ids`` among ``values`` (error values).

        Every value is decoded: the node pinned each arena value it sent, once per occurrence.
        """
        raised = {}
        for v in values:
            decoded = self._decode_guarded(v, pinned_by_node)
            if isinstance(decoded, _StoredError):
                raised.setdefault(v.object_id, decoded.exception)
        for object_id in object_ids:
            if object_id in raised:
                raise raised[object_id]
        raise exceptions.RaySystemError("the node reported an error among the objects but sent none")

    def value_of(self, v: common.ObjectValue):
        """The value the node attached for us (an arena value is pinned for this process);
        raises a stored error as ray.get would."""
        value = self._decode_guarded(v, pinned_by_node=True)
        if isinstance(value, _StoredError):
            raise value.exception
        return value

    def _read(self, method: str, req, reply_type, timeout: Optional[float], carried, slack: float = 60.0):
        """A blocking read that carries this process's unsent changes; on failure (Ctrl-C
        included) they go back to the outbox, so that none is lost (the node drops a change it
        already applied when it comes again)."""
        try:
            return self._blocking_call(method, req, reply_type, timeout, slack)
        except BaseException:
            self.outbox.put_back(carried)
            raise

    def _blocking_call(self, method: str, req, reply_type, timeout: Optional[float], slack: float = 60.0):
        deadline = None if timeout is None else timeout + slack
        if hasattr(self.transport, "call_interruptible"):
            return self.transport.call_interruptible(NODE_MANAGER + method, req, reply_type, deadline)
        return self.node_call(method, req, reply_type, deadline)

    def _decode(self, v: common.ObjectValue, pinned_by_node: bool):
        if _format_of(v) in (common.JAVA_VALUE, common.JAVA_ERROR):
            if v.WhichOneof("location") == "shared" and pinned_by_node:
                self.outbox.release_pin(v.object_id)
            raise exceptions.CrossLanguageError(
                "This object holds a Java value (made by a Java task or a Java driver's put): "
                "reading Java values from Python is not supported by this Ray (Ray on the JVM) yet."
            )
        if _format_of(v) in (common.CROSS_LANGUAGE, common.ARRAY):
            from ray._private import cross_language

            array = _format_of(v) == common.ARRAY
            if v.WhichOneof("location") == "inline":
                payload = v.inline.payload
                return cross_language.decode_array(payload).copy() if array else cross_language.decode(payload)
            object_id = v.object_id
            if not pinned_by_node:
                self.outbox.acquire_pin(object_id)
            frame = self.arena.readable(v.shared.payload_offset, v.shared.payload_size, object_id)
            if array:
                # A view of shared memory: the pin is released when the array dies.
                outbox = self.outbox
                return cross_language.decode_array(frame, pinned_base(frame, lambda: outbox.release_pin(object_id)))
            try:
                return cross_language.decode(frame)
            finally:
                self.outbox.release_pin(object_id)
        which = v.WhichOneof("location")
        if which == "inline":
            fmt = v.inline.format
            if fmt == common.ENGINE_ERROR:
                info = common.ErrorInfo.FromString(v.inline.payload)
                return _StoredError(exceptions.from_engine_error(info.error_type, info.message))
            value = serialization.deserialize(memoryview(v.inline.payload))
        else:
            fmt = v.shared.format
            object_id = v.object_id
            frame = self.arena.readable(v.shared.payload_offset, v.shared.payload_size, object_id)
            outbox = self.outbox
            if not pinned_by_node:
                # A location we had cached: take our own pin, as the node does for a fetch.
                outbox.acquire_pin(object_id)
            # Arrays rebuilt from the frame keep a pinned base alive; a value without
            # out-of-band buffers is copied out by unpickling and releases its pin at once.
            pinned = []

            def keepalive(f):
                pinned.append(True)
                return pinned_base(f, lambda: outbox.release_pin(object_id))

            value = serialization.deserialize(frame, keepalive)
            if not pinned:
                outbox.release_pin(object_id)
        if fmt == common.ERROR:
            return _StoredError(_as_raisable(value))
        return value

    def _decode_guarded(self, v: common.ObjectValue, pinned_by_node: bool):
        """Decodes; an error value that cannot be rebuilt here becomes UnserializableException."""
        try:
            return self._decode(v, pinned_by_node)
        except Exception as e:  # noqa: BLE001 - reported to the caller as a RayError
            if _format_of(v) == common.ERROR:
                return _StoredError(exceptions.UnserializableException(f"{type(e).__name__}: {e}"))
            raise

    def wait(
        self, object_ids: List[bytes], num_returns: int, timeout: Optional[float], fetch_local: bool = True
    ) -> List[int]:
        cache = self._cache
        cached = [i for i, object_id in enumerate(object_ids) if object_id in cache]
        if len(cached) >= num_returns:
            return cached
        after, carried = self.outbox.take_for_read()
        req = nm.WaitObjectsRequest(
            client_id=self.client_id,
            object_ids=object_ids,
            num_ready=num_returns,
            timeout_ms=-1 if timeout is None else int(timeout * 1000),
            after_seq=after,
            ops=carried,
            no_fetch=not fetch_local,
        )
        fence = context.task_context.fence
        if fence is not None:
            req.fence_client_id, req.fence_seq = fence  # as in get(): a direct call's reads
        try:
            reply = self._read("WaitObjects", req, nm.WaitObjectsReply, timeout, carried, WAIT_SLACK_S)
        except (exceptions.GetTimeoutError, exceptions.RaySystemError) as e:
            # The node did not answer in time (busy, e.g. starting workers): as Ray's, this
            # wait still returns on time, with what is known to be ready here.
            if timeout is None or not _is_deadline(e):
                raise
            return cached
        return list(reply.ready_indices)

    # ------------------------------------------------------------------ tasks and functions

    def submit(self, spec: common.TaskSpec) -> None:
        """Queues a task; it reaches the node with this process's next ops message."""
        self.outbox.submit(spec)

    def export_function(self, function) -> bytes:
        """Stores a pickled function in the control service once per job; returns its id."""
        pickled = cloudpickle.dumps(function, protocol=5)
        function_id = hashlib.sha1(pickled).digest()
        with self._export_lock:
            if function_id not in self._exported:
                self.control_call(
                    "PutFunction",
                    control.PutFunctionRequest(job_id=self.job_id, function_id=function_id, pickled=pickled),
                    control.PutFunctionReply,
                )
                self._exported[function_id] = True
        return function_id

    def function_for_call(self, function_id: bytes):
        """The function (or actor class) to run for one task.

        A function shipped by value (defined in the driver's script) that rebinds module
        globals gets a fresh copy of them for every call, so each task starts from the
        script's state, as the tutorial's counter_fails.py expects. (Ray keeps them across
        tasks that share a worker.) Functions from importable modules keep module state.
        """
        entry = self._functions.get(function_id)
        if entry is None:
            reply = self.control_call(
                "GetFunction",
                control.GetFunctionRequest(job_id=self.job_id, function_id=function_id),
                control.GetFunctionReply,
            )
            if not reply.found:
                raise exceptions.RaySystemError(f"function {function_id.hex()} is not registered for this job")
            fn = cloudpickle.loads(reply.pickled)
            entry = (fn, reply.pickled if _rebinds_shipped_globals(fn) else None)
            self._functions[function_id] = entry
        fn, fresh_from = entry
        return fn if fresh_from is None else cloudpickle.loads(fresh_from)

    # ------------------------------------------------------------------ cluster state

    def nodes(self) -> List[control.NodeInfo]:
        return list(self.control_call("GetAllNodes", control.GetAllNodesRequest(), control.GetAllNodesReply).nodes)

    def close(self) -> None:
        """Forgets the connection; the owner has already closed the outbox's stream."""
        self.connected = False
        if self.direct is not None:
            self.direct.close()
        self._cache.clear()
        self.arena.close()


def _rebinds_shipped_globals(fn) -> bool:
    """Whether fn was shipped by value (its globals are not a module's) and assigns globals."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    if module is not None and getattr(fn, "__globals__", None) is vars(module):
        return False
    pending = [code]
    while pending:
        c = pending.pop()
        if any(i.opname in ("STORE_GLOBAL", "DELETE_GLOBAL") for i in dis.get_instructions(c)):
            return True
        pending.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return False


def _is_deadline(e: BaseException) -> bool:
    """Whether a failed call ran out of time (a driver's gRPC deadline, or a worker's)."""
    return isinstance(e, exceptions.GetTimeoutError) or getattr(e, "code", None) == "DEADLINE_EXCEEDED"


def _format_of(v: common.ObjectValue) -> int:
    return v.inline.format if v.WhichOneof("location") == "inline" else v.shared.format


def _is_error_value(v: Optional[common.ObjectValue]) -> bool:
    return v is not None and _format_of(v) in (common.ERROR, common.ENGINE_ERROR)


def _is_value(v: Optional[common.ObjectValue]) -> bool:
    """Whether a cached entry is a value (not missing, not an error)."""
    return v is not None and not _is_error_value(v)


class _StoredError:
    """An error value; get raises it instead of returning it."""

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException):
        self.exception = exception


def _as_raisable(value) -> BaseException:
    if isinstance(value, exceptions.RayTaskError):
        return value.as_instanceof_cause()
    if isinstance(value, BaseException):
        return value
    return exceptions.RaySystemError(f"unexpected error value {value!r}")
