"""Actors: @ray.remote on a class. A handle submits method calls to one worker that keeps the
instance; calls from one caller run in submission order (unless the actor is threaded or
async)."""

from __future__ import annotations

import inspect
import os
import pickle
import types
from typing import Any, Dict, Optional

from ray import exceptions
from ray._private import context, ids, task_spec
from ray._private.generators import ObjectRefGenerator
from ray._private.object_ref import ObjectRef
from ray._private.options import actor_defaults, actor_resources, validate_actor_options
from ray._private.runtime_env import TaskEnvCache
from ray.remote_function import _user_options, set_strategy
from ray.rpc import common_pb2 as common
from ray.rpc import control_service_pb2 as control
from ray.util.placement_group import group_demand

ASYNC_DEFAULT_MAX_CONCURRENCY = 1000
# Methods every actor has, as in Ray: readiness, and a graceful exit after earlier calls.
_BUILTIN_METHODS = ("__ray_ready__", "__ray_terminate__")


def method(*args, **kwargs):
    """``@ray.method(num_returns=N)`` on an actor method sets its default options."""
    valid = {
        "num_returns",
        "concurrency_group",
        "max_task_retries",
        "retry_exceptions",
        "_generator_backpressure_num_objects",
    }
    if args or not kwargs or set(kwargs) - valid:
        raise ValueError(f"@ray.method takes keyword arguments among {sorted(valid)}, e.g. num_returns=2")
    num_returns = kwargs.get("num_returns")
    if num_returns is not None and num_returns not in ("streaming", "dynamic"):
        if not isinstance(num_returns, int) or isinstance(num_returns, bool) or num_returns < 0:
            raise ValueError("num_returns must be a non-negative integer, 'streaming' or 'dynamic'")

    def annotate(fn):
        fn.__ray_method_options__ = dict(kwargs)
        return fn

    return annotate


def _method_table(cls) -> Dict[str, Dict[str, Any]]:
    """Public methods of an actor class with their default call options."""
    table = {}
    for name, member in _methods_of(cls):
        table[name] = dict(getattr(member, "__ray_method_options__", {}))
    return table


def _methods_of(cls):
    return [
        (name, member)
        for name, member in inspect.getmembers(cls, predicate=lambda m: inspect.isfunction(m) or inspect.ismethod(m))
        if not name.startswith("__") or name == "__call__"
    ]


class _Default:
    """Stands for a parameter's default value in a method's signature kept by handles."""

    def __repr__(self) -> str:
        return "<default>"


def _signature_table(cls) -> Dict[str, Optional[tuple]]:
    """Per method, its parameters as (name, kind, has_default) without ``self``: enough to check a
    call's arguments at ``.remote()`` as Ray does, and picklable whatever the defaults are."""
    table: Dict[str, Optional[tuple]] = {}
    for name, member in _methods_of(cls):
        try:
            params = list(inspect.signature(member).parameters.values())
        except (TypeError, ValueError):  # no signature to check against
            table[name] = None
            continue
        bound = inspect.ismethod(member) or isinstance(inspect.getattr_static(cls, name, None), staticmethod)
        if not bound and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
            params = params[1:]
        table[name] = tuple((p.name, int(p.kind), p.default is not p.empty) for p in params)
    return table


_SIGNATURES: Dict[tuple, inspect.Signature] = {}


def _check_call(params: Optional[tuple], args, kwargs) -> None:
    """Raises TypeError (inspect's message, as Ray's) when the arguments do not fit."""
    if params is None:
        return
    sig = _SIGNATURES.get(params)
    if sig is None:
        default = _Default()
        sig = inspect.Signature(
            [
                inspect.Parameter(
                    name, inspect._ParameterKind(kind), default=default if has_default else inspect.Parameter.empty
                )
                for name, kind, has_default in params
            ]
        )
        _SIGNATURES[params] = sig
    sig.bind(*args, **kwargs)


def _is_async(cls) -> bool:
    return any(
        inspect.iscoroutinefunction(m) or inspect.isasyncgenfunction(m)
        for _, m in inspect.getmembers(cls, predicate=inspect.isfunction)
    )


class ActorClassInheritanceException(TypeError):
    """Raised when a class statement names an actor class as a base (not supported, as in Ray)."""


