"""Calling Java from Python, as Ray documents it: ``java_function(class_name, function_name)``
and ``java_actor_class(class_name)``, after ``ray.init(job_config=JobConfig(code_search_path=[...]))``.
Arguments and results cross in Ray's cross-language format (ray._private.cross_language); a Java
exception arrives as ``ray.exceptions.CrossLanguageError``."""

from __future__ import annotations

import os
from typing import Any, Dict, Optional

from ray._private import context, cross_language, ids, task_spec
from ray._private.options import resource_demand, validate_task_options
from ray.rpc import common_pb2 as common

__all__ = ["java_function", "java_actor_class"]

_OPTIONS = {"num_cpus", "num_gpus", "resources", "memory", "max_retries", "name"}


def _java_spec(session, name: str, class_name: str, function_name: str, max_retries: int) -> common.TaskSpec:
    """A task spec calling Java: its ids, the Java function it names, from a Python caller."""
    spec = common.TaskSpec(
        task_id=ids.new_task_id(session.job_id),
        job_id=session.job_id,
        caller_id=session.client_id,
        num_returns=1,
        max_retries=max_retries,
        name=name,
        caller_language=common.PYTHON,
    )
    spec.function.language = common.JAVA
    spec.function.class_name = class_name
    spec.function.function_name = function_name
    spec.function.function_id = cross_language.function_id("java", class_name, function_name)
    parent = context.task_context.task_id
    if parent:
        spec.parent_task_id = parent
    return spec


def _submit(session, spec: common.TaskSpec, args) -> None:
    keep_alive = [cross_language.add_arg(session, spec.args.add(), a) for a in args]
    session.submit(spec)
    del keep_alive  # large arguments were put into the store; the node holds them now


class JavaFunction:
    """A static method of a Java class, callable as a remote function: ``.remote(*args)``."""

    def __init__(self, class_name: str, function_name: str, options: Optional[Dict[str, Any]] = None):
        if not isinstance(class_name, str) or not class_name:
            raise TypeError(f"class_name must be a non-empty string, got {class_name!r}")
        if not isinstance(function_name, str) or not function_name:
            raise TypeError(f"function_name must be a non-empty string, got {function_name!r}")
        self._class_name = class_name
        self._function_name = function_name
        self._options = dict(options or {})

    def options(self, **options) -> JavaFunction:
        unknown = set(options) - _OPTIONS
        if unknown:
            raise NotImplementedError(
                f"Options {sorted(unknown)} of java_function calls are not supported by this Ray (Ray on the JVM) yet"
            )
        validate_task_options(options, in_options=True)
        return JavaFunction(self._class_name, self._function_name, {**self._options, **options})

    def remote(self, *args, **kwargs):
        if kwargs:
            raise TypeError("Java functions take positional arguments only")
        session = context.session_or_init()
        opts = self._options
        name = opts.get("name") or f"{self._class_name.rsplit('.', 1)[-1]}.{self._function_name}"
        spec = _java_spec(session, name, self._class_name, self._function_name, opts.get("max_retries", 3))
        spec.resources.update(resource_demand({"num_cpus": opts.get("num_cpus", 1), **opts}))
        _submit(session, spec, args)
        return task_spec.return_refs(spec.task_id, 1)

    def __call__(self, *args, **kwargs):
        raise TypeError("Remote functions cannot be called directly. Instead of running 'f()', try 'f.remote()'.")


def java_function(class_name: str, function_name: str) -> JavaFunction:
    """A Java static method, by its class and name (the class must be on the job's code search
    path; an overloaded name is chosen by its number of arguments)."""
    return JavaFunction(class_name, function_name)


class JavaActorClass:
    """A Java class whose instances are actors: ``.remote(*args)`` creates one."""

    def __init__(self, class_name: str, options: Optional[Dict[str, Any]] = None):
        if not isinstance(class_name, str) or not class_name:
            raise TypeError(f"class_name must be a non-empty string, got {class_name!r}")
        self._class_name = class_name
        self._options = dict(options or {})

    def options(self, **options) -> JavaActorClass:
        unknown = set(options) - _ACTOR_OPTIONS
        if unknown:
            raise NotImplementedError(
                f"Options {sorted(unknown)} of java_actor_class are not supported by this Ray (Ray on the JVM) yet"
            )
        return JavaActorClass(self._class_name, {**self._options, **options})

    def remote(self, *args, **kwargs) -> JavaActorHandle:
        if kwargs:
            raise TypeError("Java constructors take positional arguments only")
        from ray._private.options import actor_resources

        session = context.session_or_init()
        opts = self._options
        simple = self._class_name.rsplit(".", 1)[-1]
        actor_id = os.urandom(12) + session.job_id
        spec = _java_spec(session, f"{simple}.<init>", self._class_name, "<init>", 0)
        placement, lifetime = actor_resources(opts)
        spec.resources.update(placement)
        creation = spec.actor_creation
        creation.actor_id = actor_id
        creation.max_restarts = opts.get("max_restarts", 0)
        creation.max_task_retries = opts.get("max_task_retries", 0)
        creation.max_concurrency = opts.get("max_concurrency", 1)
        creation.class_name = simple
        creation.lifetime_resources.update(lifetime)
        _submit(session, spec, args)
        # The creation's return is the actor's lifetime object: this handle's ref keeps it alive.
        lifetime_ref = task_spec.return_refs(spec.task_id, 1)
        return JavaActorHandle(actor_id, self._class_name, lifetime_ref, session.node_id)


_ACTOR_OPTIONS = {"num_cpus", "num_gpus", "resources", "memory", "max_restarts", "max_task_retries", "max_concurrency"}


class JavaActorHandle:
    """A Java actor, called from Python: ``handle.method.remote(*args)``. Calls go through the
    node, in order."""

    def __init__(self, actor_id: bytes, class_name: str, lifetime_ref, home_node_id: bytes):
        self._actor_id = actor_id
        self._class_name = class_name
        self._lifetime_ref = lifetime_ref
        self._home_node_id = home_node_id

    def __getattr__(self, name: str) -> _JavaActorMethod:
        if name.startswith("_"):
            raise AttributeError(name)
        return _JavaActorMethod(self, name)

    def __repr__(self) -> str:
        return f"JavaActorHandle({self._class_name}, {self._actor_id.hex()})"


class _JavaActorMethod:
    def __init__(self, handle: JavaActorHandle, name: str):
        self._handle = handle
        self._name = name

    def remote(self, *args, **kwargs):
        if kwargs:
            raise TypeError("Java methods take positional arguments only")
        session = context.session_or_init()
        h = self._handle
        name = f"{h._class_name.rsplit('.', 1)[-1]}.{self._name}"
        spec = _java_spec(session, name, h._class_name, self._name, 0)
        spec.actor_task.actor_id = h._actor_id
        spec.actor_task.method_name = self._name
        spec.actor_task.lifetime_object_id = h._lifetime_ref.binary()
        spec.actor_task.home_node_id = h._home_node_id
        _submit(session, spec, args)
        return task_spec.return_refs(spec.task_id, 1)


def java_actor_class(class_name: str) -> JavaActorClass:
    """A Java class (on the job's code search path) whose instances are actors; its constructor
    and methods are chosen by name and number of arguments."""
    return JavaActorClass(class_name)
