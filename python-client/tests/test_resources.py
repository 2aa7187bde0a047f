"""Resources: the node table, totals and availability, and scheduling by CPU, GPU and custom
resources, including requests no node can satisfy.

This module's cluster is the usual two CPUs plus one GPU and one unit of a custom resource
'slot', so that one cluster serves every test here.
"""

from __future__ import annotations

import os
import textwrap
import time

import pytest
from conftest import run_script
from helpers import max_overlap, touch, wait_for_file, wait_until

import ray

GET_TIMEOUT = 90


@pytest.fixture(scope="module")
def slot_cluster():
    ray.init(num_cpus=2, num_gpus=1, resources={"slot": 1}, object_store_memory=256 * 1024 * 1024)
    yield
    ray.shutdown()


@ray.remote
def interval(seconds):
    """Sleeps; returns when it ran, by the wall clock shared by every process on this host."""
    start = time.time()
    time.sleep(seconds)
    return start, time.time()


@ray.remote(resources={"slot": 1})
def slot_interval(seconds):
    start = time.time()
    time.sleep(seconds)
    return start, time.time()


@ray.remote
def hold_until(started, gate):
    touch(started)
    wait_for_file(gate)
    return "released"


# ----------------------------------------------------------------------------- cluster state


def test_nodes_lists_one_alive_node_with_rays_keys(slot_cluster):
    nodes = ray.nodes()
    assert isinstance(nodes, list) and len(nodes) == 1
    node = nodes[0]
    for key in ("NodeID", "Alive", "NodeManagerAddress", "NodeManagerPort", "Resources"):
        assert key in node, f"missing key {key!r} in {sorted(node)}"
    assert node["Alive"] is True
    assert len(node["NodeID"]) == 56 and int(node["NodeID"], 16) >= 0
    assert isinstance(node["NodeManagerAddress"], str) and node["NodeManagerAddress"]
    assert node["Resources"]["CPU"] == 2
    assert node["Resources"]["GPU"] == 1
    assert node["Resources"]["slot"] == 1
    assert node["NodeID"] == ray.get_runtime_context().get_node_id()


def test_cluster_resources_reflect_init_arguments(slot_cluster):
    total = ray.cluster_resources()
    assert total["CPU"] == 2
    assert total["GPU"] == 1
    assert total["slot"] == 1
    assert total["object_store_memory"] > 0


def test_available_resources_drop_while_a_task_runs(slot_cluster, tmp_path, gate):
    total = ray.cluster_resources()
    wait_until(lambda: ray.available_resources().get("CPU") == total["CPU"], what="all CPUs to be free")
    assert ray.available_resources().get("slot") == 1

    started = tmp_path / "started"
    ref = hold_until.options(resources={"slot": 1}).remote(str(started), str(gate))
    wait_until(started.exists, what="the task to start")
    during = ray.available_resources()
    assert during.get("CPU") == total["CPU"] - 1
    assert during.get("slot", 0) == 0
    assert during.get("GPU") == 1

    touch(gate)
    assert ray.get(ref, timeout=GET_TIMEOUT) == "released"
    after = wait_until(
        lambda: (lambda a: a if a.get("CPU") == total["CPU"] and a.get("slot") == 1 else None)(
            ray.available_resources()
        ),
        what="the task's resources to return",
    )
    assert after["GPU"] == 1


# ----------------------------------------------------------------------------- scheduling


def test_tasks_needing_the_only_slot_run_one_after_another(slot_cluster):
    """Two CPUs are free, but one 'slot': the two tasks must not overlap."""
    spans = ray.get([slot_interval.remote(1.0) for _ in range(2)], timeout=GET_TIMEOUT)
    first, second = sorted(spans)
    assert second[0] >= first[1] - 0.05, f"slot tasks overlapped: {spans}"
    assert max_overlap(spans) == 1


def test_more_slot_tasks_than_slots_queue_and_all_complete(slot_cluster):
    spans = ray.get([slot_interval.remote(0.2) for _ in range(5)], timeout=GET_TIMEOUT)
    assert len(spans) == 5
    # Shrink each span a little so that end == next start (same millisecond) is no overlap.
    assert max_overlap([(s + 0.01, e - 0.01) for s, e in spans]) == 1, spans


def test_gpu_tasks_are_limited_by_num_gpus(slot_cluster):
    spans = ray.get([interval.options(num_gpus=1).remote(0.5) for _ in range(3)], timeout=GET_TIMEOUT)
    assert max_overlap([(s + 0.01, e - 0.01) for s, e in spans]) == 1, spans


def test_cpu_tasks_never_exceed_the_cpu_count(slot_cluster):
    spans = ray.get([interval.remote(0.5) for _ in range(6)], timeout=GET_TIMEOUT)
    assert max_overlap([(s + 0.01, e - 0.01) for s, e in spans]) <= 2, spans


@pytest.mark.parametrize("num_cpus,parties", [(1, 2), (0.5, 4)])
def test_tasks_run_concurrently_up_to_the_cpu_count(slot_cluster, tmp_path, num_cpus, parties):
    """Each task waits until all of its party have started: this finishes only if the
    scheduler runs 2 / num_cpus tasks at once (new workers may have to start first)."""
    refs = [barrier.options(num_cpus=num_cpus).remote(str(tmp_path), i, parties) for i in range(parties)]
    assert sorted(ray.get(refs, timeout=GET_TIMEOUT)) == list(range(parties))


@ray.remote
def barrier(directory, index, parties):
    touch(os.path.join(directory, f"arrived-{index}"))
    deadline = time.monotonic() + 60
    while len(os.listdir(directory)) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(os.listdir(directory))} of {parties} tasks ran at once")
        time.sleep(0.02)
    return index


def test_task_needing_two_cpus_waits_for_both(slot_cluster):
    spans = ray.get(
        [interval.options(num_cpus=2).remote(0.5)] + [interval.remote(0.5) for _ in range(2)], timeout=GET_TIMEOUT
    )
    wide, narrow = spans[0], spans[1:]
    for s, e in narrow:
        assert e - 0.01 <= wide[0] or s + 0.01 >= wide[1], f"a 1-CPU task overlapped the 2-CPU task: {spans}"


def test_infeasible_request_times_out_in_get(slot_cluster):
    ref = interval.options(num_cpus=64).remote(0)
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(ref, timeout=1.0)
    other = interval.options(resources={"no_such_resource": 1}).remote(0)
    ready, not_ready = ray.wait([other], timeout=0.5)
    assert ready == [] and not_ready == [other]
    # Feasible work still runs.
    assert len(ray.get(interval.remote(0), timeout=GET_TIMEOUT)) == 2


INFEASIBLE_SCRIPT = textwrap.dedent(
    """
    import ray

    ray.init(num_cpus=1)

    @ray.remote(num_cpus=64)
    def too_big():
        return 1

    ref = too_big.remote()
    try:
        ray.get(ref, timeout=2)
        print("GOT A VALUE")
    except ray.exceptions.GetTimeoutError:
        print("GET TIMED OUT")
    ray.shutdown()
    """
)


def test_infeasible_task_warns_on_the_drivers_stderr(tmp_path):
    script = tmp_path / "infeasible.py"
    script.write_text(INFEASIBLE_SCRIPT)
    result = run_script(script, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "GET TIMED OUT" in result.stdout
    assert "cannot be scheduled" in result.stderr, result.stderr
    assert "too_big" in result.stderr, result.stderr
    assert "cannot be scheduled" not in result.stdout
