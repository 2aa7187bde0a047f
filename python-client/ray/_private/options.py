"""Validation of @ray.remote / .options() keywords, with Ray's defaults, types and messages."""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, Optional, Tuple

_NoneType = type(None)


class _Option:
    __slots__ = ("types", "check", "default")

    def __init__(self, types: Tuple[type, ...], check: Optional[Callable[[Any], Optional[str]]] = None, default=None):
        self.types = types
        self.check = check
        self.default = default

    def validate(self, name: str, value) -> None:
        if not isinstance(value, self.types):
            raise TypeError(f"The type of keyword '{name}' must be {self.types}, but received type {type(value)}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise ValueError(problem)


def _count(name: str, infinite: bool, default=None) -> _Option:
    if infinite:
        return _Option(
            (int, _NoneType),
            lambda v: None
            if v is None or v >= -1
            else f"The keyword '{name}' only accepts None, 0, -1 or a positive integer, where -1 represents infinity.",
            default,
        )
    return _Option(
        (int, _NoneType),
        lambda v: None if v is None or v >= 0 else f"The keyword '{name}' only accepts None, 0 or a positive integer.",
        default,
    )


def _quantity_problem(name: str, quantity) -> Optional[str]:
    if quantity < 0:
        return f"The quantity of resource {name} cannot be negative"
    if isinstance(quantity, float) and quantity != 0.0 and int(quantity * 10000) == 0:
        return f"The precision of the fractional quantity of resource {name} cannot go beyond 0.0001"
    if name == "num_gpus" and quantity > 1 and quantity != int(quantity):
        return f"{name} cannot be a fraction greater than 1 (got {quantity})."
    return None


def _resource(name: str, default=None) -> _Option:
    return _Option((float, int, _NoneType), lambda v: None if v is None else _quantity_problem(name, v), default)


def _resources_problem(resources) -> Optional[str]:
    if resources is None:
        return None
    if "CPU" in resources or "GPU" in resources:
        return "Use the 'num_cpus' and 'num_gpus' keyword instead of 'CPU' and 'GPU' in 'resources' keyword"
    for name, quantity in resources.items():
        if not isinstance(name, str):
            return f"Resource names must be strings, got {name!r}"
        if not isinstance(quantity, (int, float)) or isinstance(quantity, bool):
            return f"The quantity of resource {name} must be a number, got {quantity!r}"
        problem = _quantity_problem(name, quantity)
        if problem:
            return problem
    return None


def _num_returns_problem(v) -> Optional[str]:
    if v is None or v in ("dynamic", "streaming") or (isinstance(v, int) and v >= 0):
        return None
    return (
        "The keyword 'num_returns' only accepts None, a non-negative integer, "
        "'streaming' (for generators), or 'dynamic'."
    )


def _retry_exceptions_problem(v) -> Optional[str]:
    if isinstance(v, bool):
        return None
    if isinstance(v, (list, tuple)) and all(isinstance(x, type) and issubclass(x, Exception) for x in v):
        return None
    return "retry_exceptions must be either a boolean or a list of exceptions"


# Label syntax, as Ray's (Kubernetes') labels: a name is 1-63 characters, alphanumeric at both
# ends, with '-', '_' and '.' between; a key may have a DNS-style prefix ("example.com/name").
_LABEL_NAME = re.compile(r"[A-Za-z0-9](?:[-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?")
_LABEL_NAME_RULE = (
    "must be 63 chars or less beginning and ending with an alphanumeric character ([a-z0-9A-Z]) with "
    "dashes (-), underscores (_),dots (.), and alphanumerics between."
)
_SELECTOR_OPERATORS = {"in"}


def _label_key_problem(key) -> Optional[str]:
    if not isinstance(key, str):
        raise TypeError(f"label_selector keys must be strings, got {type(key).__name__} {key!r}")
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not all(_LABEL_NAME.fullmatch(part) for part in prefix.split("."))):
        return (
            f"Invalid label key prefix `{prefix}`. Prefix must be a series of DNS labels "
            "separated by dots (.), not longer than 253 characters in total."
        )
    if not _LABEL_NAME.fullmatch(name):
        return f"Invalid label key name `{name}`. Name {_LABEL_NAME_RULE}"
    return None


def _selector_value_ok(value: str) -> bool:
    """``v``, ``!v``, ``in(v1,v2)`` or ``!in(v1, v2)``; the empty string matches an absent label."""
    if value == "":
        return True
    body = value[1:] if value.startswith("!") else value
    for op in _SELECTOR_OPERATORS:
        if body.startswith(op + "(") and body.endswith(")"):
            items = body[len(op) + 1 : -1].split(",")
            return all(
                _LABEL_NAME.fullmatch(item[1:] if i and item.startswith(" ") else item) for i, item in enumerate(items)
            )
    return _LABEL_NAME.fullmatch(body) is not None


