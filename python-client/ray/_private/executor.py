"""Runs tasks inside a worker: plain functions, actor creation, actor method calls.

Each task goes through three steps: *prepare* (find the callable, resolve arguments),
*invoke* (run user code, on this thread or, for threaded and async actors, concurrently),
*complete* (store the returns or the error and build the TaskFinished message).

How a task ends is decided by its kind, not by the thread it ran on (inside Jep no thread is
Python's main thread):

- a KeyboardInterrupt (from ray.cancel, or raised by user code), or a cancel that reached a
  running call: the returns hold TaskCancelledError and TaskFinished.cancelled is set;
- SystemExit in a plain task: the worker process ends without reporting the task, so the
  node sees a crash (WorkerCrashedError, retried per max_retries, as in Ray); in an actor
  method: the actor exits as with exit_actor() (ActorDiedError, no restart);
- any other exception: an application error, retryable if the task's retry_exceptions
  says so;
- a plain task's call that reaches its function's max_calls on this worker sets
  TaskFinished.worker_exiting, and the worker's loop ends after reporting it.
"""

from __future__ import annotations

import collections
import inspect
import os
import traceback
from typing import Callable, Dict, List, Optional, Tuple, Union

import cloudpickle

from ray import exceptions
from ray._private import context, cross_language, ids, serialization
from ray._private.workers import actor_runtime, cancellation
from ray.rpc import common_pb2 as common

EXIT_ACTOR_MESSAGE = "The actor is dead because it called exit_actor()."
SYS_EXIT_ACTOR_MESSAGE = "The actor is dead because one of its methods called sys.exit()."


class WorkerExit(BaseException):
    """Raised by :meth:`TaskExecutor.execute` when the worker must end without reporting the
    task (a plain task called sys.exit()). Its output and ops must still be sent."""


class _Prepared:
    __slots__ = ("call", "log_name", "cancel_mode")

    def __init__(self, call: Callable[[], object], log_name: str, cancel_mode: Optional[int]):
        self.call = call
        self.log_name = log_name
        # How ray.cancel stops it while it runs (cancellation.INTERRUPT, ASYNC, FLAG), or None.
        self.cancel_mode = cancel_mode


