"""Values and calls between Python and Java, in Ray's cross-language format: msgpack of None,
booleans, integers, floats, strings, bytes, lists (tuples) and dicts, nested; NumPy scalars as
numbers. A NumPy array (at the top level) crosses as an ARRAY payload, a header and its raw
elements, which the receiver reads in place (Java: a primitive array, or a DoubleBuffer view of
shared memory); nested in a list or dict it crosses as a list."""

from __future__ import annotations

import hashlib
from typing import Any

import msgpack

from ray.rpc import common_pb2 as common


def _default(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(
        f"A value of type {type(value).__name__} cannot cross to Java: cross-language values are None, bools, "
        "numbers, str, bytes, lists and dicts of those"
    )


# ---- arrays: a header, then the raw elements (read in place by the receiver)

ARRAY_MAGIC = b"RAYARR01"
_KINDS = {"f": (4, 8), "i": (1, 2, 4, 8), "u": (1,), "b": (1,)}


def array_supported(value) -> bool:
    import numpy as np

    return (
        isinstance(value, np.ndarray)
        and value.dtype.kind in _KINDS
        and value.dtype.itemsize in _KINDS[value.dtype.kind]
        and value.dtype.byteorder in ("=", "<", "|")
    )


def _array_header(arr) -> bytes:
    import struct

    head = ARRAY_MAGIC + struct.pack("<cBB5x", arr.dtype.kind.encode(), arr.dtype.itemsize, arr.ndim)
    head += struct.pack(f"<{arr.ndim}q", *arr.shape)
    return head + b"\0" * (-len(head) % 64)


class ArrayPayload:
    """A NumPy array as an ARRAY payload: written once, straight into its destination."""

    __slots__ = ("array", "header", "size", "nested_refs")

    def __init__(self, array):
        import numpy as np

        self.array = np.ascontiguousarray(array)
        self.header = _array_header(self.array)
        self.size = len(self.header) + self.array.nbytes
        self.nested_refs = []

    def write_to(self, dest: memoryview) -> None:
        n = len(self.header)
        dest[:n] = self.header
        dest[n : self.size] = memoryview(self.array).cast("B")

    def to_bytes(self) -> bytes:
        return self.header + self.array.tobytes()


def decode_array(frame, base=None):
    """The array an ARRAY payload holds: a view of ``frame`` (``base``, if given, is what the
    view keeps alive: a pinned arena region)."""
    import struct

    import numpy as np

    frame = memoryview(frame)
    if bytes(frame[:8]) != ARRAY_MAGIC:
        raise ValueError("not an array payload")
    kind, itemsize, ndim = struct.unpack_from("<cBB", frame, 8)
    shape = struct.unpack_from(f"<{ndim}q", frame, 16)
    offset = 16 + 8 * ndim
    offset += -offset % 64
    dtype = np.dtype(f"<{kind.decode()}{itemsize}") if kind != b"b" else np.dtype(bool)
    source = base if base is not None else np.frombuffer(frame, dtype=np.uint8)
    count = int(np.prod(shape)) if ndim else 1
    return source[offset : offset + count * itemsize].view(dtype).reshape(shape)


def encode(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True, default=_default)


def decode(payload) -> Any:
    return msgpack.unpackb(bytes(payload), raw=False, strict_map_key=False)


class RawPayload:
    """Encoded bytes, stored as they are (the shape session's arena writes expect)."""

    __slots__ = ("data", "size", "nested_refs")

    def __init__(self, data: bytes):
        self.data = data
        self.size = len(data)
        self.nested_refs = []

    def write_to(self, dest: memoryview) -> None:
        dest[: self.size] = self.data

    def to_bytes(self) -> bytes:
        return self.data


def function_id(language: str, *names: str) -> bytes:
    """A stable id for a function of the other language (its scheduling class)."""
    return hashlib.sha1(f"{language}:{'.'.join(names)}".encode()).digest()


def store(session, value, object_id: bytes) -> common.ObjectValue:
    """A task's return value for a caller in the other language (inline, or in the arena)."""
    payload, fmt = payload_of(value)
    result = common.ObjectValue(object_id=object_id)
    if payload.size <= session.max_inline_bytes:
        result.inline.format = fmt
        result.inline.payload = payload.to_bytes()
        return result
    reply = session._write_to_arena(payload, object_id, fmt, is_task_return=True)
    if not reply.not_needed:
        result.shared.payload_offset = reply.payload_offset
    result.shared.payload_size = payload.size
    result.shared.format = fmt
    return result


def payload_of(value):
    """(payload, format) of a value for the other language: an array as ARRAY, else msgpack."""
    if array_supported(value):
        return ArrayPayload(value), common.ARRAY
    return RawPayload(encode(value)), common.CROSS_LANGUAGE


def add_arg(session, arg: common.TaskArg, value):
    """One argument of a call into Java; returns what must stay alive until it is submitted."""
    from ray._private.object_ref import ObjectRef

    if isinstance(value, ObjectRef):
        arg.object_id = value.binary()
        return value
    payload, fmt = payload_of(value)
    if payload.size <= session.max_inline_bytes:
        arg.value.format = fmt
        arg.value.payload = payload.to_bytes()
        return None
    from ray._private import ids

    ref = session._store_owned(payload, ids.new_put_id(session.job_id), fmt)
    arg.object_id = ref.binary()
    return ref