def _label_selector_problem(selector) -> Optional[str]:
    if selector is None:
        return None
    for key, value in selector.items():
        problem = _label_key_problem(key)
        if problem:
            return problem
        if value is None:
            continue
        if not isinstance(value, str):
            raise TypeError(f"label_selector values must be strings, got {type(value).__name__} {value!r}")
        if not _selector_value_ok(value):
            return (
                f"Invalid label selector value `{value}`. The label selector value should contain optional "
                f"operators and a label value. Supported operators are: ! and {_SELECTOR_OPERATORS}. "
                f"Value {_LABEL_NAME_RULE}"
            )
    return None


def _fallback_strategy_problem(strategies) -> Optional[str]:
    """Ray's rules: a list of non-empty dicts whose only key (so far) is label_selector."""
    if strategies is None:
        return None
    for strategy in strategies:
        if not isinstance(strategy, dict):
            return "Each element in fallback_strategy must be a dictionary."
        if not strategy:
            return "Empty dictionary found in `fallback_strategy`."
        for key in strategy:
            if key != "label_selector":
                return f"Unsupported option found: '{key}'. Only ['label_selector'] is currently supported."
        selector = strategy.get("label_selector")
        if selector:
            if not isinstance(selector, dict):
                return 'The value of "label_selector" must be a dictionary.'
            problem = _label_selector_problem(selector)
            if problem:
                return problem
    return None


def _runtime_env_problem(env) -> Optional[str]:
    """Checked when the decorator or .options() is applied; raises Ray's TypeError/ValueError."""
    from ray._private import runtime_env

    runtime_env.validate(env)
    return None


COMMON_OPTIONS: Dict[str, _Option] = {
    "accelerator_type": _Option((str, _NoneType)),
    "memory": _resource("memory"),
    "name": _Option((str, _NoneType)),
    "num_cpus": _resource("num_cpus"),
    "num_gpus": _resource("num_gpus"),
    "object_store_memory": _count("object_store_memory", False),
    "placement_group": _Option((object,), default="default"),
    "placement_group_bundle_index": _Option((int,), default=-1),
    "placement_group_capture_child_tasks": _Option((bool, _NoneType)),
    "resources": _Option((dict, _NoneType), _resources_problem),
    "runtime_env": _Option((dict, _NoneType), lambda v: _runtime_env_problem(v)),
    "scheduling_strategy": _Option((object,)),
    "label_selector": _Option((dict, _NoneType), _label_selector_problem),
    "fallback_strategy": _Option((list, _NoneType), _fallback_strategy_problem),
    "enable_task_events": _Option((bool,), default=True),
    "_labels": _Option((dict, _NoneType)),
}

TASK_OPTIONS: Dict[str, _Option] = {
    **COMMON_OPTIONS,
    "max_calls": _count("max_calls", False, default=0),
    "max_retries": _count("max_retries", True, default=3),
    "num_cpus": _resource("num_cpus", default=1),
    "num_returns": _Option((int, str, _NoneType), _num_returns_problem),
    "object_store_memory": _Option(
        (int, _NoneType),
        lambda v: None if v is None else "Setting 'object_store_memory' is not implemented for tasks",
    ),
    "retry_exceptions": _Option((bool, list, tuple), _retry_exceptions_problem, default=False),
}


ACTOR_OPTIONS: Dict[str, _Option] = {
    **COMMON_OPTIONS,
    "concurrency_groups": _Option((list, dict, _NoneType)),
    "lifetime": _Option(
        (str, _NoneType),
        lambda v: None
        if v in (None, "detached", "non_detached")
        else "actor `lifetime` argument must be one of 'detached', 'non_detached' and 'None'.",
    ),
    "max_concurrency": _count("max_concurrency", False),
    "max_restarts": _count("max_restarts", True, default=0),
    "max_task_retries": _count("max_task_retries", True, default=0),
    "max_pending_calls": _count("max_pending_calls", True, default=-1),
    "namespace": _Option((str, _NoneType)),
    "get_if_exists": _Option((bool,), default=False),
    "allow_out_of_order_execution": _Option((bool, _NoneType)),
}


