"""ray.get_runtime_context() as Ray 2.60 has it (issue 10): current_actor,
get_assigned_resources(), was_current_actor_reconstructed, get(), get_task_name(),
get_task_function_name(), and the deprecated node_id / job_id properties.

The same checks pass on real Ray 2.60 (this file was run there with the same conftest).
"""

from __future__ import annotations

import os

import pytest

import ray


def test_driver_context(ray_cluster):
    ctx = ray.get_runtime_context()
    assert ctx.get_task_name() is None
    assert ctx.get_task_function_name() is None
    with pytest.raises(RuntimeError, match="only available in an actor"):
        ctx.current_actor  # noqa: B018
    with pytest.raises(AssertionError, match="only available when the process is a"):
        ctx.get_assigned_resources()
    with pytest.warns(DeprecationWarning, match="get_node_id"):
        node_id = ctx.node_id
    assert node_id.hex() == ctx.get_node_id()
    with pytest.warns(DeprecationWarning, match="get_job_id"):
        job_id = ctx.job_id
    assert job_id.hex() == ctx.get_job_id()
    with pytest.warns(DeprecationWarning):
        info = ctx.get()
    assert set(info) == {"job_id", "node_id", "namespace"}
    assert info["job_id"].hex() == ctx.get_job_id()
    assert info["node_id"].hex() == ctx.get_node_id()
    assert info["namespace"] == ctx.namespace


@ray.remote(num_cpus=0.5)
def task_context():
    ctx = ray.get_runtime_context()
    try:
        ctx.current_actor  # noqa: B018
        actor = "no error"
    except RuntimeError as e:
        actor = str(e)
    info = ctx.get()
    return {
        "actor": actor,
        "resources": ctx.get_assigned_resources(),
        "keys": sorted(info),
        "task_id": info["task_id"].hex(),
        "own_task_id": ctx.get_task_id(),
        "name": ctx.get_task_name(),
        "function": ctx.get_task_function_name(),
    }


def test_task_context(ray_cluster):
    out = ray.get(task_context.remote(), timeout=60)
    assert out["actor"] == "This method is only available in an actor."
    assert out["resources"] == {"CPU": 0.5}
    assert out["keys"] == ["job_id", "namespace", "node_id", "task_id"]
    assert out["task_id"] == out["own_task_id"]
    assert out["name"] == "task_context"
    assert out["function"] == f"{__name__}.task_context"
    named = ray.get(task_context.options(name="renamed", num_cpus=1).remote(), timeout=60)
    assert named["name"] == "renamed"
    assert named["function"] == f"{__name__}.task_context"
    assert named["resources"] == {"CPU": 1.0}


@ray.remote
class Introspective:
    def __init__(self):
        ctx = ray.get_runtime_context()
        self.at_init = (ctx.get_actor_id(), ctx.get_task_name(), ctx.current_actor._actor_id.hex())

    def describe(self):
        ctx = ray.get_runtime_context()
        info = ctx.get()
        return {
            "at_init": self.at_init,
            "actor_id": ctx.get_actor_id(),
            "current_actor": ctx.current_actor._actor_id.hex(),
            "resources": ctx.get_assigned_resources(),
            "reconstructed": ctx.was_current_actor_reconstructed,
            "keys": sorted(info),
            "info_actor_id": info["actor_id"].hex(),
            "name": ctx.get_task_name(),
            "function": ctx.get_task_function_name(),
            "node_id_type": type(ctx.node_id).__name__,
            "job_id_type": type(ctx.job_id).__name__,
        }

    def own_handle(self):
        return ray.get_runtime_context().current_actor

    def pid(self):
        return os.getpid()

    def crash(self):
        os._exit(1)


def test_actor_context(ray_cluster):
    actor = Introspective.options(num_cpus=1).remote()
    out = ray.get(actor.describe.remote(), timeout=60)
    actor_id = actor._actor_id.hex()
    assert out["actor_id"] == actor_id == out["current_actor"] == out["info_actor_id"]
    assert out["at_init"] == (actor_id, "Introspective.__init__", actor_id)
    assert out["resources"] == {"CPU": 1.0}
    assert out["reconstructed"] is False
    assert out["keys"] == ["actor_id", "job_id", "namespace", "node_id", "task_id"]
    assert out["name"] == "Introspective.describe"
    assert out["function"] == f"{__name__}.Introspective.describe"
    assert (out["node_id_type"], out["job_id_type"]) == ("NodeID", "JobID")
    # The handle current_actor gives works anywhere it is passed (here: back to the driver).
    own = ray.get(actor.own_handle.remote(), timeout=60)
    assert ray.get(own.pid.remote(), timeout=60) == ray.get(actor.pid.remote(), timeout=60)


def test_actor_without_resources_holds_none(ray_cluster):
    actor = Introspective.remote()
    assert ray.get(actor.describe.remote(), timeout=60)["resources"] == {}


def test_a_restarted_actor_knows_it_was_reconstructed(ray_cluster):
    actor = Introspective.options(max_restarts=1, max_task_retries=1).remote()
    assert ray.get(actor.describe.remote(), timeout=60)["reconstructed"] is False
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(actor.crash.options(max_task_retries=0).remote(), timeout=60)
    assert ray.get(actor.describe.remote(), timeout=60)["reconstructed"] is True
