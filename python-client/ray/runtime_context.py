"""ray.get_runtime_context(): who and where the caller is (driver, task or actor)."""

from __future__ import annotations

import warnings
from typing import Any, Dict, Optional

from ray._private import context, ids
from ray._private.session import WORKER_MODE

_MODES = {WORKER_MODE: 1}  # Ray's numbers in its messages: 0 a driver, 1 a worker


def _deprecated(message: str) -> None:
    warnings.warn(message, DeprecationWarning, stacklevel=3)


class RuntimeContext:
    """What ray.get_runtime_context() returns; each call reads the current state."""

    def __init__(self, session):
        self._session = session

    # ------------------------------------------------------------------ ids

    def get_job_id(self) -> str:
        return self._session.job_id.hex()

    def get_node_id(self) -> str:
        return self._session.node_id.hex()

    def get_worker_id(self) -> str:
        return self._session.client_id.hex()

    def get_task_id(self) -> Optional[str]:
        tid = context.task_context.task_id
        return tid.hex() if tid else None

    def get_actor_id(self) -> Optional[str]:
        actor_id = self._actor_id()
        return actor_id.hex() if actor_id else None

    def get_actor_name(self) -> Optional[str]:
        runtime = self._actor()
        if runtime is not None:
            return runtime.actor_name
        creation = self._creation()
        return creation.actor_creation.name if creation is not None else None

    def get_namespace(self) -> str:
        return self._session.namespace

    @property
    def namespace(self) -> str:
        return self._session.namespace

    # Deprecated in Ray (with a warning), still used by libraries.

    @property
    def job_id(self) -> ids.JobID:
        _deprecated("Use get_job_id() instead")
        return ids.JobID(self._session.job_id)

    @property
    def node_id(self) -> ids.NodeID:
        _deprecated("Use get_node_id() instead")
        return ids.NodeID(self._session.node_id)

    @property
    def task_id(self) -> Optional[ids.TaskID]:
        _deprecated("Use get_task_id() instead")
        tid = context.task_context.task_id
        return ids.TaskID(tid) if tid else None

    @property
    def actor_id(self) -> Optional[ids.ActorID]:
        _deprecated("Use get_actor_id() instead")
        actor_id = self._actor_id()
        return ids.ActorID(actor_id) if actor_id else None

    def get(self) -> Dict[str, Any]:
        """Deprecated: the ids of the caller as a dict (job_id, node_id, namespace; task_id in a
        task; actor_id in an actor)."""
        _deprecated("Use get_xxx_id() methods to get relevant ids instead")
        out: Dict[str, Any] = {
            "job_id": ids.JobID(self._session.job_id),
            "node_id": ids.NodeID(self._session.node_id),
            "namespace": self._session.namespace,
        }
        if self._session.mode == WORKER_MODE:
            tid = context.task_context.task_id
            if tid:
                out["task_id"] = ids.TaskID(tid)
            actor_id = self._actor_id()
            if actor_id:
                out["actor_id"] = ids.ActorID(actor_id)
        return out

    # ------------------------------------------------------------------ the running task

    def get_task_name(self) -> Optional[str]:
        """The running task's name: the function's (or the name given in options), or
        ``Class.method`` for an actor call. None outside a task."""
        spec = context.task_context.spec
        return spec.name if spec is not None else None

    def get_task_function_name(self) -> Optional[str]:
        """``module.function`` of the running task (``module.Class.method`` for an actor call)."""
        spec = context.task_context.spec
        if spec is None:
            return None
        if spec.HasField("actor_task"):
            runtime = self._actor()
            prefix = runtime.function_prefix if runtime is not None else ""
            return f"{prefix}.{spec.actor_task.method_name}"
        return f"{spec.function.module_name}.{spec.function.function_name}"

    def get_assigned_resources(self) -> Dict[str, float]:
        """Resources reserved for the caller: the task's, or what the actor holds for its life
        (none by default: an actor needs a CPU to be placed but does not keep it)."""
        self._require_worker()
        spec = context.task_context.spec
        if spec is not None and not spec.HasField("actor_task") and not spec.HasField("actor_creation"):
            return dict(spec.resources)
        runtime = self._actor()
        if runtime is not None:
            return dict(runtime.resources)
        if spec is not None and spec.HasField("actor_creation"):
            return dict(spec.actor_creation.lifetime_resources)
        return {}

    def is_canceled(self) -> bool:
        """Whether ray.cancel reached the task running on this thread (for actor methods that
        stop early on request: a running ordered or threaded actor call is not interrupted)."""
        if self._session.mode != WORKER_MODE:
            raise RuntimeError(
                f"This method is only available when the process is a worker. Current mode: {self._session.mode}"
            )
        from ray._private.workers import cancellation

        runtime = self._actor()
        if runtime is not None and runtime.is_async:
            raise RuntimeError("This method is not supported in an async actor.")
        return cancellation.registry.is_cancelled(context.task_context.task_id)

    # ------------------------------------------------------------------ the current actor

    @property
    def current_actor(self):
        """A handle to the actor the caller runs in (weak: it does not keep the actor alive)."""
        from ray.actor import ActorHandle

        runtime = self._actor()
        if runtime is not None and runtime.actor_id:
            return ActorHandle._weak(runtime.handle_state())
        creation = self._creation()
        if creation is None:
            raise RuntimeError("This method is only available in an actor.")
        from ray._private.workers import actor_runtime

        cls = self._session.function_for_call(creation.function.function_id)
        return ActorHandle._weak(actor_runtime.creating_handle_state(creation, cls))

    @property
    def was_current_actor_reconstructed(self) -> bool:
        """Whether this actor was restarted (its worker died and it was created again)."""
        self._require_worker()
        runtime = self._actor()
        if runtime is not None:
            return runtime.reconstructed
        creation = self._creation()
        assert creation is not None, "This method should't be called inside Ray tasks."
        return creation.attempt > 0

    # ------------------------------------------------------------------ helpers

    def _actor(self):
        if self._session.mode != WORKER_MODE:
            return None
        from ray._private.workers import actor_runtime

        return actor_runtime.current()

    @staticmethod
    def _creation():
        """The creation spec while an actor's __init__ runs on this thread, else None."""
        spec = context.task_context.spec
        return spec if spec is not None and spec.HasField("actor_creation") else None

    def _actor_id(self) -> Optional[bytes]:
        runtime = self._actor()
        if runtime is not None and runtime.actor_id:
            return runtime.actor_id
        creation = self._creation()
        return creation.actor_creation.actor_id if creation is not None else None

    def _require_worker(self) -> None:
        assert self._session.mode == WORKER_MODE, (
            "This method is only available when the process is a worker. "
            f"Current mode: {_MODES.get(self._session.mode, 0)}"
        )
