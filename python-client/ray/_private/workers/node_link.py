"""A worker's link to its node: the channel (``WorkerChannelService/Attach``) and its RPCs.

The worker's Python speaks gRPC to the node itself, with grpcio, as a driver does; the worker
JVM hosts the interpreter (Jep) and watches the node's process. Measured on this 2-core machine:
grpc-java in a fresh worker JVM (channel set-up, the first connection, and C1 compiling it) was
~0.7 s of the ~1.4 s of CPU a worker took to start, and it ran interpreted for a worker's first
calls; grpcio's transport is native code, ready at once.

What goes where:

- Tasks: the node's ``execute`` messages and the pushes of direct callers (``PushServer``) meet
  in one queue, in arrival order; the task loop takes them with :meth:`next_task`.
- Reports: a task's end goes at once (:meth:`task_finished`); a direct call's end may wait for
  company (:meth:`task_finished_later`: sent with the next message, when the loop idles for
  LATER_REPORTS_S, or by the flusher).
- Output lines are buffered and sent by the flusher within FLUSH_DELAY_S, or before a report.
- RPCs made by task code (``ray.get`` in a task, ...) run on this link's RPC threads, never on
  the task's thread: ``ray.cancel`` interrupts a task with an asynchronous exception, which must
  not land inside grpc's Python code (it could leave a grpc lock held). The task's thread waits
  on a plain lock, in slices, so an interrupt is noticed within CANCEL_POLL_S.

Threads: sends are serialized by ``_send_lock`` (held reports go before any later message);
grpc's own thread consumes the outgoing queue; ``ray-node-reader`` reads the node's messages;
``ray-flusher`` runs only while something waits to be flushed.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from typing import List, Optional

import grpc

from ray._private.transport import GrpcTransport
from ray._private.waits import Pulse, until_none
from ray.exceptions import GetTimeoutError, RaySystemError
from ray.rpc import common_pb2 as common
from ray.rpc import worker_channel_pb2 as wc

ATTACH_METHOD = "ray.rpc.WorkerChannelService/Attach"
# Output lines and held reports go out at the latest this long after the first of them.
FLUSH_DELAY_S = 0.05
# A direct call's held report goes once the task loop has waited this long for more calls.
LATER_REPORTS_S = 0.005
MAX_LATER_REPORTS = 256
OUTPUT_FLUSH_LINES = 200
# How often a task blocked in an RPC looks for an interrupt (ray.cancel).
CANCEL_POLL_S = 0.05

FROM_NODE = 0
DIRECT_CALL = 1
STOP = None


class NodeLink:
    def __init__(self, worker_id: bytes, node_manager: str, control: str):
        self.worker_id = worker_id
        self.host = node_manager.rsplit(":", 1)[0]  # callers reach us on our node's address
        self.pid = 0
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._cancels: queue.SimpleQueue = queue.SimpleQueue()
        self._setup: queue.SimpleQueue = queue.SimpleQueue()
        self._outgoing: queue.SimpleQueue = queue.SimpleQueue()
        self._send_lock = threading.Lock()
        self._later: List[wc.WorkerMessage] = []
        self._lines: List[common.LogLine] = []
        self._flush_wake = Pulse()
        self._flush_scheduled = False
        self._closed = False
        self._grpc = GrpcTransport(node_manager, control)
        self._rpc_requests: queue.SimpleQueue = queue.SimpleQueue()
        self._rpc_idle = 0
        self._rpc_lock = threading.Lock()
        self._call = None

    # ------------------------------------------------------------------ channel

    def connect(self, direct_address: str, pid: int) -> wc.WorkerSetup:
        """Opens the channel, introduces this worker and waits for its setup; raises if the
        node went away first."""
        self.pid = pid
        self._call = self._grpc.method(ATTACH_METHOD, "bidi")(until_none(self._outgoing))
        hello = wc.WorkerHello(worker_id=self.worker_id, pid=pid, direct_address=direct_address)
        self._outgoing.put(wc.WorkerMessage(hello=hello).SerializeToString())
        threading.Thread(target=self._read, name="ray-node-reader", daemon=True).start()
        threading.Thread(target=self._flush_loop, name="ray-flusher", daemon=True).start()
        setup = self._setup.get()
        if setup is None:
            raise RaySystemError("the node manager closed the channel before the worker's setup")
        return setup

    def _read(self) -> None:
        try:
            for raw in self._call:
                m = wc.NodeMessage.FromString(raw)
                kind = m.WhichOneof("message")
                if kind == "execute":
                    self._tasks.put((FROM_NODE, 0, m.execute))
                elif kind == "cancel":
                    self._cancels.put(m.cancel)
                elif kind == "setup":
                    self._setup.put(m.setup)
                elif kind == "exit":
                    break
        except grpc.RpcError:
            pass  # the node is gone or closed the channel: stop
        self._setup.put(None)
        self._tasks.put(STOP)
        self._cancels.put(None)

    def next_task(self):
        """Blocks for the next task: (FROM_NODE, 0, TaskSpec) or (DIRECT_CALL, push id,
        serialized PushTaskRequest); None when the worker must stop."""
        try:
            item = self._tasks.get_nowait()
        except queue.Empty:
            item = None
            if self._later:
                # Held reports wait for company while calls keep coming; once the loop idles
                # they go (nobody waits on them: the callers have their answers).
                try:
                    item = self._tasks.get(timeout=LATER_REPORTS_S)
                except queue.Empty:
                    with self._send_lock:
                        self._flush_later()
            if item is None:
                item = self._tasks.get()
        if item is STOP:
            self._tasks.put(STOP)
        return item

    def pushed(self, push_id: int, request: bytes) -> None:
        """A caller pushed calls (PushServer's reader threads)."""
        self._tasks.put((DIRECT_CALL, push_id, request))

    def next_cancel(self) -> Optional[common.CancelTask]:
        c = self._cancels.get()
        if c is None:
            self._cancels.put(None)
        return c

    def task_finished(self, finished: common.TaskFinished) -> None:
        """Reports a finished task now; pending output goes first."""
        with self._send_lock:
            self._flush_lines()
            self._send(wc.WorkerMessage(task_finished=finished))

    def task_finished_later(self, finished: common.TaskFinished) -> None:
        """Reports a finished direct call with the next message (see module doc); its output
        lines go now, before its caller has the answer."""
        with self._send_lock:
            self._flush_lines()
            self._later.append(wc.WorkerMessage(task_finished=finished))
            if len(self._later) >= MAX_LATER_REPORTS:
                self._flush_later()
            else:
                self._schedule_flush()

    def flush_lines(self) -> None:
        with self._send_lock:
            self._flush_lines()

    def send_ops(self, ops: common.ClientOps) -> None:
        with self._send_lock:
            self._send(wc.WorkerMessage(ops=ops))

    def output(self, is_err: bool, source: str, text: str) -> None:
        """One line written to stdout or stderr; ``source`` names the task."""
        with self._send_lock:
            self._lines.append(common.LogLine(is_err=is_err, source=source, text=text, pid=self.pid))
            if len(self._lines) >= OUTPUT_FLUSH_LINES:
                self._flush_lines()
            else:
                self._schedule_flush()

    def close(self) -> None:
        """Sends what waits and ends the channel (bounded wait for the node to see it)."""
        with self._send_lock:
            self._flush_later()
            self._flush_lines()
            self._closed = True
        self._outgoing.put(None)
        self._flush_wake.pulse()
        deadline = time.monotonic() + 1.0
        while self._call is not None and self._call.is_active() and time.monotonic() < deadline:
            time.sleep(0.01)

    # Callers hold _send_lock for the ones below.

    def _send(self, m: wc.WorkerMessage) -> None:
        self._flush_later()
        if not self._closed:
            self._outgoing.put(m.SerializeToString())

    def _flush_later(self) -> None:
        later, self._later = self._later, []
        if not self._closed:
            for m in later:
                self._outgoing.put(m.SerializeToString())

    def _flush_lines(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            self._send(wc.WorkerMessage(output=wc.WorkerOutput(lines=lines)))

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._flush_wake.pulse()

    def _flush_loop(self) -> None:
        """Sends what waits within FLUSH_DELAY_S of its arrival; sleeps while nothing does."""
        while True:
            self._flush_wake.wait()
            if self._closed:
                return
            time.sleep(FLUSH_DELAY_S)
            with self._send_lock:
                self._flush_scheduled = False
                self._flush_later()
                self._flush_lines()

    # ------------------------------------------------------------------ RPCs

    def call(self, method: str, request: bytes, timeout: Optional[float]) -> bytes:
        """A unary RPC to the node or the control service, made on an RPC thread (see module
        doc); raises grpc.RpcError as grpc would."""
        done = Pulse()
        box: list = []
        self._rpc_requests.put((method, request, timeout, done, box))
        with self._rpc_lock:
            spawn = self._rpc_idle == 0
            if not spawn:
                self._rpc_idle -= 1
        if spawn:
            threading.Thread(target=self._rpc_loop, name="ray-rpc", daemon=True).start()
        try:
            while not done.wait(CANCEL_POLL_S):
                pass
        except BaseException:
            # Interrupted (ray.cancel): the RPC thread cancels the call.
            box.append(None)
            raise
        ok, value = box[0]
        if ok:
            return value
        raise value

    def _rpc_loop(self) -> None:
        while True:
            method, request, timeout, done, box = self._rpc_requests.get()
            if method is None:
                return
            try:
                future = self._grpc.method(method).future(request, timeout=timeout)
                while True:
                    try:
                        value = future.result(timeout=CANCEL_POLL_S)
                        break
                    except grpc.FutureTimeoutError:
                        if box:  # the caller was interrupted
                            future.cancel()
                            value = None
                            break
                box.append((True, value))
            except grpc.RpcError as e:
                if e.code() == grpc.StatusCode.UNAVAILABLE:
                    _node_lost(method, e)
                box.append((False, e))
            except Exception as e:  # noqa: BLE001 - reported to the caller
                box.append((False, e))
            done.pulse()
            with self._rpc_lock:
                self._rpc_idle += 1


def _node_lost(method: str, error) -> None:
    """The node (or the control service) cannot be reached: this worker ends now, as it does
    when the node's process exits. Its task must not end as if the task had failed: its callers
    learn from the node (or from their own lost connection) what happened."""
    err = sys.__stderr__  # the worker's log file (sys.stderr goes to the driver through the node)
    err.write(f"worker: {method} failed, the node is gone: {error.details()}\n")
    err.flush()
    os._exit(1)


class WorkerTransport:
    """The transport (see ray/_private/transport.py) of Python code inside a worker."""

    def __init__(self, link: NodeLink):
        self._link = link

    def call(self, method: str, request, reply_type, timeout: Optional[float] = None):
        try:
            reply = self._link.call(method, request.SerializeToString(), timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise GetTimeoutError(f"{method} timed out") from None
            raise RaySystemError(f"{method} failed: {e.code().name}: {e.details()}") from None
        return reply_type.FromString(reply)

    def close(self) -> None:
        pass