class TaskExecutor:
    def __init__(self, session):
        self._session = session
        # Calls of each plain function run by this worker (max_calls).
        self._calls: Dict[bytes, int] = collections.Counter()
        self._allowlists: Dict[bytes, Optional[tuple]] = {}
        # CUDA_VISIBLE_DEVICES as the worker started: leased GPU ids index into it.
        self._original_gpus = _parse_visible(os.environ.get(CUDA_VISIBLE_DEVICES))
        # Direct calls running now: task id -> (owner client id, owner seq). What this worker
        # tells the node about such a call (argument reads, large returns) fences on it.
        self._fences: Dict[bytes, tuple] = {}

    def begin_direct(self, task_id: bytes, owner_id: bytes, owner_seq: int) -> None:
        self._fences[task_id] = (owner_id, owner_seq)

    def end_direct(self, task_id: bytes) -> None:
        self._fences.pop(task_id, None)

    # ------------------------------------------------------------------ entry points

    def execute(self, spec: common.TaskSpec):
        """Runs a task to completion on this thread.

        Returns (TaskFinished, result). The caller keeps ``result`` alive until TaskFinished
        is sent: ObjectRefs inside it must not be dropped before the node has the value that
        holds them.
        """
        prepared, error = self._prepare(spec)
        if error is not None:
            return self._complete(spec, None, error, False), None
        restore = self._lease_gpus(spec)
        try:
            result, error, cancelled = self._invoke(prepared, spec, self._fences.get(spec.task_id))
        finally:
            context.task_context.gpu_ids = None
        created = spec.HasField("actor_creation") and error is None and not cancelled
        if created:
            # The actor keeps its GPUs (and CUDA_VISIBLE_DEVICES) for its whole life.
            context.actor_gpu_ids = self._visible_ids(spec.assigned_gpu_ids)
            if spec.scheduling_strategy.HasField("placement_group"):
                context.actor_placement = spec.scheduling_strategy.placement_group
        elif restore is not None:
            restore()
        finished = self._complete(spec, result, error, cancelled)
        if _is_plain(spec) and spec.max_calls > 0:
            function_id = spec.function.function_id
            self._calls[function_id] += 1
            if self._calls[function_id] >= spec.max_calls:
                finished.worker_exiting = True
        return finished, result

    def execute_concurrently(self, spec: common.TaskSpec, report: Callable) -> None:
        """Runs a call of a threaded or async actor alongside others; ``report(finished,
        result)`` gets the outcome (see execute)."""
        prepared, error = self._prepare(spec)
        if error is not None:
            report(self._complete(spec, None, error, False), None)
            return
        runtime = actor_runtime.current()
        task_id = spec.task_id
        fence = self._fences.get(task_id)

        def call():
            # On the thread (or in the asyncio task) that runs the call.
            _enter(prepared.log_name, spec, fence)
            mode = prepared.cancel_mode
            loop, task = runtime.current_task() if mode == cancellation.ASYNC else (None, None)
            if cancellation.registry.start(task_id, mode, loop, task):
                return _CANCELLED_BEFORE_START
            return prepared.call()

        def done(result, error):
            cancelled = cancellation.registry.finish(task_id)
            if result is _CANCELLED_BEFORE_START:
                result = None
            report(self._complete(spec, result, error, cancelled), result)

        runtime.submit(call, done)

    # ------------------------------------------------------------------ steps

    def _prepare(self, spec) -> Tuple[Optional[_Prepared], Optional[BaseException]]:
        prepared, error = self._prepare_call(spec)
        if prepared is not None and (spec.streaming or spec.dynamic_returns):
            produce = prepared.call
            drain = self._stream if spec.streaming else self._collect
            prepared = _Prepared(lambda: drain(spec, produce), prepared.log_name, prepared.cancel_mode)
        return prepared, error

    def _collect(self, spec, produce):
        """num_returns="dynamic": stores every value the generator yields; the task's one return
        is a DynamicObjectRefGenerator of their refs (an exception fails the task, as in Ray)."""
        from ray._private.generators import DynamicObjectRefGenerator

        gen = produce()
        if inspect.isasyncgen(gen):

            async def collect():
                return DynamicObjectRefGenerator([self._session.put(v) async for v in gen])

            return collect()
        if not hasattr(gen, "__next__"):
            raise TypeError(
                f"{spec.name} was called with num_returns='dynamic' but returned {type(gen).__name__}, not a generator"
            )
        return DynamicObjectRefGenerator([self._session.put(v) for v in gen])

    def _stream(self, spec, produce):
        """Runs a streaming generator task: each value it yields is stored as its next item and
        reported to the node; an exception becomes its last item. Returns this process's refs to
        the items (kept until the task's end is reported), or, for an async generator, a
        coroutine that does the same on the actor's event loop."""
        gen = produce()
        if inspect.isasyncgen(gen):
            return self._stream_async(spec, gen)
        kept = []
        try:
            if not hasattr(gen, "__next__"):
                raise TypeError(
                    f"{spec.name} was called with num_returns='streaming' but returned "
                    f"{type(gen).__name__}, not a generator"
                )
            for value in gen:
                kept.append(self._session.store_generator_item(spec, len(kept) + 1, value))
        except Exception as e:  # noqa: BLE001 - becomes the generator's last item
            self._stream_error(spec, len(kept) + 1, e, kept)
        return kept

    async def _stream_async(self, spec, gen):
        kept = []
        try:
            async for value in gen:
                kept.append(self._session.store_generator_item(spec, len(kept) + 1, value))
        except Exception as e:  # noqa: BLE001 - becomes the generator's last item
            self._stream_error(spec, len(kept) + 1, e, kept)
        return kept

    def _stream_error(self, spec, index: int, error: Exception, kept: list) -> None:
        task_error = self._task_error(spec, error, actor_runtime.current())
        kept.append(self._session.store_generator_item(spec, index, task_error, fmt=common.ERROR))

    def _prepare_call(self, spec) -> Tuple[Optional[_Prepared], Optional[BaseException]]:
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
                mode = cancellation.ASYNC if runtime.is_async else cancellation.FLAG
                return _Prepared(lambda: method(*args, **kwargs), runtime.name, mode), None
            if spec.caller_language == common.JAVA:
                target = _python_function(spec.function)  # called from Java: by module and name
            else:
                target = session.function_for_call(spec.function.function_id)
            if spec.HasField("actor_creation"):
                # ray.cancel does not apply to an actor's creation (ray.kill does).
                return _Prepared(lambda: target(*args, **kwargs), spec.actor_creation.class_name, None), None
            return _Prepared(lambda: target(*args, **kwargs), spec.name, cancellation.INTERRUPT), None
        except BaseException as e:  # noqa: BLE001 - becomes the task's error value
            return None, e

    @staticmethod
    def _invoke(prepared: _Prepared, spec, fence):
        """Runs the call on this thread; returns (result, error, cancelled)."""
        task_id = spec.task_id
        _enter(prepared.log_name, spec, fence)
        try:
            if prepared.cancel_mode is None:
                try:
                    return prepared.call(), None, False
                except BaseException as e:  # noqa: BLE001 - becomes the task's error value
                    return None, e, False
            return _run_cancellable(prepared.call, task_id, prepared.cancel_mode)
        finally:
            _leave()

    def _complete(self, spec, result, error: Optional[BaseException], cancelled: bool) -> common.TaskFinished:
        session = self._session
        finished = common.TaskFinished(task_id=spec.task_id)
        return_ids = [ids.return_id(spec.task_id, i) for i in range(1, spec.num_returns + 1)]
        runtime = actor_runtime.current()
        exit_actor = isinstance(error, _actor_exit_type())
        if exit_actor or (isinstance(error, SystemExit) and spec.HasField("actor_task")):
            # exit_actor(), or sys.exit() in a method (as Ray: the actor dies, not restarted).
            # The caller observes the actor's death rather than a value.
            finished.actor_exit = True
            # The process ends with the actor, as in Ray: its atexit handlers run now.
            _run_atexit_handlers()
            message = EXIT_ACTOR_MESSAGE if exit_actor else SYS_EXIT_ACTOR_MESSAGE
            for object_id in return_ids:
                finished.returns.append(_engine_error(object_id, "ActorDiedError", message))
            return finished
        if isinstance(error, KeyboardInterrupt) or cancelled:
            return self._complete_cancelled(spec, error, runtime, finished, return_ids)
        if spec.caller_language == common.JAVA and not spec.HasField("actor_creation"):
            return self._complete_for_java(spec, result, error, finished, return_ids)
        if isinstance(error, SystemExit) and _is_plain(spec):
            raise WorkerExit() from error
        if error is not None and not isinstance(error, Exception):
            error = exceptions.RaySystemError(f"{type(error).__name__} raised in an actor method thread: {error}")
        if error is None and spec.HasField("actor_creation"):
            c = spec.actor_creation
            created = actor_runtime.ActorRuntime(result, c.class_name, c.max_concurrency, c.is_async)
            created.describe(spec)
            actor_runtime.install(created)
            result = None
        try:
            if error is None:
                values = self._split_returns(result, spec.num_returns)
                for object_id, value in zip(return_ids, values):
                    finished.returns.append(
                        session.store_return(value, object_id, fence=self._fences.get(spec.task_id))
                    )
                if runtime is not None and spec.HasField("actor_task"):
                    runtime.refresh_name()
                return finished
        except Exception as e:  # noqa: BLE001 - e.g. an unpicklable return value
            error = e
            del finished.returns[:]
        task_error = self._task_error(spec, error, runtime)
        finished.application_error = True
        finished.exception_retryable = _is_plain(spec) and spec.retry_exceptions and self._retryable(spec, error)
        finished.error_text = str(task_error)
        for object_id in return_ids:
            finished.returns.append(self._store_error(object_id, task_error, self._fences.get(spec.task_id)))
        return finished

    def _complete_for_java(self, spec, result, error, finished, return_ids) -> common.TaskFinished:
        """A task a Java caller called: its result crosses as a cross-language value, and what it
        raised as a CrossLanguageError (type, message and traceback as text)."""
        if error is None:
            try:
                finished.returns.append(cross_language.store(self._session, result, return_ids[0]))
                return finished
            except Exception as e:  # noqa: BLE001 - a result that cannot cross is the task's error
                error = e
        import traceback

        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        message = f"{type(error).__name__}: {error}\n{text}"
        finished.application_error = True
        finished.error_text = message
        finished.returns.append(_engine_error(return_ids[0], "CrossLanguageError", message))
        return finished

    def _complete_cancelled(self, spec, error, runtime, finished, return_ids) -> common.TaskFinished:
        """Returns hold TaskCancelledError: with the traceback of where the task was
        interrupted (a RayTaskError that is also a TaskCancelledError, as in Ray), or a plain
        one for a call that ran to its end after it was cancelled."""
        cancelled = exceptions.TaskCancelledError(spec.task_id.hex())
        if error is not None:
            task_error = self._task_error(spec, cancelled.with_traceback(error.__traceback__), runtime)
        else:
            task_error = cancelled
        del finished.returns[:]
        finished.cancelled = True
        finished.application_error = True
        finished.error_text = str(task_error)
        for object_id in return_ids:
            finished.returns.append(
                self._session.store_return(
                    task_error, object_id, fmt=common.ERROR, fence=self._fences.get(spec.task_id)
                )
            )
        return finished

    def _retryable(self, spec, error: BaseException) -> bool:
        """retry_exceptions=True retries every exception; a list retries its classes only."""
        pickled = spec.retry_exception_allowlist
        if not pickled:
            return True
        if pickled not in self._allowlists:
            try:
                self._allowlists[pickled] = tuple(cloudpickle.loads(pickled))
            except Exception:  # noqa: BLE001 - a class that cannot load here matches nothing
                self._allowlists[pickled] = None
        allowlist = self._allowlists[pickled]
        return allowlist is not None and isinstance(error, allowlist)

    # ------------------------------------------------------------------ GPUs

    def _visible_ids(self, leased) -> List[Union[int, str]]:
        """ray.get_gpu_ids() for leased GPU indices: the indices themselves, or, when the worker
        started with CUDA_VISIBLE_DEVICES set, the entries they select from it (as Ray)."""
        leased = sorted(leased)
        original = self._original_gpus
        if original is None:
            return leased
        if all(i < len(original) for i in leased):
            return [original[i] for i in leased]
        return list(original)

    def _lease_gpus(self, spec):
        """Gives a plain task or an actor creation its GPU ids: ray.get_gpu_ids() and
        CUDA_VISIBLE_DEVICES. Returns how to undo the variable, or None if it was not set."""
        if spec.HasField("actor_task"):
            return None
        visible = self._visible_ids(spec.assigned_gpu_ids)
        context.task_context.gpu_ids = visible
        if not visible:
            return None  # as Ray: a task without GPUs leaves the variable alone
        before = os.environ.get(CUDA_VISIBLE_DEVICES)
        os.environ[CUDA_VISIBLE_DEVICES] = ",".join(str(i) for i in visible)

        def restore():
            if before is None:
                os.environ.pop(CUDA_VISIBLE_DEVICES, None)
            else:
                os.environ[CUDA_VISIBLE_DEVICES] = before

        return restore

    # ------------------------------------------------------------------ helpers

    def _resolve_args(self, spec):
        """Inline values are deserialized; top-level ObjectRefs are replaced by their values.

        The node attaches the values of by-reference arguments it could resolve; only the
        others are fetched.
        """
        session = self._session
        by_ref = [a.object_id for a in spec.args if a.WhichOneof("kind") == "object_id" and not a.HasField("resolved")]
        fence = self._fences.get(spec.task_id)
        fetched = iter(session.get(by_ref, None, remember=False, fence=fence)) if by_ref else iter(())
        args, kwargs = [], {}
        for a in spec.args:
            if a.WhichOneof("kind") == "object_id":
                value = session.value_of(a.resolved) if a.HasField("resolved") else next(fetched)
            elif a.value.format == common.CROSS_LANGUAGE:
                value = cross_language.decode(a.value.payload)
            elif a.value.format == common.ARRAY:
                value = cross_language.decode_array(a.value.payload).copy()
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

    def _store_error(self, object_id: bytes, error: exceptions.RayTaskError, fence=None) -> common.ObjectValue:
        # The cause travels only if it survives a round trip (pickling an exception works for
        # classes whose __init__ cannot be re-run from their args, unpickling then fails).
        # Otherwise, as in Ray, the cause is a RayError that describes it, and the driver gets
        # a plain RayTaskError with the remote traceback as text.
        if error.cause is not None and not isinstance(error.cause, exceptions.RayError):
            problem = _round_trip_problem(error.cause)
            if problem is not None:
                cls = type(error.cause)
                error.cause = exceptions.RayError(
                    f"Exception {cls.__module__}.{cls.__name__} isn't serializable: {problem}.\n"
                    f"Original exception details:\n{error.traceback_str}"
                )
                error._cause_cls_name = "RayError"
        return self._session.store_return(error, object_id, fmt=common.ERROR, fence=fence)


CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES"

# What a concurrent call returns when it was cancelled before it began (never user data).
_CANCELLED_BEFORE_START = object()


def _is_plain(spec) -> bool:
    return not spec.HasField("actor_task") and not spec.HasField("actor_creation")


def _parse_visible(value: Optional[str]) -> Optional[List[str]]:
    if value is None:
        return None
    return [d.strip() for d in value.split(",") if d.strip()]


def _run_cancellable(call, task_id: bytes, mode: int):
    """Runs ``call`` registered for ray.cancel; returns (result, error, cancelled).

    A KeyboardInterrupt the cancel thread requested can fire at any bytecode until
    ``registry.finish`` withdraws it, including just after the call returned: the outer
    handler catches that one, so it never escapes into the worker's loop.
    """
    registry = cancellation.registry
    result, error, cancelled = None, None, False
    try:
        try:
            if not registry.start(task_id, mode):
                result = call()
        except BaseException as e:  # noqa: BLE001 - becomes the task's error value
            error = e
        cancelled = registry.finish(task_id)
    except KeyboardInterrupt:
        registry.finish(task_id)
        cancelled = True
    return result, error, cancelled


def _builtin_method(name: str):
    """Ray's methods of every actor: __ray_ready__ (True once created), __ray_terminate__."""
    if name == "__ray_ready__":
        return lambda: True
    if name == "__ray_terminate__":
        from ray.actor import exit_actor

        return exit_actor
    return None


