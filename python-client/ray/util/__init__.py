"""Utilities built on tasks and actors, as in ray.util."""

from ray.util.actor_pool import ActorPool
from ray.util.java_gateway import java_gateway
from ray.util.placement_group import (
    get_current_placement_group,
    get_placement_group,
    placement_group,
    placement_group_table,
    remove_placement_group,
)


def get_node_ip_address() -> str:
    """The IP address of the node this process runs on (a driver: the node it is attached to)."""
    from ray._private import context

    return context.session_or_init().node_ip


__all__ = [
    "ActorPool",
    "java_gateway",
    "get_node_ip_address",
    "placement_group",
    "placement_group_table",
    "get_placement_group",
    "get_current_placement_group",
    "remove_placement_group",
]
