"""@ray.remote on a function: a RemoteFunction whose .remote() submits a task."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Dict

import cloudpickle

from ray._private import context, ids, task_spec
from ray._private.generators import ObjectRefGenerator
from ray._private.options import resource_demand, task_defaults, validate_task_options
from ray._private.runtime_env import TaskEnvCache
from ray.rpc import common_pb2 as common
from ray.util.placement_group import apply as place_in_group
from ray.util.placement_group import group_demand


class RemoteFunction:
    """A function that runs as a Ray task. Call it with ``.remote(...)``."""

    def __init__(self, function, options: Dict[str, Any]):
        if inspect.iscoroutinefunction(function):
            raise ValueError(
                "'async def' should not be used for remote tasks. You can wrap the async "
                "function with `asyncio.run(f())`."
            )
        validate_task_options(options, in_options=False)
        self._function = function
        try:
            self._signature = inspect.signature(function)
        except (TypeError, ValueError):  # some builtins have no signature
            self._signature = None
        self._function_name = f"{function.__module__}.{function.__qualname__}"
        self._default_options = {**task_defaults(), **options}
        if "max_calls" not in options and (options.get("num_gpus") or 0) > 0:
            # As Ray: a GPU function's worker exits after each call (frees GPU memory).
            self._default_options["max_calls"] = 1
        self.__doc__ = function.__doc__
        self.__name__ = getattr(function, "__name__", "remote_function")
        self.__qualname__ = getattr(function, "__qualname__", self.__name__)
        self.__module__ = getattr(function, "__module__", None)
        self.__wrapped__ = function
        self._exported = task_spec.ExportedOnce()
        self._env = TaskEnvCache(self._default_options.get("runtime_env"))

    def __call__(self, *args, **kwargs):
        raise TypeError(
            "Remote functions cannot be called directly. Instead "
            f"of running '{self._function_name}()', "
            f"try '{self._function_name}.remote()'."
        )

    def remote(self, *args, **kwargs):
        """Submits the task; returns its ObjectRef(s) at once."""
        return self._remote(args, kwargs, self._default_options, self._env)

    def options(self, **options):
        """The same function with some options overridden for the calls made through it."""
        validate_task_options(options, in_options=True)
        merged = {**self._default_options, **options}
        function = self
        # Packaged once for these options (not per call): see runtime_env.TaskEnvCache.
        env = TaskEnvCache(merged.get("runtime_env"))

        class _Bound:
            def remote(self, *args, **kwargs):
                return function._remote(args, kwargs, merged, env)

            def __call__(self, *args, **kwargs):
                return function(*args, **kwargs)

            def options(self, **more):
                validate_task_options(more, in_options=True)
                return function.options(**{**options, **more})

        return _Bound()

    def _remote(self, args, kwargs, options, env_cache):
        session = context.session_or_init()
        if self._signature is not None:
            # Wrong arguments fail here, as in Ray, not later inside the worker.
            self._signature.bind(*args, **kwargs)
        num_returns = options.get("num_returns")
        num_returns = 1 if num_returns is None else num_returns
        streaming = num_returns == "streaming"
        generator_kind = num_returns if isinstance(num_returns, str) else None
        num_returns = 0 if streaming else 1 if generator_kind else num_returns
        function_id = self._exported.get(session, self._function)
        name = options.get("name") or self.__qualname__
        task_id = ids.new_task_id(session.job_id)
        spec = common.TaskSpec(
            task_id=task_id,
            job_id=session.job_id,
            caller_id=session.client_id,
            num_returns=num_returns,
            max_retries=0 if streaming else options.get("max_retries", 3),
            name=name,
            max_calls=options.get("max_calls") or 0,
        )
        retry = options.get("retry_exceptions", False)
        if isinstance(retry, (list, tuple)):
            # A list (even an empty one, which then retries nothing, as in Ray) goes to the
            # worker, which decides whether the exception raised is retryable.
            spec.retry_exceptions = True
            spec.retry_exception_allowlist = _pickled_allowlist(tuple(retry))
        else:
            spec.retry_exceptions = bool(retry)
        spec.function.language = common.PYTHON
        spec.function.function_id = function_id
        spec.function.module_name = task_spec.descriptor_module(self.__module__)
        spec.function.function_name = self.__qualname__
        demand = resource_demand(options)
        placed = set_strategy(spec, options)
        if placed is not None:
            demand = group_demand(demand, *placed, f"task {self._function_name}")
        spec.resources.update(demand)
        env = env_cache.get(session)
        if env.hash:
            spec.runtime_env.CopyFrom(env)
        spec.streaming = streaming
        spec.dynamic_returns = generator_kind == "dynamic"
        task_spec.submit(session, spec, args, kwargs, self._function_name)
        if streaming:
            return ObjectRefGenerator(task_id, session)
        return task_spec.return_refs(task_id, num_returns)

    def __reduce__(self):
        # Rebuilt from the plain function and the options the user gave; caches stay behind.
        return (RemoteFunction, (self._function, _user_options(self._default_options, task_defaults())))


def set_strategy(spec, options):
    """Puts the submission's scheduling strategy into ``spec``; returns (placement group, bundle
    index) when it runs in one, else None."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    placed = place_in_group(spec, options)
    if placed is not None:
        return placed
    strategy = options.get("scheduling_strategy")
    if strategy == "SPREAD":
        spec.scheduling_strategy.spread = True
    elif isinstance(strategy, NodeAffinitySchedulingStrategy):
        affinity = spec.scheduling_strategy.node_affinity
        affinity.node_id = _node_id_bytes(strategy.node_id)
        affinity.soft = bool(strategy.soft)
    return None


def _node_id_bytes(node_id: str) -> bytes:
    try:
        raw = bytes.fromhex(node_id)
    except ValueError:
        raw = b""
    if len(raw) != ids.UNIQUE_ID_SIZE:
        raise ValueError(f"NodeAffinitySchedulingStrategy: {node_id!r} is not a node id (56 hex digits)")
    return raw


@functools.lru_cache(maxsize=64)
def _pickled_allowlist(classes: tuple) -> bytes:
    # By value for classes defined in the driver's script, which workers cannot import.
    return cloudpickle.dumps(list(classes))


def _user_options(options: Dict[str, Any], defaults: Dict[str, Any]) -> Dict[str, Any]:
    """The options that differ from the defaults (what the user gave)."""
    return {k: v for k, v in options.items() if k not in defaults or defaults[k] != v}
