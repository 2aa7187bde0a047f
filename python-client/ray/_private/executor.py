"""Runs tasks inside a worker: plain functions, actor creation, actor method calls.

Each task goes through three steps: *prepare* (find the callable, resolve arguments),
*invoke* (run user code, on this thread or, for threaded and async actors, concurrently),
*complete* (store the returns or the error and build the TaskFinished message).
"""

from __future__ import annotations

import os
import threading
import traceback
from typing import Callable, Optional, Tuple

from ray import exceptions
from ray._private import context, ids, serialization
from ray._private.workers import actor_runtime
from ray.rpc import common_pb2 as common
from ray.rpc import worker_channel_pb2 as wc

EXIT_ACTOR_MESSAGE = "The actor is dead because it called exit_actor()."


class _Prepared:
    __slots__ = ("call", "log_name")

    def __init__(self, call: Callable[[], object], log_name: str):
        self.call = call
        self.log_name = log_name


class TaskExecutor:
    def __init__(self, session):
        self._session = session

    # ------------------------------------------------------------------ entry points

    def execute(self, spec: common.TaskSpec):
        """Runs a task to completion on this thread.

        Returns (TaskFinished, result). The caller keeps ``result`` alive until TaskFinished
        is sent: ObjectRefs inside it must not be dropped before the node has the value that
        holds them.
        """
        prepared, error = self._prepare(spec)
        if error is not None:
            return self._complete(spec, None, error), None
        result, error = self._invoke(prepared, spec.task_id)
        return self._complete(spec, result, error), result

    def execute_concurrently(self, spec: common.TaskSpec, report: Callable) -> None:
        """Runs a call of a threaded or async actor alongside others; ``report(finished,
        result)`` gets the outcome (see execute)."""
        prepared, error = self._prepare(spec)
        if error is not None:
            report(self._complete(spec, None, error), None)
            return
        runtime = actor_runtime.current()

        def call():
            _enter(prepared.log_name, spec.task_id)
            return prepared.call()

        def done(result, error):
            report(self._complete(spec, result, error), result)

        runtime.submit(call, done)

    # ------------------------------------------------------------------ steps

    def _prepare(self, spec) -> Tuple[Optional[_Prepared], Optional[BaseException]]:
        session = self._session
        try:
            args, kwargs = self._resolve_args(spec)
            if spec.HasField("actor_task"):
                runtime = actor_runtime.current()
                if runtime is None:
                    raise exceptions.RaySystemError("this worker hosts no actor")
                method = _builtin_method(spec.actor_task.method_name) or getattr(
                    runtime.instance, spec.actor_task.method_name
                )
                return _Prepared(lambda: method(*args, **kwargs), runtime.name), None
            target = session.function_for_call(spec.function.function_id)
            log_name = spec.actor_creation.class_name if spec.HasField("actor_creation") else spec.name
            return _Prepared(lambda: target(*args, **kwargs), log_name), None
        except BaseException as e:  # noqa: BLE001 - becomes the task's error value
            return None, e

    @staticmethod
    def _invoke(prepared: _Prepared, task_id: bytes):
        _enter(prepared.log_name, task_id)
        try:
            return prepared.call(), None
        except BaseException as e:  # noqa: BLE001 - becomes the task's error value
            return None, e
        finally:
            _leave()

    def _complete(self, spec, result, error: Optional[BaseException]) -> wc.TaskFinished:
        session = self._session
        finished = wc.TaskFinished(task_id=spec.task_id)
        return_ids = [ids.return_id(spec.task_id, i) for i in range(1, spec.num_returns + 1)]
        runtime = actor_runtime.current()
        if isinstance(error, _actor_exit_type()):
            # The caller observes the actor's death rather than a value.
            finished.actor_exit = True
            for object_id in return_ids:
                finished.returns.append(_engine_error(object_id, "ActorDiedError", EXIT_ACTOR_MESSAGE))
            return finished
        if error is not None and not isinstance(error, Exception):
            if threading.current_thread() is threading.main_thread():
                raise error  # SystemExit, KeyboardInterrupt in a task: the worker ends
            error = exceptions.RaySystemError(f"{type(error).__name__} raised in an actor method thread: {error}")
        if error is None and spec.HasField("actor_creation"):
            c = spec.actor_creation
            actor_runtime.install(actor_runtime.ActorRuntime(result, c.class_name, c.max_concurrency, c.is_async))
            result = None
        try:
            if error is None:
                values = self._split_returns(result, spec.num_returns)
                for object_id, value in zip(return_ids, values):
                    finished.returns.append(session.store_return(value, object_id))
                if runtime is not None and spec.HasField("actor_task"):
                    runtime.refresh_name()
                return finished
        except Exception as e:  # noqa: BLE001 - e.g. an unpicklable return value
            error = e
            del finished.returns[:]
        task_error = self._task_error(spec, error, runtime)
        finished.application_error = True
        finished.error_text = str(task_error)
        for object_id in return_ids:
            finished.returns.append(self._store_error(object_id, task_error))
        return finished

    # ------------------------------------------------------------------ helpers

    def _resolve_args(self, spec):
        """Inline values are deserialized; top-level ObjectRefs are replaced by their values.

        The node attaches the values of by-reference arguments it could resolve; only the
        others are fetched.
        """
        session = self._session
        by_ref = [a.object_id for a in spec.args if a.WhichOneof("kind") == "object_id" and not a.HasField("resolved")]
        fetched = iter(session.get(by_ref, None, remember=False)) if by_ref else iter(())
        args, kwargs = [], {}
        for a in spec.args:
            if a.WhichOneof("kind") == "object_id":
                value = session.value_of(a.resolved) if a.HasField("resolved") else next(fetched)
            else:
                value = serialization.deserialize(memoryview(a.value.payload))
            if a.keyword:
                kwargs[a.keyword] = value
            else:
                args.append(value)
        return args, kwargs

    @staticmethod
    def _split_returns(result, num_returns: int):
        if num_returns == 0:
            return []
        if num_returns == 1:
            return [result]
        try:
            values = list(result)
        except TypeError:
            raise ValueError(
                f"Task returned {type(result).__name__}, but num_returns={num_returns} requires a sequence"
            ) from None
        if len(values) != num_returns:
            raise ValueError(f"Task returned {len(values)} objects, but num_returns={num_returns}.")
        return values

    def _task_error(self, spec, e: Exception, runtime) -> exceptions.RayError:
        if isinstance(e, exceptions.RayTaskError):
            # A nested get re-raised a task error: keep the original as the cause.
            cause = e.cause if e.cause is not None else e
        else:
            cause = e
        tb = traceback.format_exception(type(e), e, e.__traceback__)
        # Drop the executor's own frames so the traceback starts in user code.
        frames = [f for f in tb[1:-1] if "ray/_private/executor.py" not in f]
        text = "Traceback (most recent call last):\n" + "".join(frames) + tb[-1]
        actor = runtime if spec.HasField("actor_task") else None
        return exceptions.RayTaskError(
            spec.name,
            text,
            cause,
            pid=os.getpid(),
            ip=self._session.node_ip,
            actor_repr=actor.name if actor else None,
            actor_id=spec.actor_task.actor_id.hex() if actor else None,
            cause_cls_name=type(cause).__name__,
        )

    def _store_error(self, object_id: bytes, error: exceptions.RayTaskError) -> common.ObjectValue:
        # The cause travels only if it survives a round trip (pickling an exception works for
        # classes whose __init__ cannot be re-run from their args, unpickling then fails).
        # Otherwise the driver still gets a RayTaskError with the remote traceback as text.
        if error.cause is not None and not _round_trips(error.cause):
            error.cause = None
        return self._session.store_return(error, object_id, fmt=common.ERROR)


def _builtin_method(name: str):
    """Ray's methods of every actor: __ray_ready__ (True once created), __ray_terminate__."""
    if name == "__ray_ready__":
        return lambda: True
    if name == "__ray_terminate__":
        from ray.actor import exit_actor

        return exit_actor
    return None


def _enter(log_name: str, task_id: bytes) -> None:
    ctx = context.task_context
    ctx.task_name, ctx.task_id = log_name, task_id


def _leave() -> None:
    ctx = context.task_context
    ctx.task_id, ctx.task_name = None, ""


def _actor_exit_type():
    from ray.actor import _ActorExit

    return _ActorExit


def _engine_error(object_id: bytes, error_type: str, message: str) -> common.ObjectValue:
    value = common.ObjectValue(object_id=object_id)
    value.inline.format = common.ENGINE_ERROR
    value.inline.payload = common.ErrorInfo(error_type=error_type, message=message).SerializeToString()
    return value


def _round_trips(value) -> bool:
    try:
        serialization.deserialize(memoryview(serialization.serialize(value).to_bytes()))
        return True
    except Exception:  # noqa: BLE001 - any failure means "does not travel"
        return False
