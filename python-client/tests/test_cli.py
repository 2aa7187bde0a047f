"""The `ray` command: ray start --head, a driver connecting with address='auto', ray stop."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
from helpers import split_output

from ray.scripts.cli import format_status

RAY = str(Path(sys.executable).parent / "ray")


def _run(args, env, timeout=120):
    return subprocess.run([RAY, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_start_connect_status_stop(tmp_path):
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    started = _run(["start", "--head", "--port", "0", "--num-cpus", "2"], env)
    assert started.returncode == 0, started.stderr
    assert "Ray runtime started." in started.stdout
    address = (tmp_path / "ray_current_cluster").read_text().strip()
    node_pids = [int(p) for p in json.loads((tmp_path / "ray_nodes.json").read_text())]
    try:
        script = tmp_path / "driver.py"
        script.write_text(
            textwrap.dedent(
                """
            import ray
            ctx = ray.init(address="auto")
            @ray.remote
            def double(x):
                print("doubling", x)
                return 2 * x
            print("RESULT", ray.get([double.remote(i) for i in range(4)]), ctx.address_info["gcs_address"])
            ray.shutdown()
            """
            )
        )
        driver = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
        assert driver.returncode == 0, driver.stderr
        worker_lines, driver_output = split_output(driver.stdout)
        assert f"RESULT [0, 2, 4, 6] {address}" in driver_output.splitlines(), driver.stdout
        assert sorted(text for source, _, text in worker_lines if source == "double") == [
            f"doubling {i}" for i in range(4)
        ], driver.stdout

        status = _run(["status"], env)
        assert status.returncode == 0, status.stderr
        usage = status.stdout.split("Total Usage:\n", 1)[1].splitlines()
        assert " 0.0/2.0 CPU" in usage, status.stdout
        # Byte quantities in Ray's human units, e.g. " 0B/12.34GiB memory".
        for name in ("memory", "object_store_memory"):
            assert any(
                re.fullmatch(rf" (0B|\d+\.\d\d[KMGT]iB)/\d+\.\d\d[KMGT]iB {name}", x) for x in usage
            ), status.stdout
    finally:
        stopped = _run(["stop"], env)
    assert stopped.returncode == 0, stopped.stderr
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(
        psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in node_pids
    ):
        time.sleep(0.1)
    assert not [p for p in node_pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not (tmp_path / "ray_current_cluster").exists()


def test_start_without_head_or_address_explains(tmp_path):
    result = _run(["start"], {**os.environ, "RAY_TMPDIR": str(tmp_path)})
    assert result.returncode == 2
    assert "--head" in result.stderr


def test_auto_without_cluster_raises_connection_error(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(
        "import ray\n"
        "try:\n    ray.init(address='auto')\n"
        "except ConnectionError as e:\n    print('CONNECTION ERROR', e)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RAY_TMPDIR": str(tmp_path)},
    )
    assert "CONNECTION ERROR Could not find any running Ray instance" in result.stdout, result.stderr


PLAIN_INIT_DRIVER = textwrap.dedent(
    """
    import json, logging, ray
    ray.init()

    @ray.remote
    def where():
        return ray.get_runtime_context().get_node_id()

    print("RESULT " + json.dumps({
        "cpus": ray.cluster_resources().get("CPU"),
        "task_node": ray.get(where.remote()),
        "nodes": [n["NodeID"] for n in ray.nodes() if n["Alive"]],
        "gcs": ray._private.api._driver.address_info["gcs_address"],
        "embedded": ray._private.api._driver.node is not None,
    }), flush=True)
    ray.shutdown()
    if ray._private.api._bootstrap_address(None) is not None:
        try:
            ray.init(num_cpus=3)
        except ValueError as e:
            print("JOIN ERROR", e, flush=True)
    """
)


def _plain_init(tmp_path, env):
    script = tmp_path / "plain_init.py"
    script.write_text(PLAIN_INIT_DRIVER)
    driver = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert driver.returncode == 0, driver.stderr
    (line,) = [x for x in driver.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(line[len("RESULT ") :]), driver


def test_plain_init_joins_the_started_cluster_until_stopped(tmp_path):
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    env.pop("RAY_ADDRESS", None)
    started = _run(["start", "--head", "--port", "0", "--num-cpus", "1"], env)
    assert started.returncode == 0, started.stderr
    address = (tmp_path / "ray_current_cluster").read_text().strip()
    ((pid, info),) = json.loads((tmp_path / "ray_nodes.json").read_text()).items()
    try:
        joined, driver = _plain_init(tmp_path, env)
        assert joined == {
            "cpus": 1.0,
            "task_node": info["node_id"],
            "nodes": [info["node_id"]],
            "gcs": address,
            "embedded": False,
        }, driver.stdout
        assert f"Connecting to existing Ray cluster at address: {address}..." in driver.stderr
        assert "Connected to Ray cluster." in driver.stderr
        assert "Started a local Ray instance." not in driver.stderr
        # Options only a new cluster takes are refused while a recorded cluster is joined (Ray's error).
        assert (
            "JOIN ERROR When connecting to an existing cluster, num_cpus and num_gpus must not be provided."
            in driver.stdout
        )
        status = _run(["status"], env)
        assert status.returncode == 0, status.stderr
        assert f" 1 node_{info['node_id']}" in status.stdout.splitlines()
    finally:
        stopped = _run(["stop"], env)
    assert stopped.returncode == 0, stopped.stderr
    assert not psutil.pid_exists(int(pid)) or psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE

    private, driver = _plain_init(tmp_path, env)
    assert private["embedded"] and private["gcs"] != address, driver.stdout
    assert private["nodes"] == [private["task_node"]] and private["task_node"] != info["node_id"]
    assert "Started a local Ray instance." in driver.stderr
    assert "JOIN ERROR" not in driver.stdout


def test_plain_init_with_unreachable_recorded_cluster_starts_a_local_one(tmp_path):
    # A recorded cluster that was killed without `ray stop`: nothing listens at its address.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    (tmp_path / "ray_current_cluster").write_text(dead)
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    env.pop("RAY_ADDRESS", None)
    private, driver = _plain_init(tmp_path, env)
    assert private["embedded"] and private["gcs"] != dead, driver.stdout
    assert "is not reachable; starting a local Ray instance instead." in driver.stderr


def test_status_layout_and_units_are_rays():
    nodes = [
        {"NodeID": "ab" * 28, "Alive": True, "NodeManagerAddress": "127.0.0.1"},
        {"NodeID": "cd" * 28, "Alive": False, "NodeManagerAddress": "127.0.0.2"},
    ]
    total = {
        "CPU": 2.0,
        "GPU": 1.0,
        "memory": 12.34 * 2**30,
        "object_store_memory": 5.29 * 2**30,
        "node:127.0.0.1": 1.0,
        "widget": 3.0,
    }
    free = {"CPU": 0.5, "GPU": 1.0, "memory": 12.34 * 2**30 - 1536, "object_store_memory": 5.29 * 2**30, "widget": 3}
    text = format_status(nodes, total, free, now="2025-01-01 00:00:00")
    separator = "-" * len("======== Autoscaler status: 2025-01-01 00:00:00 ========")
    assert text.splitlines() == [
        "======== Autoscaler status: 2025-01-01 00:00:00 ========",
        "Node status",
        separator,
        "Active:",
        f" 1 node_{'ab' * 28}",
        "Pending:",
        " (no pending nodes)",
        "Recent failures:",
        f" node_{'cd' * 28}: NodeTerminated (ip: 127.0.0.2)",
        "",
        "Resources",
        separator,
        "Total Usage:",
        " 1.5/2.0 CPU",
        " 0.0/1.0 GPU",
        " 1.50KiB/12.34GiB memory",
        " 0B/5.29GiB object_store_memory",
        " 0.0/3.0 widget",
        "",
        "From request_resources:",
        " (none)",
        "Pending Demands:",
        " (no resource demands)",
    ]
    with_demands = format_status(
        nodes, total, free, now="2025-01-01 00:00:00", demands=[({"CPU": 1.0}, 2), ({"CPU": 0.5, "nope": 1.0}, 1)]
    )
    assert with_demands.splitlines()[-2:] == [
        " {'CPU': 1.0}: 2+ pending tasks/actors",
        " {'CPU': 0.5, 'nope': 1.0}: 1+ pending tasks/actors",
    ]


def test_pending_demands_add_up_the_alive_nodes_queues_by_shape():
    from ray.rpc import control_service_pb2 as control
    from ray.scripts.cli import pending_demands

    a = control.NodeInfo(alive=True)
    a.pending_demands.add(count=2).shape.update({"CPU": 1.0})
    b = control.NodeInfo(alive=True)
    b.pending_demands.add(count=1).shape.update({"CPU": 1.0})
    b.pending_demands.add(count=1).shape.update({"nope": 1.0, "CPU": 0.5})
    dead = control.NodeInfo(alive=False)
    dead.pending_demands.add(count=5).shape.update({"CPU": 1.0})
    assert pending_demands([a, b, dead]) == [({"CPU": 1.0}, 3), ({"CPU": 0.5, "nope": 1.0}, 1)]
