"""Building and submitting task specs: shared by remote functions, actor creation and calls."""

from __future__ import annotations

import functools
import os
import sys
from typing import Optional, Union

from ray._private import context, ids, serialization
from ray._private.object_ref import ObjectRef
from ray.rpc import common_pb2 as common


@functools.cache
def descriptor_module(module: Optional[str]) -> str:
    """The module name a task's function descriptor shows (get_task_function_name): for code in
    the driver's script, the script's name rather than ``__main__``, as in Ray."""
    if module == "__main__":
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        if main_file:
            return os.path.splitext(os.path.basename(main_file))[0]
    return module or ""


class ExportedOnce:
    """The id of something exported to the control service, once per session (job)."""

    __slots__ = ("_session", "_id")

    def __init__(self):
        self._session = None
        self._id = b""

    def get(self, session, target) -> bytes:
        if self._session is not session:
            self._id = session.export_function(target)
            self._session = session
        return self._id


def submit(session, spec: common.TaskSpec, args, kwargs, callee: str, concurrency: int = 1) -> None:
    """Adds the call's arguments to ``spec`` and queues it for the node (or pushes an actor
    call to the actor's worker; ``concurrency``: how many of its calls may run at once)."""
    parent = context.task_context.task_id
    if parent:
        # Submitted by a running task: ray.cancel(recursive=True) of that task reaches it.
        spec.parent_task_id = parent
    keep_alive = [_add_arg(session, spec.args.add(), value, "", callee) for value in args]
    for key, value in kwargs.items():
        keep_alive.append(_add_arg(session, spec.args.add(), value, key, callee))
    direct = session.direct
    if direct is None or spec.HasField("actor_creation") or spec.streaming:
        # A streaming generator's items are reported to the node, which its caller reads them from.
        session.submit(spec)
    elif spec.HasField("actor_task"):
        if not direct.submit(spec, concurrency):
            session.submit(spec)
    elif not direct.submit_task(spec):
        session.submit(spec)
    del keep_alive  # large arguments were put into the store; the node holds them now


def return_refs(task_id: bytes, num_returns: int) -> Union[None, ObjectRef, list]:
    """What .remote() returns: None, one ObjectRef, or a list (refs the node already counts)."""
    refs = [ObjectRef(ids.return_id(task_id, i), _counted=True) for i in range(1, num_returns + 1)]
    if num_returns == 0:
        return None
    return refs[0] if num_returns == 1 else refs


def _add_arg(session, arg: common.TaskArg, value, keyword: str, callee: str) -> Optional[ObjectRef]:
    """Fills one TaskArg; returns what must stay alive until the task is submitted."""
    if keyword:
        arg.keyword = keyword
    if isinstance(value, ObjectRef):
        arg.object_id = value.binary()
        return value
    try:
        sobj = serialization.serialize(value)
    except Exception as e:  # noqa: BLE001 - any pickling failure is the caller's TypeError
        raise TypeError(
            f"Could not serialize the argument {value!r} for a task or actor {callee}: {type(e).__name__}: {e}"
        ) from e
    if sobj.size <= session.max_inline_bytes:
        arg.value.format = common.PICKLE5
        arg.value.payload = sobj.to_bytes()
        arg.value.nested_refs.extend(sobj.nested_refs)
        return None
    # Large arguments go to the object store once; the task refers to them.
    ref = session.put_serialized(sobj)
    arg.object_id = ref.binary()
    return ref
