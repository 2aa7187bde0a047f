"""The cluster's token (Ray's token authentication).

Every gRPC call between a cluster's processes carries ``authorization: Bearer <token>``, and
every server of the cluster refuses calls without it. ``ray start --head`` (and ``ray.init()``
when it starts a cluster of its own) makes a token; processes on the same machine find it in
``$RAY_TMPDIR/ray_auth_token`` (mode 0600, removed by ``ray stop``), others take it from
``RAY_AUTH_TOKEN`` (``ray get-auth-token`` prints it). ``RAY_AUTH_MODE=disabled`` turns it off.
Processes the runtime starts (nodes, workers) get it in their environment.
"""

from __future__ import annotations

import os
import secrets
from typing import Optional, Tuple

import grpc

TOKEN_ENV = "RAY_AUTH_TOKEN"
MODE_ENV = "RAY_AUTH_MODE"
_KEY = "authorization"


def enabled() -> bool:
    return os.environ.get(MODE_ENV, "token").strip().lower() != "disabled"


def new_token() -> str:
    return secrets.token_hex(32)


def token_file(temp_root: str) -> str:
    return os.path.join(temp_root, "ray_auth_token")


def write_token(path: str, token: str) -> None:
    """Writes the token readable by this user only (replacing any older file)."""
    tmp = f"{path}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, token.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def address_token_file(temp_root: str, address: str) -> str:
    """Where a cluster started on this machine leaves its token, by its control address."""
    return os.path.join(temp_root, "auth_tokens", address.replace(":", "_").replace("/", "_"))


def record_token(temp_root: str, address: str, token: str) -> None:
    os.makedirs(os.path.join(temp_root, "auth_tokens"), mode=0o700, exist_ok=True)
    write_token(address_token_file(temp_root, address), token)


def forget_token(temp_root: str, address: str) -> None:
    try:
        os.remove(address_token_file(temp_root, address))
    except OSError:
        pass


def find_token(temp_root: str, address: Optional[str] = None) -> Optional[str]:
    """The token to present to the cluster at ``address``: ``RAY_AUTH_TOKEN``, else the one a
    cluster started on this machine left for that address, else the one ``ray start`` left."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    paths = ([address_token_file(temp_root, address)] if address else []) + [token_file(temp_root)]
    for path in paths:
        try:
            with open(path) as f:
                found = f.read().strip()
        except OSError:
            continue
        if found:
            return found
    return None


_process_token: Optional[str] = None
_chosen = False


def use(token: Optional[str]) -> None:
    """The token this process presents from now on (a driver sets it in ray.init)."""
    global _process_token, _chosen
    _process_token = token if enabled() else None
    _chosen = True


def process_token() -> Optional[str]:
    """The token this process presents: the one ray.init chose, else RAY_AUTH_TOKEN (a worker's
    node sets it)."""
    if _chosen:
        return _process_token
    if not enabled():
        return None
    return os.environ.get(TOKEN_ENV, "").strip() or None


def metadata(token: Optional[str]) -> Tuple[Tuple[str, str], ...]:
    return ((_KEY, f"Bearer {token}"),) if token else ()


class _AddToken(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds the token to every call of a channel."""

    def __init__(self, token: str):
        self._md = metadata(token)

    def _details(self, details):
        md = tuple(details.metadata or ()) + self._md
        return _Details(
            details.method, details.timeout, md, details.credentials, details.wait_for_ready, details.compression
        )

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation, details, requests):
        return continuation(self._details(details), requests)

    def intercept_stream_stream(self, continuation, details, requests):
        return continuation(self._details(details), requests)


class _Details(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method = method
        self.timeout = timeout
        self.metadata = metadata
        self.credentials = credentials
        self.wait_for_ready = wait_for_ready
        self.compression = compression


def channel(address: str, options, token: Optional[str] = None) -> grpc.Channel:
    """An insecure channel whose calls carry ``token`` (default: this process's; a plain
    channel when there is none)."""
    if token is None:
        token = process_token()
    ch = grpc.insecure_channel(address, options=options)
    return grpc.intercept_channel(ch, _AddToken(token)) if token else ch


class RefuseWithoutToken(grpc.ServerInterceptor):
    """Refuses calls that do not carry the token (for the servers the Python side runs)."""

    def __init__(self, token: str):
        self._expected = f"Bearer {token}"

        def refuse(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "Authentication token is missing or incorrect")

        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)
        self._stream_refusal = grpc.stream_stream_rpc_method_handler(refuse)

    def intercept_service(self, continuation, handler_call_details):
        for key, value in handler_call_details.invocation_metadata or ():
            if key == _KEY and secrets.compare_digest(value, self._expected):
                return continuation(handler_call_details)
        return self._stream_refusal
