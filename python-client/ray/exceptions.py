"""Exceptions raised by the Ray API, with Ray's names and class hierarchy."""

from __future__ import annotations

import os
from typing import Optional


class RayError(Exception):
    """Base class of every error the Ray API raises."""


class RaySystemError(RayError):
    """The runtime itself failed (a node is unreachable, a protocol step failed)."""

    def __init__(self, client_exc, traceback_str: Optional[str] = None):
        self.client_exc = client_exc
        self.traceback_str = traceback_str
        super().__init__(client_exc)

    def __str__(self):
        text = f"System error: {self.client_exc}"
        if self.traceback_str:
            text += f"\ntraceback: {self.traceback_str}"
        return text


class RayTaskError(RayError):
    """A task raised. ``ray.get`` raises an instance that is also of the task's exception class.

    Attributes:
        function_name: name of the task (or actor method) that raised.
        traceback_str: the formatted remote traceback.
        cause: the original exception, when it could be pickled.
        pid, ip: where it ran.
    """

    def __init__(
        self,
        function_name: str,
        traceback_str: str,
        cause: Optional[BaseException] = None,
        proctitle: Optional[str] = None,
        pid: Optional[int] = None,
        ip: Optional[str] = None,
        actor_repr: Optional[str] = None,
        actor_id: Optional[str] = None,
        cause_cls_name: Optional[str] = None,
    ):
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.cause = cause
        self.proctitle = proctitle or f"ray::{function_name}"
        self.pid = os.getpid() if pid is None else pid
        self.ip = ip or "127.0.0.1"
        self.actor_repr = actor_repr
        self.actor_id = actor_id
        self._cause_cls_name = cause_cls_name or (type(cause).__name__ if cause is not None else "Exception")
        super().__init__(function_name, traceback_str, cause, proctitle, pid, ip)

    def __reduce__(self):
        return (
            RayTaskError,
            (
                self.function_name,
                self.traceback_str,
                self.cause,
                self.proctitle,
                self.pid,
                self.ip,
                self.actor_repr,
                self.actor_id,
                self._cause_cls_name,
            ),
        )

    def _header(self) -> str:
        where = f"{self.proctitle}() (pid={self.pid}, ip={self.ip}"
        if self.actor_repr:
            where += f", actor_id={self.actor_id}, repr={self.actor_repr}"
        return where + ")"

    def __str__(self):
        return f"{self._header()}\n{self.traceback_str.rstrip()}"

    def as_instanceof_cause(self):
        """Returns an exception that is both this RayTaskError and of the cause's class.

        ``except ZeroDivisionError`` then catches a task's ZeroDivisionError, as in Ray.
        """
        cause = self.cause
        if cause is None or not isinstance(cause, Exception):
            return self
        cause_cls = type(cause)
        # Other Ray errors stay plain RayTaskErrors; a cancelled task's error is both, so
        # that `except TaskCancelledError` catches an interrupted task (as in Ray), and so is
        # a library's UserCodeException.
        if issubclass(cause_cls, RayError) and not issubclass(cause_cls, (TaskCancelledError, UserCodeException)):
            return self
        return _dual_class(cause_cls)(self)


_DUAL_CLASSES: dict = {}


def _dual_class(cause_cls):
    cls = _DUAL_CLASSES.get(cause_cls)
    if cls is not None:
        return cls

    def __init__(self, task_error):
        # Neither base's __init__ runs: the cause's may demand arguments we do not have.
        self.__dict__.update(task_error.__dict__)
        self.args = (task_error.cause,) if task_error.cause is not None else ()

    def __getattr__(self, name):
        cause = self.__dict__.get("cause")
        if cause is None:
            raise AttributeError(name)
        return getattr(cause, name)

    def __str__(self):
        return RayTaskError.__str__(self)

    def __reduce__(self):
        return RayTaskError.__reduce__(self)

    name = f"RayTaskError({cause_cls.__name__})"
    try:
        cls = type(
            name,
            (RayTaskError, cause_cls),
            {
                "__init__": __init__,
                "__getattr__": __getattr__,
                "__str__": __str__,
                "__reduce__": __reduce__,
                "__module__": "ray.exceptions",
            },
        )
    except TypeError:
        # Some classes cannot be combined (layout conflicts); fall back to a plain RayTaskError.
        cls = lambda task_error: task_error  # noqa: E731
    _DUAL_CLASSES[cause_cls] = cls
    return cls


class RayActorError(RayError):
    """An actor died or could not be created; raised by calls on it."""

    def __init__(self, cause=None, error_msg: Optional[str] = None, actor_id: Optional[str] = None):
        self.actor_id = actor_id
        self.error_msg = error_msg or "The actor died unexpectedly before finishing this task."
        self.cause = cause
        super().__init__(self.error_msg)

    def __str__(self):
        return self.error_msg


class ActorDiedError(RayActorError):
    """The actor is dead (killed, crashed, or its owner went away)."""


class ActorAlreadyExistsError(ValueError, RayError):
    """A named actor with this name already exists in the namespace."""


class ActorUnavailableError(RayActorError):
    """The actor is temporarily unreachable."""


class WorkerCrashedError(RayError):
    """The worker process running a task died."""

    def __init__(self, message: Optional[str] = None):
        super().__init__(message or "The worker died unexpectedly while executing this task.")


