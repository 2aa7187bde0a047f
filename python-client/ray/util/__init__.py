"""Utilities built on tasks and actors, as in ray.util."""

from ray.util.actor_pool import ActorPool

__all__ = ["ActorPool"]