class ActorClass:
    """What @ray.remote returns for a class. Create an actor with ``.remote(...)``.

    Each one is an instance of a class made for it that derives from both ActorClass and the
    user's class, so that the user's class attributes, static methods and class methods are
    reachable on it (``Counter.LIMIT``, ``Counter.make()``), as in Ray. Our own attributes are
    named ``_ray_*`` to stay clear of the user's.
    """

    def __init__(self, name, bases, attrs):
        # Reached only from a class statement whose bases include an actor class: Python then
        # builds the new class by calling the actor class's type. Actor classes themselves are
        # made by _from_class, which does not call __init__.
        for base in bases:
            if isinstance(base, ActorClass):
                raise ActorClassInheritanceException(
                    f"Attempted to define subclass '{name}' of actor class '{base.__name__}'. "
                    "Inheriting from actor classes is not currently supported. You can instead inherit from a "
                    "non-actor base class and make the derived class an actor class (with @ray.remote)."
                )
        raise TypeError("ActorClass is not meant to be instantiated; apply @ray.remote to a class instead")

    @staticmethod
    def _from_class(cls, options: Dict[str, Any]) -> ActorClass:
        validate_actor_options(options, in_options=False)
        name = f"ActorClass({cls.__name__})"
        try:
            derived = types.new_class(
                name, (ActorClass, cls), exec_body=lambda ns: ns.update(__module__=cls.__module__)
            )
            derived.__qualname__ = name
            self = object.__new__(derived)
        except TypeError:
            # A base whose instance layout or metaclass does not mix with ours (rare): the actor
            # class works without the user's attributes on it.
            self = object.__new__(ActorClass)
        self._ray_setup(cls, options)
        return self

    def _ray_setup(self, cls, options: Dict[str, Any]) -> None:
        self._ray_cls = cls
        self._ray_default_options = {**actor_defaults(), **options}
        self._ray_methods = _method_table(cls)
        self._ray_signatures = _signature_table(cls)
        self._ray_is_async = _is_async(cls)
        self._ray_exported = task_spec.ExportedOnce()
        self._ray_env = TaskEnvCache(self._ray_default_options.get("runtime_env"))
        try:
            self._ray_init_signature = inspect.signature(cls.__init__)
        except (TypeError, ValueError):  # some extension types have none
            self._ray_init_signature = None
        self.__name__ = cls.__name__
        self.__qualname__ = cls.__qualname__
        self.__module__ = cls.__module__
        self.__doc__ = cls.__doc__

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"Actors cannot be instantiated directly. Instead of '{self.__name__}()', use '{self.__name__}.remote()'."
        )

    def remote(self, *args, **kwargs) -> ActorHandle:
        return self._remote(args, kwargs, self._ray_default_options, self._ray_env)

    def options(self, **options):
        validate_actor_options(options, in_options=True)
        merged = {**self._ray_default_options, **options}
        actor_class = self
        env = TaskEnvCache(merged.get("runtime_env"))

        class _Bound:
            def remote(self, *args, **kwargs):
                return actor_class._remote(args, kwargs, merged, env)

        return _Bound()

    def bind(self, *args, **kwargs):
        raise NotImplementedError("Ray DAGs (bind) are not supported")

    def _remote(self, args, kwargs, options, env_cache) -> ActorHandle:
        session = context.session_or_init()
        if self._ray_init_signature is not None:
            # Wrong constructor arguments fail here, as in Ray, not later in the worker.
            self._ray_init_signature.bind(None, *args, **kwargs)
        function_id = self._ray_exported.get(session, self._ray_cls)

        name = options.get("name") or ""
        namespace = options.get("namespace") or session.namespace
        detached = options.get("lifetime") == "detached"
        max_concurrency = options.get("max_concurrency") or (ASYNC_DEFAULT_MAX_CONCURRENCY if self._ray_is_async else 1)
        actor_id = os.urandom(12) + session.job_id
        task_id = ids.new_task_id(session.job_id)
        lifetime_id = ids.return_id(task_id, 1)
        state = _HandleState(
            actor_id=actor_id,
            class_name=self.__name__,
            methods=self._ray_methods,
            lifetime_id=lifetime_id,
            max_task_retries=options.get("max_task_retries", 0),
            is_async=self._ray_is_async,
            max_concurrency=max_concurrency,
            signatures=self._ray_signatures,
        )
        # Its record lives on this node: calls made on copies of the handle elsewhere go there.
        state.home_node_id = session.node_id
        if name:
            reply = session.control_call(
                "RegisterActor",
                control.RegisterActorRequest(
                    actor=control.ActorInfo(
                        actor_id=actor_id,
                        job_id=session.job_id,
                        name=name,
                        ray_namespace=namespace,
                        owner_id=session.client_id,
                        class_name=self.__name__,
                        detached=detached,
                        handle=pickle.dumps(state),
                        # What a Java caller's Ray.getActor needs for a PyActorHandle.
                        module_name=self.__module__ or "",
                        lifetime_object_id=lifetime_id,
                        home_node_id=session.node_id,
                    )
                ),
                control.RegisterActorReply,
            )
            if not reply.registered:
                if options.get("get_if_exists"):
                    # As Ray (which looks it up with get_actor): a handle that does not keep it alive.
                    return ActorHandle._weak(pickle.loads(reply.existing.handle))
                raise exceptions.ActorAlreadyExistsError(
                    f"The name {name} (namespace={namespace}) is already taken. Please use a different name or get "
                    f"the existing actor using ray.get_actor('{name}', namespace='{namespace}')"
                )

        placement, lifetime = actor_resources(options)
        spec = common.TaskSpec(
            task_id=task_id,
            job_id=session.job_id,
            caller_id=session.client_id,
            num_returns=1,
            max_retries=0,
            name=f"{self.__name__}.__init__",
        )
        spec.function.language = common.PYTHON
        spec.function.function_id = function_id
        spec.function.module_name = task_spec.descriptor_module(self.__module__)
        spec.function.function_name = self.__qualname__
        placed = set_strategy(spec, options)
        if placed is not None:
            placement = group_demand(placement, *placed, f"actor {self.__name__}")
            lifetime = group_demand(lifetime, *placed, f"actor {self.__name__}", marker=False)
        spec.resources.update(placement)
        env = env_cache.get(session)
        if env.hash:
            spec.runtime_env.CopyFrom(env)
        creation = spec.actor_creation
        creation.actor_id = actor_id
        creation.max_restarts = options.get("max_restarts", 0)
        creation.max_task_retries = options.get("max_task_retries", 0)
        creation.max_concurrency = max_concurrency
        creation.is_async = self._ray_is_async
        creation.detached = detached
        creation.name = name
        creation.ray_namespace = namespace
        creation.class_name = self.__name__
        creation.lifetime_resources.update(lifetime)
        # The handle's ref is the one the node counts for the creator (the creation's return).
        handle = ActorHandle._from_state(state, counted=True)
        task_spec.submit(session, spec, args, kwargs, f"{self.__module__}.{self.__qualname__}")
        return handle

    def __reduce__(self):
        return (ActorClass._from_class, (self._ray_cls, _user_options(self._ray_default_options, actor_defaults())))


