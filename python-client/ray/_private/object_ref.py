"""ObjectRef: a reference to a value in the cluster, as returned by .remote() and ray.put."""

from __future__ import annotations

import threading
from typing import Optional

from ray._private import context


class ObjectRef:
    """A future for a value stored in the cluster.

    While an ObjectRef exists in any process, the value stays available. Pass it to tasks,
    store it in other objects, or read it with ``ray.get``.
    """

    __slots__ = ("_id", "_session", "__weakref__")

    def __init__(self, object_id: bytes, _counted: bool = False):
        """``_counted``: the node already counts this reference (a fresh put or task return),
        so only this process's own count goes up."""
        if not isinstance(object_id, bytes) or len(object_id) != 28:
            raise ValueError("ObjectRef needs a 28-byte binary id")
        self._id = object_id
        session = context.current_session()
        self._session = session
        if session is not None:
            session.outbox.add_ref(object_id, counted=_counted)

    def binary(self) -> bytes:
        return self._id

    def hex(self) -> str:
        return self._id.hex()

    def task_id(self):
        return self._id[:24]

    def __repr__(self) -> str:
        return f"ObjectRef({self._id.hex()})"

    def __eq__(self, other) -> bool:
        return isinstance(other, ObjectRef) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __del__(self):
        session = self._session
        if session is not None and session.connected:
            session.outbox.remove_ref(self._id)

    def __reduce__(self):
        _note_serialized_ref(self._id)
        return (_rebuild_object_ref, (self._id,))

    def __copy__(self):
        return ObjectRef(self._id)

    def __deepcopy__(self, memo):
        return ObjectRef(self._id)

    def future(self):
        """A concurrent.futures.Future that completes with the value."""
        import concurrent.futures

        import ray

        fut: concurrent.futures.Future = concurrent.futures.Future()

        def resolve():
            try:
                fut.set_result(ray.get(self))
            except BaseException as e:  # noqa: BLE001 - delivered through the future
                fut.set_exception(e)

        threading.Thread(target=resolve, daemon=True).start()
        return fut

    def as_future(self):
        """An asyncio.Future that completes with the value (or its error), on the current
        event loop (as Ray's ObjectRef.as_future)."""
        import asyncio

        return asyncio.wrap_future(self.future())

    def __await__(self):
        import asyncio

        return asyncio.wrap_future(self.future()).__await__()


# Refs serialized on this thread, collected by the serializer so that the enclosing value
# keeps them alive.
_serializing = threading.local()


def _note_serialized_ref(object_id: bytes) -> None:
    refs: Optional[list] = getattr(_serializing, "refs", None)
    if refs is not None:
        refs.append(object_id)


def _rebuild_object_ref(object_id: bytes) -> ObjectRef:
    return ObjectRef(object_id)
