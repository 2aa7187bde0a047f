"""Generator tasks: ``num_returns="streaming"`` (an ObjectRefGenerator the caller iterates while
the task still runs) and ``num_returns="dynamic"`` (one ref to the list of refs, once it ends).

A streaming task's worker stores each value it yields as the task's next return and reports it
to the node; the caller asks the node for item 1, 2, ... in turn (NextGeneratorItem), and gets
StopIteration once the task has ended without another. A generator that raises yields its error
as its last ref (ray.get raises it), as in Ray.
"""

from __future__ import annotations

import asyncio
from typing import List, Optional

from ray._private import context, ids
from ray._private.object_ref import ObjectRef
from ray.rpc import common_pb2 as common


class ObjectRefGenerator:
    """The refs a streaming generator task yields, in order, as they are produced."""

    def __init__(self, task_id: bytes, owner):
        self._task_id = task_id
        self._owner = owner  # the session that submitted the task
        self._next_index = 1
        self._finished = False

    def __iter__(self) -> ObjectRefGenerator:
        return self

    def __next__(self) -> ObjectRef:
        return self._next_sync()

    def _next_sync(self, timeout_s: Optional[float] = None) -> ObjectRef:
        """The next ref; StopIteration once the task has ended. With ``timeout_s``, raises
        ``ray.exceptions.GetTimeoutError`` (as a nil wait would) if none came in time."""
        from ray import exceptions

        if self._finished:
            raise StopIteration
        session = context.require_session()
        state = session.next_generator_item(self._task_id, self._next_index, timeout_s)
        if state == "ended":
            self._finished = True
            raise StopIteration
        if state == "timeout":
            raise exceptions.GetTimeoutError(f"No item of the generator within {timeout_s} s.")
        ref = ObjectRef(ids.return_id(self._task_id, self._next_index), _counted=True)
        self._next_index += 1
        return ref

    def __aiter__(self) -> ObjectRefGenerator:
        return self

    async def __anext__(self) -> ObjectRef:
        # StopIteration cannot cross a Future: the thread hands back None at the end instead.
        ref = await asyncio.get_running_loop().run_in_executor(None, self._next_or_none)
        if ref is None:
            raise StopAsyncIteration
        return ref

    def _next_or_none(self) -> Optional[ObjectRef]:
        try:
            return self._next_sync()
        except StopIteration:
            return None

    def is_finished(self) -> bool:
        """Whether the generator was read to its end."""
        return self._finished

    def task_id(self):
        from ray._private.ids import TaskID

        return TaskID(self._task_id)

    def __repr__(self) -> str:
        return f"ObjectRefGenerator(task_id={self._task_id.hex()})"

    def __reduce__(self):
        raise TypeError("An ObjectRefGenerator cannot be passed to other tasks or actors; pass its refs instead.")

    def __del__(self):
        session = self._owner
        if session is None or not getattr(session, "connected", False):
            return
        try:
            drop = common.DropGenerator(task_id=self._task_id, consumed=self._next_index - 1)
            session.outbox.action(common.ClientAction(drop_generator=drop))
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class DynamicObjectRefGenerator:
    """What a ``num_returns="dynamic"`` task's ref holds: the refs of the values it yielded."""

    def __init__(self, refs: List[ObjectRef]):
        self._refs = list(refs)

    def __iter__(self):
        return iter(self._refs)

    def __len__(self) -> int:
        return len(self._refs)

    def __repr__(self) -> str:
        return f"DynamicObjectRefGenerator({len(self._refs)} refs)"
