"""The node's shared-memory arena, as seen from Python (drivers and workers).

The node manager (Java, Chronicle Bytes) creates the arena file, allocates space and writes
object headers; Python maps the same file once, writes payloads into space the node reserved,
and reads sealed payloads in place. Layout: io.ray.shm.ArenaLayout and docs/architecture.md.
"""

from __future__ import annotations

import mmap
import os
import struct
import weakref
from typing import Callable

ARENA_MAGIC = int.from_bytes(b"RAYJVMAR", "little")
OBJECT_MAGIC = int.from_bytes(b"RAYJVMOB", "little")
OBJECT_HEADER_SIZE = 64
STATE_SEALED = 2
_OBJECT_HEADER = struct.Struct("<QII Q 28s")
_ARENA_HEADER = struct.Struct("<QIIQQI")

# Linux 5.14+: fault a range in with one call instead of one fault per page. Python 3.11's mmap
# module does not name it; older kernels reject it with EINVAL and we stop asking.
_MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)


class ArenaError(RuntimeError):
    pass


class Arena:
    """A mapping of one node's arena file. Never unmapped while views of it are alive."""

    def __init__(self, path: str, capacity: int):
        fd = os.open(path, os.O_RDWR)
        try:
            self._mm = mmap.mmap(fd, capacity, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self.path = path
        self.capacity = capacity
        self._view = memoryview(self._mm)
        self._readonly = self._view.toreadonly()
        magic, version, header_size, cap, _, _ = _ARENA_HEADER.unpack_from(self._mm, 0)
        if magic != ARENA_MAGIC or header_size != OBJECT_HEADER_SIZE or cap != capacity:
            raise ArenaError(f"{path} is not an arena of this runtime (magic {magic:#x}, version {version})")
        self._populate_ok = True

    def writable(self, payload_offset: int, size: int) -> memoryview:
        """The reserved payload space of an object being created."""
        if self._populate_ok and size >= (4 << 20):
            try:
                start = payload_offset & ~(mmap.PAGESIZE - 1)
                self._mm.madvise(_MADV_POPULATE_WRITE, start, payload_offset + size - start)
            except OSError:
                self._populate_ok = False
        return self._view[payload_offset : payload_offset + size]

    def readable(self, payload_offset: int, size: int, object_id: bytes) -> memoryview:
        """A read-only view of a sealed object's payload, after checking its header."""
        header = payload_offset - OBJECT_HEADER_SIZE
        magic, state, _fmt, payload_size, oid = _OBJECT_HEADER.unpack_from(self._mm, header)
        if magic != OBJECT_MAGIC or state != STATE_SEALED or oid != object_id or payload_size != size:
            raise ArenaError(
                f"arena header at {header} does not describe sealed object {object_id.hex()}"
                f" (magic {magic:#x}, state {state}, id {oid.hex()})"
            )
        return self._readonly[payload_offset : payload_offset + size]

    def close(self) -> None:
        """Drops this mapping; the kernel unmaps it once the last view is gone."""
        self._readonly = None
        self._view = None
        try:
            self._mm.close()
        except BufferError:
            pass  # user code still holds arrays backed by the arena: leave it mapped
        self._mm = None


def pinned_base(frame: memoryview, on_release: Callable[[], None]):
    """Wraps a frame in a NumPy array whose death calls ``on_release``.

    Every array deserialized from the frame holds (a slice of) this base, so the node keeps the
    object's memory while any of them is alive.
    """
    import numpy as np

    base = np.frombuffer(frame, dtype=np.uint8)
    weakref.finalize(base, on_release)
    return base
