"""ray.init, ray.is_initialized and ray.shutdown. Each test owns its cluster, if any: no
module-scoped cluster here."""

from __future__ import annotations

import os

import psutil
import pytest

import ray

MIB = 1024 * 1024


@ray.remote
def square(x):
    return x * x


@pytest.fixture
def no_cluster():
    """The test starts without a cluster, and leaves none behind even if it fails."""
    assert not ray.is_initialized()
    yield
    ray.shutdown()


def _our_engine_processes():
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(p.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "io.ray.engine.node.NodeMain" in cmd and p.status() != psutil.STATUS_ZOMBIE:
            found.append(p.pid)
    return found


BAD_INIT_ARGUMENTS = [
    ({"num_cpus": -1}, ValueError, None),
    ({"num_cpus": "two"}, TypeError, None),
    ({"num_cpus": [2]}, TypeError, None),
    ({"num_gpus": -1}, ValueError, None),
    ({"num_gpus": "one"}, TypeError, None),
    ({"resources": {"CPU": 1}}, ValueError, "CPU"),
    ({"resources": {"GPU": 1}}, ValueError, "GPU"),
    ({"resources": {"widget": -1}}, ValueError, None),
    ({"no_such_argument": 1}, RuntimeError, "Unknown keyword argument"),
    ({"num_cpus": 1, "bogus": True}, RuntimeError, "Unknown keyword argument"),
    ({"object_store_memory": 1000}, ValueError, None),
    ({"object_store_memory": 1 * MIB}, ValueError, None),
]


@pytest.mark.parametrize("kwargs,error,text", BAD_INIT_ARGUMENTS, ids=[repr(k) for k, _, _ in BAD_INIT_ARGUMENTS])
def test_bad_init_arguments_raise_and_start_nothing(no_cluster, kwargs, error, text):
    before = set(_our_engine_processes())
    with pytest.raises(error) as info:
        ray.init(**kwargs)
    if text:
        assert text in str(info.value)
    assert not ray.is_initialized()
    assert set(_our_engine_processes()) <= before, "a rejected ray.init must not start a node"


def test_shutdown_without_init_is_a_no_op(no_cluster):
    ray.shutdown()
    ray.shutdown()
    assert not ray.is_initialized()


def test_default_init_detects_cpus_rejects_reinit_and_shuts_down(no_cluster):
    ray.init()
    assert ray.is_initialized()
    assert ray.cluster_resources()["CPU"] == len(os.sched_getaffinity(0))
    assert "GPU" not in ray.cluster_resources()

    with pytest.raises(RuntimeError, match="ignore_reinit_error=True"):
        ray.init()
    with pytest.raises(RuntimeError):
        ray.init(num_cpus=1)
    assert ray.is_initialized()

    # ignore_reinit_error: no error, and the running cluster is kept as it is.
    ray.init(ignore_reinit_error=True)
    ray.init(num_cpus=1, ignore_reinit_error=True)
    assert ray.is_initialized()
    assert ray.cluster_resources()["CPU"] == len(os.sched_getaffinity(0))
    assert ray.get(square.remote(7), timeout=90) == 49

    ref = ray.put("kept")
    ray.shutdown()
    assert not ray.is_initialized()
    with pytest.raises((RuntimeError, ray.exceptions.RayError)):
        ray.get(ref)
    with pytest.raises((RuntimeError, ray.exceptions.RayError)):
        ray.get(ref, timeout=1)
    ray.shutdown()  # idempotent
    assert not ray.is_initialized()


def test_init_arguments_are_reflected_in_cluster_resources(no_cluster):
    ray.init(
        num_cpus=1,
        num_gpus=2,
        resources={"widget": 4, "half": 0.5},
        object_store_memory=96 * MIB,
        namespace="suite-namespace",
        ignore_reinit_error=False,
        log_to_driver=True,
    )
    total = ray.cluster_resources()
    assert total["CPU"] == 1
    assert total["GPU"] == 2
    assert total["widget"] == 4
    assert total["half"] == 0.5
    assert total["object_store_memory"] == 96 * MIB
    assert ray.get_runtime_context().namespace == "suite-namespace"
    assert ray.nodes()[0]["Resources"]["widget"] == 4

    # Tasks may ask for all of it.
    ref = square.options(num_gpus=2, resources={"widget": 4, "half": 0.5}).remote(3)
    assert ray.get(ref, timeout=90) == 9
    ray.shutdown()
    assert not ray.is_initialized()


def test_init_after_shutdown_starts_a_new_cluster(no_cluster):
    ray.init(num_cpus=1)
    first_node = ray.nodes()[0]["NodeID"]
    ray.shutdown()
    ray.init(num_cpus=1, resources={"again": 1})
    assert ray.nodes()[0]["NodeID"] != first_node
    assert ray.cluster_resources()["again"] == 1
    assert ray.get(square.remote(4), timeout=90) == 16
