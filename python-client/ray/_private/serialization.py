"""Turning values into framed bytes and back, with NumPy buffers kept out of band.

Frame layout (all integers little-endian; shared with docs/architecture.md):

    u32 buffer count n | u32 reserved | u64 pickle length
    n x (u64 offset, u64 length)          offsets from the frame start
    pickle bytes                           cloudpickle, protocol 5
    each buffer, starting on a 64-byte boundary

The same frame is sent inline in messages or written once into the shared-memory arena.
Reading an arena frame passes memoryviews of the arena to ``pickle.loads``, so NumPy arrays
come back as read-only views of shared memory: no copy.
"""

from __future__ import annotations

import pickle
import struct
from typing import Callable, List, Optional

import cloudpickle

from ray._private import object_ref as _object_ref

_HEADER = struct.Struct("<IIQ")
_BUFFER_ENTRY = struct.Struct("<QQ")
ALIGNMENT = 64


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) & ~(ALIGNMENT - 1)


class SerializedObject:
    """A value in framed form, not yet copied anywhere."""

    __slots__ = ("pickled", "buffers", "nested_refs", "size", "_layout")

    def __init__(self, pickled: bytes, buffers: List[memoryview], nested_refs: List[bytes]):
        self.pickled = pickled
        self.buffers = buffers
        self.nested_refs = nested_refs
        table_end = _HEADER.size + _BUFFER_ENTRY.size * len(buffers)
        offset = table_end + len(pickled)
        layout = []
        for b in buffers:
            offset = _align(offset)
            layout.append((offset, b.nbytes))
            offset += b.nbytes
        self._layout = layout
        self.size = offset

    def write_to(self, dest: memoryview) -> None:
        """Writes the frame into ``dest`` (at least ``size`` bytes, format 'B')."""
        n = len(self.buffers)
        _HEADER.pack_into(dest, 0, n, 0, len(self.pickled))
        pos = _HEADER.size
        for off, length in self._layout:
            _BUFFER_ENTRY.pack_into(dest, pos, off, length)
            pos += _BUFFER_ENTRY.size
        dest[pos : pos + len(self.pickled)] = self.pickled
        for (off, length), b in zip(self._layout, self.buffers):
            dest[off : off + length] = b

    def to_bytes(self) -> bytes:
        if not self.buffers:
            # Common small case: header + pickle, no padding to fill.
            return _HEADER.pack(0, 0, len(self.pickled)) + self.pickled
        out = bytearray(self.size)
        self.write_to(memoryview(out))
        return bytes(out)


def serialize(value) -> SerializedObject:
    """Pickles ``value``; raises whatever pickling raises (callers add context)."""
    buffers: List[pickle.PickleBuffer] = []
    previous = getattr(_object_ref._serializing, "refs", None)
    refs: List[bytes] = []
    _object_ref._serializing.refs = refs
    try:
        pickled = cloudpickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    finally:
        _object_ref._serializing.refs = previous
    views = []
    for b in buffers:
        try:
            views.append(b.raw())
        except BufferError:
            # Not contiguous: pickle this value in band instead.
            refs = []
            _object_ref._serializing.refs = refs
            try:
                pickled = cloudpickle.dumps(value, protocol=5)
            finally:
                _object_ref._serializing.refs = previous
            views = []
            break
    return SerializedObject(pickled, views, list(dict.fromkeys(refs)))


def deserialize(frame: memoryview, keepalive_factory: Optional[Callable] = None):
    """Rebuilds a value from a frame.

    ``keepalive_factory(frame) -> base`` may wrap the frame in an object whose lifetime tracks
    every view handed out (arena pins); out-of-band buffers are then slices of that base.
    """
    n, _, pickle_len = _HEADER.unpack_from(frame, 0)
    pos = _HEADER.size
    table = []
    for _ in range(n):
        table.append(_BUFFER_ENTRY.unpack_from(frame, pos))
        pos += _BUFFER_ENTRY.size
    pickled = frame[pos : pos + pickle_len]
    if n == 0:
        return pickle.loads(pickled)
    base = keepalive_factory(frame) if keepalive_factory is not None else frame
    buffers = [base[off : off + length] for off, length in table]
    return pickle.loads(pickled, buffers=buffers)
