"""How a client reaches the engine's services.

A *transport* sends one protobuf request to a method named like
``ray.rpc.NodeManagerService/GetObjects`` and returns the parsed reply. Drivers use gRPC
directly; Python inside a worker makes the same calls on helper threads (workers/node_link.py),
so that ray.cancel never interrupts grpc's own code. Everything above this module is
transport-agnostic.
"""

from __future__ import annotations

import _signal  # the C module: `signal`'s wrappers convert to enums on every call (~15 us each)
import _thread
import threading
from typing import Optional

import grpc

from ray._private import auth
from ray.exceptions import RaySystemError

MAX_MESSAGE_BYTES = 512 << 20
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.enable_http_proxy", 0),
]
CONTROL_SERVICE = "ray.rpc.ControlService/"


class TransportError(RaySystemError):
    """A call could not be completed; ``code`` is the gRPC status name."""

    def __init__(self, code: str, details: str, address: str = ""):
        self.code = code
        self.details = details
        if code == "UNAUTHENTICATED":
            text = (
                f"The Ray cluster{' at ' + address if address else ''} refused this process: its "
                f"authentication token is missing or wrong. Give the cluster's token with RAY_AUTH_TOKEN "
                f"(`ray get-auth-token` on the head's machine prints it). ({details})"
            )
        elif code == "UNAVAILABLE":
            text = (
                f"Lost the connection to the Ray node{' at ' + address if address else ''}: it has stopped or "
                f"cannot be reached. Call ray.shutdown() and ray.init() to start again. ({details})"
            )
        else:
            text = f"{code}: {details}"
        super().__init__(text)


_SIGINT = _signal.SIGINT


class deferred_sigint:
    """Holds back Ctrl-C on the main thread for the body; delivers it right after.

    Python runs signal handlers only on the main thread, between bytecodes, so elsewhere
    nothing needs deferring. Blocking SIGINT with pthread_sigmask would not do: the kernel then
    delivers it to another thread (grpc's, ours), whose C handler still flags it for the main
    thread's next bytecode. Swapping the Python-level handler does: the stand-in only records
    the signal, and on exit the previous handler runs with it (the default one raises
    KeyboardInterrupt there, in the caller's code). Handlers that are not Python callables
    (SIG_IGN, SIG_DFL) raise nothing, so they are left alone. Nesting works: an inner stand-in
    hands a caught signal to the outer one.
    """

    def __enter__(self):
        self._previous = None
        self._caught = False
        self._frame = None
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = _signal.getsignal(_SIGINT)
        if callable(previous):
            self._previous = previous
            _signal.signal(_SIGINT, self._record)
        return self

    def _record(self, signum, frame):
        self._caught = True
        self._frame = frame

    def __exit__(self, *exc):
        previous = self._previous
        if previous is None:
            return False
        self._previous = None
        _signal.signal(_SIGINT, previous)
        if self._caught:
            frame, self._frame = self._frame, None
            previous(_SIGINT, frame)
        return False


def _identity(b):
    return b


class GrpcTransport:
    def __init__(self, node_manager_address: str, control_address: str):
        self.node_manager_address = node_manager_address
        self.control_address = control_address
        self._nm = auth.channel(node_manager_address, _CHANNEL_OPTIONS)
        # The head's node-manager port serves the control service too.
        self._control = (
            self._nm if control_address == node_manager_address else auth.channel(control_address, _CHANNEL_OPTIONS)
        )
        self._methods = {}

    def method(self, name: str, kind: str = "unary"):
        """The callable for ``name`` (e.g. ``ray.rpc.NodeManagerService/GetObjects``): bytes in,
        bytes out; ``kind`` is "unary", "stream" (server-streaming) or "bidi"."""
        key = (name, kind)
        m = self._methods.get(key)
        if m is None:
            channel = self._control if name.startswith(CONTROL_SERVICE) else self._nm
            factory = {"unary": channel.unary_unary, "stream": channel.unary_stream, "bidi": channel.stream_stream}[
                kind
            ]
            m = factory("/" + name, request_serializer=_identity, response_deserializer=_identity)
            self._methods[key] = m
        return m

    def call(self, method: str, request, reply_type, timeout: Optional[float] = None):
        try:
            data = self.method(method)(request.SerializeToString(), timeout=timeout)
        except grpc.RpcError as e:
            raise TransportError(e.code().name, e.details() or "", self._address_of(method)) from None
        return reply_type.FromString(data)

    def _address_of(self, method: str) -> str:
        return self.control_address if method.startswith(CONTROL_SERVICE) else self.node_manager_address

    def call_interruptible(self, method: str, request, reply_type, timeout: Optional[float] = None):
        """Like call, but Ctrl-C cancels the call instead of waiting for it.

        Invariant: a KeyboardInterrupt never lands inside grpc's Python code. grpc takes
        Python-level locks there (threading.Condition, whose __enter__ is a Python frame), and an
        interrupt between their acquire and the ``with`` body leaves a channel lock held forever:
        shutdown then hangs on it and the engine, its workers and the arena stay. So every grpc
        step (starting the call, adding the callback, reading the result, cancelling) runs with
        SIGINT deferred, and the wait itself is on a plain lock released by grpc's callback:
        acquiring it is atomic and interruptible, outside grpc.
        """
        done = _thread.allocate_lock()
        done.acquire()
        future = None
        try:
            with deferred_sigint():
                future = self.method(method).future(request.SerializeToString(), timeout=timeout)
                future.add_done_callback(lambda _: done.release())
            done.acquire()  # Ctrl-C raises KeyboardInterrupt here, with no grpc lock held
            with deferred_sigint():
                try:
                    data = future.result()
                except grpc.RpcError as e:
                    raise TransportError(e.code().name, e.details() or "", self._address_of(method)) from None
        except BaseException:
            if future is not None:
                with deferred_sigint():
                    future.cancel()
            raise
        return reply_type.FromString(data)

    def stream(self, method: str, request, reply_type):
        """Starts a server-streaming call; returns (call, iterator of parsed replies)."""
        call = self.method(method, "stream")(request.SerializeToString())
        return call, _replies(call, reply_type)

    def bidi(self, method: str, requests, reply_type):
        """Starts a bidirectional stream fed by ``requests`` (an iterator of messages).

        Returns (call, iterator of parsed replies); the iterator ends when the server completes.
        """
        call = self.method(method, "bidi")(r.SerializeToString() for r in requests)
        return call, _replies(call, reply_type)

    def close(self) -> None:
        self._nm.close()
        if self._control is not self._nm:
            self._control.close()


def _replies(call, reply_type):
    """Parsed messages of a response stream; a cancelled stream just ends."""
    try:
        for data in call:
            yield reply_type.FromString(data)
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.CANCELLED:
            raise TransportError(e.code().name, e.details() or "") from None