class _HandleState:
    """What is needed to rebuild a handle anywhere (pickled into the actor directory too)."""

    def __init__(
        self, actor_id, class_name, methods, lifetime_id, max_task_retries, is_async, max_concurrency=1, signatures=None
    ):
        self.actor_id = actor_id
        self.class_name = class_name
        self.methods = methods
        self.lifetime_id = lifetime_id
        self.max_task_retries = max_task_retries
        self.is_async = is_async
        # Calls that may run at once: callers keep up to this many pushes in flight.
        self.max_concurrency = max_concurrency
        # Per method, its parameters (see _signature_table), to check arguments at .remote().
        self.signatures = signatures or {}
        # The node holding the actor's record (b"": unknown, e.g. a handle from get_actor).
        self.home_node_id = b""


class ActorHandle:
    """A reference to an actor. Call methods with ``handle.method.remote(...)``.

    Handles can be passed to tasks and actors, returned from them and stored in objects. The
    actor lives while any handle to it exists (unless detached), and dies with its owner.
    A handle from ``ray.get_actor`` (or ``current_actor``) is weak, as in Ray: neither it nor
    its copies keep the actor alive.
    """

    def __init__(self, state: _HandleState, lifetime_ref: Optional[ObjectRef]):
        self._state = state
        self._lifetime_ref = lifetime_ref

    @classmethod
    def _from_state(cls, state: _HandleState, counted: bool = False) -> ActorHandle:
        return cls(state, ObjectRef(state.lifetime_id, _counted=counted))

    @classmethod
    def _weak(cls, state: _HandleState) -> ActorHandle:
        return cls(state, None)

    @property
    def _actor_id(self):
        return ids.ActorID(self._state.actor_id)

    def __getattr__(self, name: str):
        if name in _BUILTIN_METHODS:
            return ActorMethod(self, name, {})
        if name.startswith("_"):
            raise AttributeError(name)
        options = self._state.methods.get(name)
        if options is None:
            raise AttributeError(f"'ActorHandle' object has no attribute '{name}'")
        return ActorMethod(self, name, options)

    def __repr__(self) -> str:
        return f"Actor({self._state.class_name}, {self._state.actor_id.hex()})"

    def __eq__(self, other) -> bool:
        return isinstance(other, ActorHandle) and other._state.actor_id == self._state.actor_id

    def __hash__(self) -> int:
        return hash(self._state.actor_id)

    def __reduce__(self):
        return (_rebuild_handle, (self._state, self._lifetime_ref))


