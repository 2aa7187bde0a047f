"""Values and calls between Python and Java, in Ray's cross-language format: msgpack of None,
booleans, integers, floats, strings, bytes, lists (tuples) and dicts, nested. NumPy arrays and
scalars cross as lists and numbers."""

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
    payload = RawPayload(encode(value))
    result = common.ObjectValue(object_id=object_id)
    if payload.size <= session.max_inline_bytes:
        result.inline.format = common.CROSS_LANGUAGE
        result.inline.payload = payload.data
        return result
    reply = session._write_to_arena(payload, object_id, common.CROSS_LANGUAGE, is_task_return=True)
    if not reply.not_needed:
        result.shared.payload_offset = reply.payload_offset
    result.shared.payload_size = payload.size
    result.shared.format = common.CROSS_LANGUAGE
    return result


def add_arg(session, arg: common.TaskArg, value):
    """One argument of a call into Java; returns what must stay alive until it is submitted."""
    from ray._private.object_ref import ObjectRef

    if isinstance(value, ObjectRef):
        arg.object_id = value.binary()
        return value
    payload = RawPayload(encode(value))
    if payload.size <= session.max_inline_bytes:
        arg.value.format = common.CROSS_LANGUAGE
        arg.value.payload = payload.data
        return None
    from ray._private import ids

    ref = session._store_owned(payload, ids.new_put_id(session.job_id), common.CROSS_LANGUAGE)
    arg.object_id = ref.binary()
    return ref