class TaskCancelledError(RayError):
    """The task was cancelled (ray.cancel, or a KeyboardInterrupt inside it).

    ``task_id``: the cancelled task's id (hex) when known; ``error_message``: extra detail.
    """

    def __init__(self, task_id=None, error_message: Optional[str] = None):
        self.task_id = task_id
        self.error_message = error_message
        super().__init__(*(a for a in (task_id, error_message) if a is not None))

    def __reduce__(self):
        return (TaskCancelledError, (self.task_id, self.error_message))

    def __str__(self):
        parts = []
        if self.task_id:
            parts.append(f"Task: {self.task_id} was cancelled.")
        if self.error_message:
            parts.append(self.error_message)
        return " ".join(parts)


class GetTimeoutError(RayError, TimeoutError):
    """ray.get or ray.wait did not finish within its timeout."""


class ObjectStoreFullError(RayError):
    """The object store has no room for a new object."""


class OutOfMemoryError(RayError):
    """A node ran out of memory."""


class ObjectLostError(RayError):
    """An object's value is gone (freed, or its node died)."""

    def __init__(self, object_ref_hex: str = "", owner_address: str = "", call_site: str = "", message=None):
        self.object_ref_hex = object_ref_hex
        self._message = message or f"Failed to retrieve object {object_ref_hex}."
        super().__init__(self._message)

    def __str__(self):
        return self._message


class ObjectFetchTimedOutError(ObjectLostError):
    """Fetching an object from another node timed out."""


class OwnerDiedError(ObjectLostError):
    """The process that owned an object died."""


class ObjectReconstructionFailedError(ObjectLostError):
    """A lost object could not be recomputed."""


class ReferenceCountingAssertionError(ObjectLostError):
    """An object was freed while still referenced."""


class UnserializableException(RayError):
    """A task's exception could not be rebuilt in this process; its text is kept."""

    def __init__(self, original_stack_trace: str):
        self.original_stack_trace = original_stack_trace
        super().__init__(original_stack_trace)

    def __str__(self):
        return (
            "Failed to deserialize exception. Refer to the original exception and traceback below:\n"
            + self.original_stack_trace
        )


class RuntimeEnvSetupError(RayError):
    """A runtime environment could not be set up."""


class CrossLanguageError(RayError):
    """An error raised by a task in another language."""


class PendingCallsLimitExceeded(RayError):
    """Too many calls are queued on an actor."""


class LocalRayletDiedError(RayError):
    """The node manager this process is attached to died."""


class NodeDiedError(RayError):
    """A node died."""


class _Unschedulable(RayError):
    _what = "task"

    def __init__(self, error_message: str = ""):
        self.error_message = error_message
        super().__init__(error_message)

    def __str__(self):
        return f"The {self._what} is not schedulable: {self.error_message}"


class TaskUnschedulableError(_Unschedulable):
    """A task cannot be scheduled (e.g. its NodeAffinitySchedulingStrategy(soft=False) names a
    node that is not alive)."""


class ActorUnschedulableError(_Unschedulable):
    """An actor cannot be scheduled."""

    _what = "actor"


class _PlacementGroupRemoved(RayError):
    _what = "task"

    def __init__(self, message: str = ""):
        self.message = message
        super().__init__(message)

    def __str__(self):
        return self.message or f"The placement group corresponding to this {self._what} has been removed."


class TaskPlacementGroupRemoved(_PlacementGroupRemoved):
    """The placement group a task was to run in was removed."""


class ActorPlacementGroupRemoved(_PlacementGroupRemoved):
    """The placement group an actor was to run in was removed."""

    _what = "Actor"


class AuthenticationError(RayError):
    """The cluster refused this process: its authentication token is missing or wrong."""

    def __init__(self, message: str = ""):
        self.message = message
        super().__init__(message)

    def __str__(self):
        return self.message


class UserCodeException(RayError):
    """An exception raised by user code that Ray runs for a library, e.g. the function of a Ray
    Data transform; the user's exception is its ``__cause__``."""


class RaySystemTimeoutError(RayError, TimeoutError):
    """An engine-side operation timed out."""


def from_engine_error(error_type: str, message: str) -> RayError:
    """Builds the exception for an error the engine stored in place of a value."""
    cls = globals().get(error_type)
    if not (isinstance(cls, type) and issubclass(cls, RayError)):
        return RaySystemError(f"{error_type}: {message}")
    if issubclass(cls, ObjectLostError):
        return cls(message=message)
    if issubclass(cls, RayActorError):
        return cls(error_msg=message)
    if cls is TaskCancelledError or issubclass(cls, _Unschedulable):
        return cls(error_message=message)
    if cls is RaySystemError:
        return cls(message)
    try:
        return cls(message)
    except TypeError:
        return RaySystemError(f"{error_type}: {message}")


__all__ = [
    "RayError",
    "RaySystemError",
    "RayTaskError",
    "RayActorError",
    "ActorDiedError",
    "ActorAlreadyExistsError",
    "ActorUnavailableError",
    "WorkerCrashedError",
    "TaskCancelledError",
    "GetTimeoutError",
    "ObjectStoreFullError",
    "OutOfMemoryError",
    "ObjectLostError",
    "ObjectFetchTimedOutError",
    "OwnerDiedError",
    "ObjectReconstructionFailedError",
    "ReferenceCountingAssertionError",
    "RuntimeEnvSetupError",
    "UnserializableException",
    "UserCodeException",
    "CrossLanguageError",
    "PendingCallsLimitExceeded",
    "LocalRayletDiedError",
    "NodeDiedError",
    "TaskUnschedulableError",
    "ActorUnschedulableError",
    "AuthenticationError",
    "TaskPlacementGroupRemoved",
    "ActorPlacementGroupRemoved",
]
