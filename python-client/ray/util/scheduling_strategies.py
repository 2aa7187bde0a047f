"""Ray's scheduling strategies, for the `scheduling_strategy` option of tasks and actors."""

from __future__ import annotations

from typing import Optional


class NodeAffinitySchedulingStrategy:
    """Run on the node with id ``node_id`` (hex, as `ray.get_runtime_context().get_node_id()`
    gives it). If that node is not alive, ``soft=True`` runs the task anyway (on the caller's
    node) and ``soft=False`` fails it with `TaskUnschedulableError`."""

    def __init__(
        self, node_id: str, soft: bool, _spill_on_unavailable: bool = False, _fail_on_unavailable: bool = False
    ):
        if not isinstance(node_id, str):
            raise TypeError(f"node_id must be a hex string, got {type(node_id).__name__}")
        if _spill_on_unavailable or _fail_on_unavailable:
            raise NotImplementedError(
                "NodeAffinitySchedulingStrategy's _spill_on_unavailable and _fail_on_unavailable are not supported "
                "by this Ray (Ray on the JVM) yet"
            )
        self.node_id = node_id
        self.soft = soft
        self._spill_on_unavailable = _spill_on_unavailable
        self._fail_on_unavailable = _fail_on_unavailable

    def __repr__(self) -> str:
        return f"NodeAffinitySchedulingStrategy(node_id={self.node_id!r}, soft={self.soft})"


class PlacementGroupSchedulingStrategy:
    """Run in a placement group: in bundle ``placement_group_bundle_index`` (-1: any of its
    bundles); with ``placement_group_capture_child_tasks`` the tasks and actors it creates run in
    the group too unless they say otherwise."""

    def __init__(
        self,
        placement_group,
        placement_group_bundle_index: int = -1,
        placement_group_capture_child_tasks: Optional[bool] = None,
    ):
        self.placement_group = placement_group
        self.placement_group_bundle_index = placement_group_bundle_index
        self.placement_group_capture_child_tasks = placement_group_capture_child_tasks