# Options Ray documents that this runtime does not carry out yet, with the test of whether a
# value asks for the missing behaviour (their defaults, and values that change nothing here,
# pass). Accepting and ignoring them would give users different results with no error.
_NOT_YET = {
    "accelerator_type": lambda v: v is not None,
    "label_selector": bool,
    "fallback_strategy": bool,
    "_labels": bool,
    "concurrency_groups": bool,
    "max_pending_calls": lambda v: v not in (None, -1),
    "allow_out_of_order_execution": bool,
    "object_store_memory": lambda v: v is not None,
}


def _check_strategy(value) -> None:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy

    if value in (None, "DEFAULT", "SPREAD") or isinstance(
        value, (NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy)
    ):
        return
    raise ValueError(
        f'Invalid scheduling_strategy value {value!r}. Valid values are "DEFAULT", "SPREAD", '
        "NodeAffinitySchedulingStrategy and PlacementGroupSchedulingStrategy."
    )


def check_supported(options: Dict[str, Any]) -> None:
    """Raises NotImplementedError naming the first option whose value asks for what is not built."""
    if "scheduling_strategy" in options:
        _check_strategy(options["scheduling_strategy"])
    pg = options.get("placement_group", "default")
    strategy = options.get("scheduling_strategy")
    if hasattr(strategy, "placement_group_bundle_index"):  # a PlacementGroupSchedulingStrategy
        pg = strategy.placement_group
    if pg not in ("default", None):
        from ray.util.placement_group import PlacementGroup

        if not isinstance(pg, PlacementGroup):
            raise TypeError(f"placement_group must be a PlacementGroup, got {type(pg).__name__}")
    for key, asks in _NOT_YET.items():
        if key in options and asks(options[key]):
            raise NotImplementedError(
                f"The option {key}={options[key]!r} is not supported by this Ray (Ray on the JVM) yet; "
                f"leave it at its default."
            )


def validate_actor_options(options: Dict[str, Any], in_options: bool) -> None:
    for key, value in options.items():
        option = ACTOR_OPTIONS.get(key)
        if option is None:
            raise ValueError(f"Invalid option keyword {key} for actors. Valid ones are {list(ACTOR_OPTIONS)}.")
        option.validate(key, value)
    if options.get("get_if_exists") and not options.get("name"):
        raise ValueError("The actor name must be specified to use `get_if_exists`.")
    check_supported(options)


def actor_defaults() -> Dict[str, Any]:
    return {k: o.default for k, o in ACTOR_OPTIONS.items() if o.default is not None}


def actor_resources(options: Dict[str, Any]):
    """(placement, lifetime) resources of an actor.

    As in Ray: without num_cpus an actor needs 1 CPU to be placed and holds none while it
    runs; an explicit num_cpus (and every other resource) is needed and held throughout.
    """
    cpus = options.get("num_cpus")
    lifetime = resource_demand({**options, "num_cpus": cpus or 0})
    placement = dict(lifetime)
    if cpus is None:
        placement["CPU"] = 1.0
    return placement, lifetime


def validate_task_options(options: Dict[str, Any], in_options: bool) -> None:
    for key, value in options.items():
        option = TASK_OPTIONS.get(key)
        if option is None:
            raise ValueError(f"Invalid option keyword {key} for remote functions. Valid ones are {list(TASK_OPTIONS)}.")
        option.validate(key, value)
    if in_options and "max_calls" in options:
        raise ValueError("Setting 'max_calls' is not supported in '.options()'.")
    if options.get("num_returns") == "streaming" and options.get("max_retries") not in (None, 0):
        raise NotImplementedError(
            "The option max_retries is not supported for num_returns='streaming' generator tasks by this Ray "
            "(Ray on the JVM) yet: they run once (max_retries=0)."
        )
    check_supported(options)


def task_defaults() -> Dict[str, Any]:
    return {k: o.default for k, o in TASK_OPTIONS.items() if o.default is not None}


def resource_demand(options: Dict[str, Any]) -> Dict[str, float]:
    """The resources a task holds while it runs."""
    demand: Dict[str, float] = {}
    cpus = options.get("num_cpus")
    demand["CPU"] = float(1 if cpus is None else cpus)
    gpus = options.get("num_gpus")
    if gpus:
        demand["GPU"] = float(gpus)
    memory = options.get("memory")
    if memory:
        demand["memory"] = float(memory)
    for name, amount in (options.get("resources") or {}).items():
        demand[name] = float(amount)
    return {k: v for k, v in demand.items() if v}


REMOTE_DECORATOR_ERROR = (
    "The @ray.remote decorator must be applied either with no arguments and no "
    "parentheses, for example '@ray.remote', or it must be applied using some of "
    f"the arguments in the list {list({**TASK_OPTIONS, **ACTOR_OPTIONS})}, for example "
    "'@ray.remote(num_returns=2, resources={\"CustomResource\": 1})'."
)
