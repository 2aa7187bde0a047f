"""Placement groups (Ray's ``ray.util.placement_group``): bundles of resources reserved together
on the cluster's nodes, in which tasks and actors then run.

The control service records a group at once and places its bundles as soon as the nodes have room
(all of them or none, by the group's strategy). A placed bundle ``i`` of group ``H`` with
``{"CPU": 2}`` shows up as the resources ``CPU_group_i_H`` and ``CPU_group_H`` on its node; a task
scheduled in the group asks for those instead of ``CPU``, so the nodes schedule it like any other.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Union

from ray._private import context, ids
from ray.rpc import common_pb2 as common
from ray.rpc import control_service_pb2 as control

PLACEMENT_GROUP_ID_SIZE = 18
VALID_STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")
# Of the bundle marker resource (1000 per bundle), what a task that needs nothing else asks for.
_BUNDLE_SHARE = 0.001


class PlacementGroupID(ids.BaseID):
    __slots__ = ()


class PlacementGroup:
    """A handle to a placement group."""

    def __init__(self, id: PlacementGroupID, bundle_cache: Optional[List[Dict[str, float]]] = None):
        self.id = id
        self.bundle_cache = bundle_cache

    @staticmethod
    def empty() -> PlacementGroup:
        return PlacementGroup(PlacementGroupID(b"\0" * PLACEMENT_GROUP_ID_SIZE))

    def is_empty(self) -> bool:
        return self.id.is_nil()

    def ready(self):
        """An ObjectRef that becomes ready (holding this group) once the group is placed.

        As in Ray, a tiny task that runs in the group's first bundle: it can only start there once
        every bundle is reserved. Works with ray.get and ray.wait."""
        if not self.bundle_specs:
            raise ValueError("ready() cannot be called on a placement group with no bundles")
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        return (
            _reservation_check()
            .options(
                num_cpus=0,
                max_retries=-1,
                scheduling_strategy=PlacementGroupSchedulingStrategy(self, placement_group_bundle_index=0),
            )
            .remote(self)
        )

    def wait(self, timeout_seconds: Union[float, int] = 30) -> bool:
        """Waits up to ``timeout_seconds`` for the group to be placed; returns whether it is."""
        import ray

        ready, _ = ray.wait([self.ready()], timeout=timeout_seconds)
        return bool(ready)

    @property
    def bundle_specs(self) -> List[Dict[str, float]]:
        """The bundles of this group, in index order."""
        if self.bundle_cache is None:
            info = _lookup(self.id.binary())
            if info is None:
                raise ValueError(f"Placement group {self.id.hex()} does not exist")
            self.bundle_cache = [dict(b.resources) for b in info.bundles]
        return self.bundle_cache

    @property
    def bundle_count(self) -> int:
        return len(self.bundle_specs)

    def __eq__(self, other) -> bool:
        return isinstance(other, PlacementGroup) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"PlacementGroup(id={self.id.hex()})"

    def __reduce__(self):
        return (_rebuild, (self.id.binary(), self.bundle_cache))


def _rebuild(binary: bytes, bundles) -> PlacementGroup:
    return PlacementGroup(PlacementGroupID(binary), bundles)


_check = None


def _reservation_check():
    global _check
    if _check is None:
        import ray

        @ray.remote(num_cpus=0)
        def placement_group_ready(pg):
            return pg

        _check = placement_group_ready
    return _check


def _validate_bundles(bundles) -> None:
    if not isinstance(bundles, list):
        raise ValueError(f"The type of bundles must be list, got {bundles!r}")
    if not bundles:
        raise ValueError("The placement group `bundles` argument cannot contain an empty list")
    for bundle in bundles:
        if not isinstance(bundle, dict):
            raise ValueError(f"Bundles must be a list of dictionaries, got {bundles!r}")
        if not bundle or all(v == 0 for v in bundle.values()):
            raise ValueError(
                f"Bundles cannot be an empty dictionary or resources with only 0 values. Bundles: {bundles}"
            )
        for name, amount in bundle.items():
            if not isinstance(name, str) or not isinstance(amount, (int, float)) or isinstance(amount, bool):
                raise ValueError(f"Bundle resources must map names to numbers, got {bundle!r}")
            if amount < 0:
                raise ValueError(f"Bundle resources cannot be negative, got {name}={amount} in {bundle!r}")
            if name == "GPU" and amount > 0:
                raise NotImplementedError(
                    "Placement group bundles with GPUs are not supported by this Ray (Ray on the JVM) yet"
                )


def placement_group(
    bundles: List[Dict[str, float]],
    strategy: str = "PACK",
    name: str = "",
    lifetime: Optional[str] = None,
    _soft_target_node_id: Optional[str] = None,
    bundle_label_selector: Optional[List[Dict[str, str]]] = None,
) -> PlacementGroup:
    """Reserves ``bundles`` on the cluster, asynchronously: use ``pg.ready()`` or ``pg.wait()``.

    strategy: "PACK" (as few nodes as possible), "SPREAD" (distinct nodes as far as possible),
    "STRICT_PACK" (one node), "STRICT_SPREAD" (each bundle on its own node). lifetime: None (the
    group goes with its job) or "detached"."""
    session = context.session_or_init()
    _validate_bundles(bundles)
    if strategy not in VALID_STRATEGIES:
        raise ValueError(
            f"Invalid placement group strategy {strategy}. Supported strategies are: {list(VALID_STRATEGIES)}."
        )
    if lifetime not in (None, "detached"):
        raise ValueError("placement group `lifetime` argument must be either `None` or 'detached'")
    if not isinstance(name, str):
        raise TypeError(f"The placement group name must be a string, got {type(name).__name__}")
    if _soft_target_node_id is not None:
        raise NotImplementedError(
            "placement_group's _soft_target_node_id is not supported by this Ray (Ray on the JVM) yet"
        )
    if bundle_label_selector:
        raise NotImplementedError(
            "placement_group's bundle_label_selector is not supported by this Ray (Ray on the JVM) yet"
        )
    group_id = os.urandom(PLACEMENT_GROUP_ID_SIZE - ids.JOB_ID_SIZE) + session.job_id
    info = control.PlacementGroupInfo(
        placement_group_id=group_id,
        name=name,
        ray_namespace=session.namespace,
        strategy=strategy,
        creator_job_id=session.job_id,
        detached=lifetime == "detached",
    )
    for i, bundle in enumerate(bundles):
        info.bundles.add(placement_group_id=group_id, index=i, resources={k: float(v) for k, v in bundle.items()})
    reply = session.control_call(
        "CreatePlacementGroup",
        control.CreatePlacementGroupRequest(placement_group=info),
        control.CreatePlacementGroupReply,
    )
    if reply.error:
        raise ValueError(reply.error)
    return PlacementGroup(PlacementGroupID(group_id), [dict(b) for b in bundles])


def remove_placement_group(placement_group: PlacementGroup) -> None:
    """Removes the group: its bundles are freed, and tasks and actors running in it are killed."""
    if not isinstance(placement_group, PlacementGroup):
        raise TypeError(f"remove_placement_group expects a PlacementGroup, got {type(placement_group).__name__}")
    session = context.require_session()
    session.control_call(
        "RemovePlacementGroup",
        control.RemovePlacementGroupRequest(placement_group_id=placement_group.id.binary()),
        control.RemovePlacementGroupReply,
    )


def _lookup(group_id: bytes):
    session = context.require_session()
    reply = session.control_call(
        "GetPlacementGroups",
        control.GetPlacementGroupsRequest(placement_group_id=group_id),
        control.GetPlacementGroupsReply,
    )
    return reply.placement_groups[0] if reply.placement_groups else None


def get_placement_group(placement_group_name: str) -> PlacementGroup:
    """The live placement group with this name in the current namespace (ValueError if none)."""
    if not placement_group_name:
        raise ValueError("Please supply a non-empty value to get_placement_group")
    session = context.session_or_init()
    reply = session.control_call(
        "GetPlacementGroups",
        control.GetPlacementGroupsRequest(name=placement_group_name, ray_namespace=session.namespace),
        control.GetPlacementGroupsReply,
    )
    if not reply.placement_groups:
        raise ValueError(f"Failed to look up placement group with name: {placement_group_name}")
    info = reply.placement_groups[0]
    return PlacementGroup(PlacementGroupID(info.placement_group_id), [dict(b.resources) for b in info.bundles])


def _table_entry(info) -> dict:
    strategy = info.strategy
    return {
        "placement_group_id": info.placement_group_id.hex(),
        "name": info.name,
        "bundles": {b.index: dict(b.resources) for b in info.bundles},
        "bundles_to_node_id": {i: node.hex() for i, node in enumerate(info.bundle_nodes) if node},
        "strategy": strategy,
        "state": control.PlacementGroupState.Name(info.state),
        "stats": None,
    }


def placement_group_table(placement_group: Optional[PlacementGroup] = None) -> dict:
    """One group's state (as a dict), or every group's, keyed by hex id."""
    session = context.session_or_init()
    request = control.GetPlacementGroupsRequest()
    if placement_group is not None:
        request.placement_group_id = placement_group.id.binary()
    reply = session.control_call("GetPlacementGroups", request, control.GetPlacementGroupsReply)
    if placement_group is not None:
        return _table_entry(reply.placement_groups[0]) if reply.placement_groups else {}
    return {info.placement_group_id.hex(): _table_entry(info) for info in reply.placement_groups}


def _current_placement() -> Optional[common.PlacementGroupPlacement]:
    """The placement group of the task or actor running on this thread, or None."""
    spec = context.task_context.spec
    if spec is not None and spec.scheduling_strategy.HasField("placement_group"):
        return spec.scheduling_strategy.placement_group
    return context.actor_placement


def get_current_placement_group() -> Optional[PlacementGroup]:
    """The placement group the current task or actor runs in; None in a driver or outside one."""
    placement = _current_placement()
    if placement is None:
        return None
    return PlacementGroup(PlacementGroupID(placement.placement_group_id))


def check_placement_group_index(placement_group: PlacementGroup, bundle_index: int) -> None:
    if placement_group is None or placement_group.is_empty():
        if bundle_index != -1:
            raise ValueError("If placement group is not set, the value of bundle index must be -1.")
        return
    if not isinstance(bundle_index, int) or bundle_index < -1 or bundle_index >= placement_group.bundle_count:
        raise ValueError(
            f"placement group bundle index {bundle_index} is invalid. Valid placement group indexes: "
            f"0-{placement_group.bundle_count}"
        )


def _fits(demand: Dict[str, float], bundle: Dict[str, float]) -> bool:
    return all(bundle.get(name, 0) >= amount for name, amount in demand.items() if amount > 0)


def group_demand(
    demand: Dict[str, float], pg: PlacementGroup, index: int, what: str, marker: bool = True
) -> Dict[str, float]:
    """The resources a task or actor needing ``demand`` asks for in bundle ``index`` of ``pg``
    (-1: any bundle); with ``marker``, a demand of nothing asks for a sliver of the bundle's
    marker resource, so that it still runs on the group's nodes. Raises ValueError, as Ray does,
    when no bundle it may use can hold it."""
    check_placement_group_index(pg, index)
    bundles = pg.bundle_specs
    candidates = bundles if index == -1 else [bundles[index]]
    if not any(_fits(demand, b) for b in candidates):
        where = "any bundle" if index == -1 else f"the bundle index {index}"
        raise ValueError(
            f"Cannot schedule {what} with the placement group because the resource request {demand} cannot fit "
            f"into {where} of the placement group, {bundles}."
        )
    hex_id = pg.id.hex()
    out: Dict[str, float] = {}
    for name, amount in demand.items():
        if amount > 0:
            out[f"{name}_group_{hex_id}"] = amount
            if index >= 0:
                out[f"{name}_group_{index}_{hex_id}"] = amount
    if not out and marker:
        out[f"bundle_group_{hex_id}"] = _BUNDLE_SHARE
        if index >= 0:
            out[f"bundle_group_{index}_{hex_id}"] = _BUNDLE_SHARE
    return out


def resolve(options: dict):
    """(PlacementGroup, bundle index, capture) a submission with ``options`` runs in, or None:
    its PlacementGroupSchedulingStrategy, the older ``placement_group=`` options, or the group of
    the task submitting it when that one captures child tasks."""
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    strategy = options.get("scheduling_strategy")
    if isinstance(strategy, PlacementGroupSchedulingStrategy):
        pg = strategy.placement_group
        index = strategy.placement_group_bundle_index
        capture = bool(strategy.placement_group_capture_child_tasks)
    else:
        pg = options.get("placement_group", "default")
        index = options.get("placement_group_bundle_index", -1)
        capture = bool(options.get("placement_group_capture_child_tasks"))
        if pg == "default":
            if strategy not in (None, "DEFAULT"):
                return None
            parent = _current_placement()
            if parent is None or not parent.capture_child_tasks:
                return None
            pg, index, capture = PlacementGroup(PlacementGroupID(parent.placement_group_id)), -1, True
    if pg is None or (isinstance(pg, PlacementGroup) and pg.is_empty()):
        check_placement_group_index(None, index)
        return None
    if not isinstance(pg, PlacementGroup):
        raise TypeError(f"placement_group must be a PlacementGroup, got {type(pg).__name__}")
    return pg, index, capture


def apply(spec, options: dict):
    """Puts the placement group (if any) of a submission into ``spec``; returns (group, bundle
    index), or None when it runs in no group."""
    placed = resolve(options)
    if placed is None:
        return None
    pg, index, capture = placed
    target = spec.scheduling_strategy.placement_group
    target.placement_group_id = pg.id.binary()
    target.bundle_index = index
    target.capture_child_tasks = capture
    return pg, index


__all__ = [
    "PlacementGroup",
    "placement_group",
    "remove_placement_group",
    "get_placement_group",
    "placement_group_table",
    "get_current_placement_group",
    "check_placement_group_index",
]
