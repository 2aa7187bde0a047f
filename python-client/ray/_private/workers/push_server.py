"""A worker's server for direct calls: callers push calls here and get their answers here.

Served from Python with grpcio, whose transport is native code: a worker that has just started
answers at full speed, where a path through the worker JVM would run interpreted until its JIT
warms up (40 new actors called 10 times each never get there).

One stream per caller (``CoreWorkerService/PushStream``). Its reader thread hands each push to
the task loop, in arrival order, through the link's task queue (where the node's tasks queue
too), under an id of this server's; the task loop runs the calls and answers with
:meth:`reply` (from any thread), which queues the reply for the stream's handler thread to send.

(grpcio's asyncio server was measured too: its completion-queue poller thread adds a hand-off
per message, and a worker spent ~20% more CPU per call than with this one.)

Threads: grpcio's pool runs each stream's handler (it sends); one reader thread per stream;
``_lock`` guards the table of unanswered pushes and the set of open streams.
"""

from __future__ import annotations

import itertools
import queue
import threading
from concurrent import futures
from typing import Dict, Set

import grpc

from ray._private import auth

PUSH_STREAM_METHOD = "/ray.rpc.CoreWorkerService/PushStream"
# Streams served at once (each holds a pool thread while open). A worker's callers are its
# job's drivers and, later, other workers: a few, rarely dozens.
MAX_STREAMS = 256
# How long a stopping worker gives its streams to send the replies already queued.
STOP_GRACE_S = 0.2
_END = None


class PushServer:
    def __init__(self, link, host: str):
        token = auth.process_token()
        self._link = link
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # push id -> the reply queue of the stream it came on
        self._pushes: Dict[int, queue.SimpleQueue] = {}
        self._streams: Set[queue.SimpleQueue] = set()
        self._stopping = False
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=MAX_STREAMS, thread_name_prefix="ray-push"),
            handlers=(_Handler(self),),
            maximum_concurrent_rpcs=MAX_STREAMS,
            interceptors=[auth.RefuseWithoutToken(token)] if token else None,
            options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)],
        )
        port = self._server.add_insecure_port(f"{host}:0")
        self._server.start()
        self.address = f"{host}:{port}"

    def reply(self, push_id: int, reply: bytes) -> None:
        """Answers a push with a serialized PushTaskReply (naming the push's call_id); from any
        thread."""
        with self._lock:
            replies = self._pushes.pop(push_id, None)
        if replies is not None:  # else its stream ended: the caller failed the push over
            replies.put(reply)

    def stop(self) -> None:
        """Ends every stream once the replies queued so far are sent: callers fail over the
        pushes not answered."""
        with self._lock:
            self._stopping = True
            for replies in self._streams:
                replies.put(_END)
        self._server.stop(grace=STOP_GRACE_S).wait(STOP_GRACE_S)

    def _serve(self, requests, context):
        """One caller's stream: this generator (on a pool thread) sends what the reader
        thread's pushes are answered with."""
        replies: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            if self._stopping:
                return
            self._streams.add(replies)
        context.add_callback(lambda: replies.put(_END))
        threading.Thread(target=self._read, args=(requests, replies), name="ray-push-reader", daemon=True).start()
        while True:
            reply = replies.get()
            if reply is _END:
                break
            yield reply
        with self._lock:  # pushes still unanswered: the caller fails them over
            self._streams.discard(replies)
            for push_id in [p for p, r in self._pushes.items() if r is replies]:
                del self._pushes[push_id]

    def _read(self, requests, replies: queue.SimpleQueue) -> None:
        try:
            for raw in requests:
                push_id = next(self._ids)
                with self._lock:
                    self._pushes[push_id] = replies
                self._link.pushed(push_id, raw)
        except grpc.RpcError:
            pass  # the caller went away
        except Exception:  # noqa: BLE001 - the worker is stopping under us
            pass
        replies.put(_END)


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, server: PushServer):
        self._method = grpc.stream_stream_rpc_method_handler(server._serve)

    def service(self, handler_call_details):
        if handler_call_details.method == PUSH_STREAM_METHOD:
            return self._method
        return None