def _rebuild_handle(state, lifetime_ref):
    return ActorHandle(state, lifetime_ref)


class ActorMethod:
    """``handle.method``: call it with ``.remote(...)``."""

    def __init__(self, handle: ActorHandle, name: str, options: Dict[str, Any]):
        self._handle = handle
        self._name = name
        self._options = options

    def __call__(self, *args, **kwargs):
        raise TypeError(
            "Actor methods cannot be called directly. Instead "
            f"of running 'object.{self._name}()', try "
            f"'object.{self._name}.remote()'."
        )

    def options(self, **options):
        merged = {**self._options, **options}
        return ActorMethod(self._handle, self._name, merged)

    def remote(self, *args, **kwargs):
        session = context.session_or_init()
        state = self._handle._state
        # Wrong arguments fail here, as in Ray, not later in the actor.
        _check_call(getattr(state, "signatures", {}).get(self._name), args, kwargs)
        num_returns = self._options.get("num_returns")
        num_returns = 1 if num_returns is None else num_returns
        streaming = num_returns == "streaming"
        dynamic = num_returns == "dynamic"
        num_returns = 0 if streaming else 1 if dynamic else num_returns
        task_id = ids.new_task_id(session.job_id)
        spec = common.TaskSpec(
            task_id=task_id,
            job_id=session.job_id,
            caller_id=session.client_id,
            num_returns=num_returns,
            max_retries=0 if streaming else self._options.get("max_task_retries", state.max_task_retries),
            name=f"{state.class_name}.{self._name}",
            streaming=streaming,
            dynamic_returns=dynamic,
        )
        spec.actor_task.actor_id = state.actor_id
        spec.actor_task.method_name = self._name
        spec.actor_task.lifetime_object_id = state.lifetime_id
        spec.actor_task.home_node_id = getattr(state, "home_node_id", b"")
        task_spec.submit(
            session, spec, args, kwargs, f"{state.class_name}.{self._name}", getattr(state, "max_concurrency", 1)
        )
        session.note_actor_call(task_id, num_returns)
        if streaming:
            return ObjectRefGenerator(task_id, session)
        return task_spec.return_refs(task_id, num_returns)


class _ActorExit(SystemExit):
    """Raised by exit_actor() inside an actor method; the worker ends the actor after it."""


def exit_actor():
    """Ends the current actor after the running method; later calls fail with RayActorError."""
    from ray._private.workers import actor_runtime

    if actor_runtime.current() is None:
        raise TypeError(
            "exit_actor API is called on a non-actor worker. Call this API inside an actor method "
            "if you'd like to exit the actor gracefully."
        )
    raise _ActorExit(0)


def get_actor(name: str, namespace: Optional[str] = None) -> ActorHandle:
    """The live actor with this name (in the given namespace, or the caller's)."""
    if not name:
        raise ValueError("Please supply a non-empty value to get_actor")
    if namespace is not None and not isinstance(namespace, str):
        raise TypeError(f"namespace must be a string, got {type(namespace).__name__}")
    session = context.session_or_init()
    ns = namespace if namespace is not None else session.namespace
    reply = session.control_call(
        "GetNamedActor", control.GetNamedActorRequest(name=name, ray_namespace=ns), control.GetNamedActorReply
    )
    if not reply.found or not reply.actor.handle:
        raise ValueError(
            f"Failed to look up actor with name '{name}'. This could because 1. You are trying to look up a named "
            "actor you didn't create. 2. The named actor died. 3. You did not use a namespace matching the "
            f"namespace of the actor (looked in namespace '{ns}')."
        )
    return ActorHandle._weak(pickle.loads(reply.actor.handle))


def kill(actor: ActorHandle, *, no_restart: bool = True) -> None:
    """Stops an actor at once: running calls fail, and it restarts only if no_restart=False allows."""
    if not isinstance(actor, ActorHandle):
        raise ValueError(f"ray.kill() only supported for actors. For tasks, try ray.cancel(). Got: {type(actor)}.")
    session = context.session_or_init()
    if session.direct is not None:
        # Calls made after this go through the node, behind the kill on our ordered stream
        # (a push could overtake it and run on the dying worker).
        session.direct.stop_pushing(actor._state.actor_id)
    session.outbox.kill_actor(actor._state.actor_id, no_restart)
