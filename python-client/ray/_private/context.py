"""The process's connection to a Ray cluster, if any.

A *session* is created by ray.init() in a driver, or by the worker runtime inside a worker,
and dropped by ray.shutdown(). Low-level modules (ObjectRef, serialization) reach it here
without importing the rest of the client.
"""

from __future__ import annotations

import os
import threading
from typing import List, Optional, Union

_session = None
_lock = threading.RLock()


def current_session():
    return _session


def set_session(session) -> None:
    global _session
    with _lock:
        _session = session


# Set by ray._private.api: ray.init() with no arguments. APIs that Ray starts (or joins) a
# cluster for on first use call session_or_init() instead of require_session().
auto_init = None


def session_or_init():
    """The connected session; as Ray, a process with none first runs ray.init() (unless
    RAY_ENABLE_AUTO_CONNECT=0): it starts a local cluster, or joins RAY_ADDRESS or the one
    `ray start` recorded."""
    s = _session
    if (s is None or not s.connected) and auto_init is not None and os.environ.get("RAY_ENABLE_AUTO_CONNECT") != "0":
        auto_init()
    return require_session()


def require_session():
    """The connected session, or the exception Ray raises when there is none."""
    s = _session
    if s is None or not s.connected:
        raise RuntimeError("Ray has not been started yet. You can start Ray with 'ray.init()'.")
    return s


class TaskContext(threading.local):
    """What the current thread is running: used for log prefixes, nested submissions (their
    parent_task_id) and ray.get_gpu_ids()."""

    task_id: Optional[bytes] = None
    task_name: str = ""
    # The TaskSpec running on this thread (ray.get_runtime_context() reads its name, function
    # and resources), or None.
    spec = None
    # GPU ids leased to the running plain task (None: it runs no plain task).
    gpu_ids: Optional[List[Union[int, str]]] = None
    # For a call its caller pushed here (a direct call): (caller id, seq of the caller's message
    # that registered it). Every object the call reads, including refs nested in its arguments,
    # is read after the node has applied the caller's changes up to it.
    fence: Optional[tuple] = None


task_context = TaskContext()

# GPU ids leased to the actor this worker hosts, for its whole life (methods see them).
actor_gpu_ids: List[Union[int, str]] = []

# The placement group (common.PlacementGroupPlacement) of the actor this worker hosts, if any:
# its methods run in it (ray.util.get_current_placement_group, capture_child_tasks).
actor_placement = None