def _enter(log_name: str, spec, fence=None) -> None:
    ctx = context.task_context
    ctx.task_name, ctx.task_id, ctx.spec, ctx.fence = log_name, spec.task_id, spec, fence


def _leave() -> None:
    ctx = context.task_context
    ctx.task_id, ctx.task_name, ctx.spec, ctx.fence = None, "", None, None


def _actor_exit_type():
    from ray.actor import _ActorExit

    return _ActorExit


def _run_atexit_handlers() -> None:
    """Runs (and clears) the atexit handlers registered in this process. The embedded
    interpreter is never finalized, so they would not run otherwise; a failing handler is
    reported by atexit itself and does not stop the others."""
    import atexit

    try:
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - the actor ends regardless
        pass


def _python_function(fd: common.FunctionDescriptor):
    """A module-level function a Java caller names (module and function, on the job's code search
    path or sys.path)."""
    import importlib

    try:
        target = importlib.import_module(fd.module_name)
        for part in fd.function_name.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as e:
        raise exceptions.RaySystemError(
            f"Python function {fd.module_name}.{fd.function_name} was not found in the job's code search path: {e}"
        ) from None
    return target


def _engine_error(object_id: bytes, error_type: str, message: str) -> common.ObjectValue:
    value = common.ObjectValue(object_id=object_id)
    value.inline.format = common.ENGINE_ERROR
    value.inline.payload = common.ErrorInfo(error_type=error_type, message=message).SerializeToString()
    return value


def _round_trip_problem(value) -> Optional[str]:
    """Why ``value`` does not survive pickling and unpickling, or None if it does."""
    try:
        serialization.deserialize(memoryview(serialization.serialize(value).to_bytes()))
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "does not travel"
        return str(e)
