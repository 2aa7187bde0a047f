"""Identifier layout shared with the engine (see runtime-java/src/main/proto/ray/rpc/common.proto).

JobID 4 bytes, TaskID 24, ObjectID 28 = TaskID + little-endian u32 index, client ids 28.
"""

import itertools
import os
import struct

JOB_ID_SIZE = 4
TASK_ID_SIZE = 24
OBJECT_ID_SIZE = 28
UNIQUE_ID_SIZE = 28

_put_prefix = os.urandom(TASK_ID_SIZE - JOB_ID_SIZE)
_put_counter = itertools.count(1)


def new_task_id(job_id: bytes) -> bytes:
    """A fresh task id; its last four bytes are the job id, as in Ray."""
    return os.urandom(TASK_ID_SIZE - JOB_ID_SIZE) + job_id


def return_id(task_id: bytes, index: int) -> bytes:
    """Id of return value ``index`` (from 1) of a task."""
    return task_id + struct.pack("<I", index)


def new_put_id(job_id: bytes) -> bytes:
    """A fresh id for ray.put: a per-process prefix, the job's id (as in a task id, so the node
    knows whose object it is), and a counter with the top bit set."""
    return _put_prefix + job_id + struct.pack("<I", 0x80000000 | (next(_put_counter) & 0x7FFFFFFF))


def new_unique_id() -> bytes:
    return os.urandom(UNIQUE_ID_SIZE)


class BaseID:
    """An id as Ray's API hands it out (``JobID``, ``NodeID``, ...): binary() and hex()."""

    __slots__ = ("_binary",)

    def __init__(self, binary: bytes):
        self._binary = binary

    def binary(self) -> bytes:
        return self._binary

    def hex(self) -> str:
        return self._binary.hex()

    def is_nil(self) -> bool:
        return not any(self._binary)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.hex()})"

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._binary == self._binary

    def __hash__(self) -> int:
        return hash(self._binary)


class JobID(BaseID):
    __slots__ = ()


class NodeID(BaseID):
    __slots__ = ()


class TaskID(BaseID):
    __slots__ = ()


class ActorID(BaseID):
    __slots__ = ()
