"""Several nodes on this machine, each with its own loopback address, ports, arena and session
directory: `ray start --head` and two `ray start --address` nodes with 2 CPUs each. Drivers are
separate processes that join with a plain `ray.init()`, as the tutorial's scripts do."""

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
import pytest
from conftest import run_script, tutorial_dir

RAY = str(Path(sys.executable).parent / "ray")
NODE_IPS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")


def _ray(args, env, timeout=120):
    result = subprocess.run([RAY, *args], capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr
    return result


def _alive(pids):
    return [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


def _arenas(pids):
    """The shared-memory files of these node processes (named after their pid)."""
    return [f for f in os.listdir("/dev/shm") if any(f.startswith(f"rayjvm_{p}_") for p in pids)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Three nodes; the third has a custom resource only it offers. Stopped with `ray stop`,
    which must leave no process and no shared-memory file behind."""
    tmp = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "RAY_TMPDIR": str(tmp)}
    _ray(["start", "--head", "--port", "0", "--num-cpus", "2", "--node-ip-address", NODE_IPS[0]], env)
    address = (tmp / "ray_current_cluster").read_text().strip()
    try:
        _ray(["start", "--address", address, "--num-cpus", "2", "--node-ip-address", NODE_IPS[1]], env)
        _ray(
            [
                "start",
                "--address",
                address,
                "--num-cpus",
                "2",
                "--node-ip-address",
                NODE_IPS[2],
                "--resources",
                '{"special": 1}',
            ],
            env,
        )
        pids = [int(p) for p in json.loads((tmp / "ray_nodes.json").read_text())]
        assert len(_alive(pids)) == 3
        yield {"env": env, "address": address, "tmp": tmp}
    finally:
        pids = [int(p) for p in json.loads((tmp / "ray_nodes.json").read_text())]
        subprocess.run([RAY, "stop"], capture_output=True, text=True, timeout=120, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (_alive(pids) or _arenas(pids)):
        time.sleep(0.1)
    assert not _alive(pids)
    assert not _arenas(pids)


def _driver(cluster, source: str, timeout=120):
    script = cluster["tmp"] / f"driver_{time.monotonic_ns()}.py"
    script.write_text(textwrap.dedent(source))
    result = run_script(script, env=cluster["env"], timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_parallel_process_unchanged_uses_every_node(cluster):
    """8 one-second tasks: 4 s at best on the head's 2 CPUs, 2 s on the cluster's 6."""
    result = run_script(tutorial_dir() / "parallel_process.py", env=cluster["env"], timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    seconds = float(re.search(r"Processed 8 images in ([\d.]+) seconds", result.stdout).group(1))
    assert seconds < 3.6, result.stdout


def test_tasks_run_on_all_three_nodes_and_values_come_back_equal(cluster):
    out = _driver(
        cluster,
        """
        import collections, time
        import numpy as np
        import ray
        ray.init()
        assert len([n for n in ray.nodes() if n["Alive"]]) == 3
        assert ray.cluster_resources()["CPU"] == 6

        @ray.remote
        def where(x):
            time.sleep(0.5)
            return ray.get_runtime_context().get_node_id(), x * 2

        # A 1 MiB argument lives in the driver node's arena and travels by value.
        big = np.arange(1 << 17, dtype=np.float64)
        results = ray.get([where.remote(big) for _ in range(12)])
        assert all(np.array_equal(r[1], big * 2) for r in results)
        print("NODES", len({node for node, _ in results}))

        @ray.remote
        def fails():
            time.sleep(0.3)
            raise KeyError("from afar")

        refs = [fails.remote() for _ in range(8)]
        errors = 0
        for ref in refs:
            try:
                ray.get(ref)
            except KeyError as e:
                errors += "from afar" in str(e)
        print("ERRORS", errors)
        """,
    )
    assert "NODES 3" in out, out
    assert "ERRORS 8" in out, out


def test_a_task_needing_a_resource_only_another_node_has_runs_there(cluster):
    out = _driver(
        cluster,
        """
        import ray
        ray.init()
        special = [n["NodeID"] for n in ray.nodes() if n["Alive"] and n["Resources"].get("special")]
        assert len(special) == 1

        @ray.remote(resources={"special": 1})
        def there():
            return ray.get_runtime_context().get_node_id()

        print("SAME", ray.get([there.remote() for _ in range(3)]) == special * 3)
        """,
    )
    assert "SAME True" in out, out


def test_refs_travel_in_arguments_and_returns_between_nodes(cluster):
    """Refs held inside arguments reach a task and an actor on another node (small values copied
    along, large ones pulled), and refs to objects made there come back in returned values."""
    out = _driver(
        cluster,
        """
        import numpy as np
        import ray
        ray.init()

        @ray.remote(resources={"special": 0.01})
        def total(refs, big):
            return sum(ray.get(refs)) + float(ray.get(big["a"]).sum()), ray.util.get_node_ip_address()

        small = [ray.put(i) for i in range(5)]
        big = ray.put(np.ones(1 << 20))
        print("ARGS", ray.get(total.remote(small, {"a": big}), timeout=60) == (10 + (1 << 20), "127.0.0.3"))

        @ray.remote(resources={"special": 0.01})
        class Keeper:
            def keep(self, refs):
                self.refs = refs

            def total(self):
                return float(sum(np.sum(v) for v in ray.get(self.refs)))

        keeper = Keeper.remote()
        ray.get(keeper.keep.remote([ray.put(3), ray.put(np.full(1 << 20, 2.0))]), timeout=60)
        print("KEPT", ray.get(keeper.total.remote(), timeout=60) == 3 + 2 * (1 << 20))

        @ray.remote(resources={"special": 0.01})
        def made_there():
            inner = ray.remote(lambda: np.full(1 << 18, 5.0)).remote()
            return {"put": ray.put(np.arange(1 << 18)), "task": inner, "small": ray.put("s")}

        got = ray.get(made_there.remote(), timeout=60)
        print("RETURNED", int(ray.get(got["put"]).sum()) == int(np.arange(1 << 18).sum()),
              float(ray.get(got["task"]).sum()) == 5.0 * (1 << 18), ray.get(got["small"]))
        """,
    )
    assert "ARGS True" in out, out
    assert "KEPT True" in out, out
    assert "RETURNED True True s" in out, out


def test_counter_works_unchanged_prints_2400(cluster):
    result = run_script(tutorial_dir() / "counter_works.py", env=cluster["env"], timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Actual total from actor: 2400" in result.stdout


def test_large_arrays_move_between_nodes_through_their_stores(cluster):
    """A task on the third node makes 48 MiB; the driver (on the head) and a task on the second
    node read it equal; the second node's answer, also large, comes back to the driver."""
    out = _driver(
        cluster,
        """
        import numpy as np
        import ray
        ray.init()
        nodes = {n["NodeManagerAddress"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}

        @ray.remote(resources={"special": 1})
        def make():
            return ray.get_runtime_context().get_node_id(), np.arange(6 << 20, dtype=np.float64)

        @ray.remote(resources={"node:127.0.0.2": 0.01})
        def twice(pair):
            node, a = pair
            return ray.get_runtime_context().get_node_id(), a * 2

        made = make.remote()
        maker, a = ray.get(made)
        expected = np.arange(6 << 20, dtype=np.float64)
        print("MADE THERE", maker == nodes["127.0.0.3"], np.array_equal(a, expected))
        doubler, b = ray.get(twice.remote(made))
        print("DOUBLED THERE", doubler == nodes["127.0.0.2"], np.array_equal(b, expected * 2))
        # A put by the driver travels to a task on another node as well.
        doubler, c = ray.get(twice.remote(ray.put((None, expected + 1))))
        print("PUT THERE", doubler == nodes["127.0.0.2"], np.array_equal(c, (expected + 1) * 2))
        """,
    )
    assert "MADE THERE True True" in out, out
    assert "DOUBLED THERE True True" in out, out
    assert "PUT THERE True True" in out, out


def test_cluster_utils_three_nodes_survive_a_killed_node_and_leave_nothing(tmp_path):
    """ray.cluster_utils.Cluster as users' test suites use it: nodes started by the driver's
    process, a node SIGKILLed while tasks run on it (they are retried elsewhere), an object made
    there and not read yet rebuilt by lineage, a put that lived only there lost with
    ObjectLostError, and nothing left once the driver has exited."""
    script = tmp_path / "cluster_driver.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, time
            import ray
            from ray.cluster_utils import Cluster

            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
            doomed = cluster.add_node(num_cpus=2, node_ip_address="127.0.0.2")
            cluster.add_node(num_cpus=2, node_ip_address="127.0.0.3")
            cluster.wait_for_nodes()
            cluster.connect()
            print("PIDS", json.dumps([n.pid for n in cluster.list_all_nodes()]), flush=True)
            print("NODES", len([n for n in ray.nodes() if n["Alive"]]))

            @ray.remote
            def where():
                print("hello from afar")
                return ray.util.get_node_ip_address()

            print("IPS", ray.get(where.options(resources={"node:127.0.0.3": 0.01}).remote()),
                  ray.util.get_node_ip_address())

            @ray.remote(max_retries=3)
            def slow(i):
                time.sleep(0.5)
                return i * i

            import numpy as np
            from ray.exceptions import ObjectLostError
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            there = NodeAffinitySchedulingStrategy(doomed.node_id, soft=True)

            @ray.remote(scheduling_strategy=there)
            def made(i):
                return np.full(1 << 20, i, dtype=np.int64), ray.util.get_node_ip_address()

            @ray.remote(scheduling_strategy=there)
            def put_there():
                return [ray.put(np.ones(1 << 20)), ray.put("tiny")]

            early, kept = made.remote(3), made.remote(7)
            arr, ip = ray.get(early)
            print("READ FROM THERE", ip, int(arr.sum()) == 3 << 20)
            inner = ray.get(put_there.remote())
            # Done there; its value stays there until it is read (a wait that does not fetch).
            print("LOCATED", len(ray.wait([kept], timeout=60, fetch_local=False)[0]))

            refs = [slow.remote(i) for i in range(20)]
            time.sleep(0.8)
            cluster.remove_node(doomed, allow_graceful=False)
            print("SQUARES", ray.get(refs) == [i * i for i in range(20)])
            arr, ip = ray.get(kept, timeout=60)
            print("LINEAGE", ip != "127.0.0.2", int(arr.sum()) == 7 << 20)
            try:
                ray.get(inner[0], timeout=60)
            except ObjectLostError as e:
                print("PUT LOST", type(e).__name__)
            print("SMALL PUT", ray.get(inner[1], timeout=60))
            """
        )
    )
    result = run_script(script, env={"RAY_TMPDIR": str(tmp_path)}, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "NODES 3" in out, out
    assert "IPS 127.0.0.3 127.0.0.1" in out, out
    assert re.search(r"\(where pid=\d+, ip=127\.0\.0\.3\) hello from afar", out), out
    assert "SQUARES True" in out, out
    assert "READ FROM THERE 127.0.0.2 True" in out, out
    assert "LOCATED 1" in out, out
    assert "LINEAGE True True" in out, out
    assert "PUT LOST OwnerDiedError" in out, out
    assert "SMALL PUT tiny" in out, out
    pids = json.loads(re.search(r"PIDS (.*)", out).group(1))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (_alive(pids) or _arenas(pids)):
        time.sleep(0.1)
    assert not _alive(pids)
    assert not _arenas(pids)


def test_spread_and_node_affinity_place_tasks_as_asked(cluster):
    out = _driver(
        cluster,
        """
        import collections, time
        import ray
        from ray.exceptions import TaskUnschedulableError
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        ray.init()
        nodes = {n["NodeManagerAddress"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}

        @ray.remote
        def where():
            time.sleep(0.2)
            return ray.get_runtime_context().get_node_id()

        spread = ray.get([where.options(scheduling_strategy="SPREAD").remote() for _ in range(6)])
        print("SPREAD", sorted(collections.Counter(spread).values()))

        second = NodeAffinitySchedulingStrategy(nodes["127.0.0.2"], soft=False)
        print("AFFINITY", set(ray.get([where.options(scheduling_strategy=second).remote() for _ in range(4)]))
              == {nodes["127.0.0.2"]})
        here = NodeAffinitySchedulingStrategy(nodes["127.0.0.1"], soft=False)
        print("HERE", set(ray.get([where.options(scheduling_strategy=here).remote() for _ in range(4)]))
              == {nodes["127.0.0.1"]})

        gone = "ab" * 28
        soft = NodeAffinitySchedulingStrategy(gone, soft=True)
        print("SOFT", ray.get(where.options(scheduling_strategy=soft).remote()) in nodes.values())
        try:
            ray.get(where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(gone, soft=False)).remote())
        except TaskUnschedulableError as e:
            print("HARD", type(e).__name__)
        try:
            where.options(scheduling_strategy=NodeAffinitySchedulingStrategy("xyz", soft=False)).remote()
        except ValueError as e:
            print("BAD ID", "not a node id" in str(e))
        """,
    )
    assert "SPREAD [2, 2, 2]" in out, out
    assert "AFFINITY True" in out, out
    assert "HERE True" in out, out
    assert "SOFT True" in out, out
    assert "HARD TaskUnschedulableError" in out, out
    assert "BAD ID True" in out, out


def test_placement_groups_reserve_bundles_by_strategy_across_nodes(cluster):
    """Each placement strategy on the three 2-CPU nodes (the third also has "special": 1): where
    the bundles go, that tasks and actors in a bundle run on its node, a group that does not fit
    waits until room frees, capture_child_tasks, removal (running and later tasks fail with
    TaskPlacementGroupRemoved) and the resources coming back."""
    out = _driver(
        cluster,
        """
        import time
        import ray
        from ray.exceptions import TaskPlacementGroupRemoved
        from ray.util import placement_group, placement_group_table, remove_placement_group
        from ray.util import get_placement_group, get_current_placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy as InGroup
        ray.init()
        nodes = {n["NodeManagerAddress"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}

        @ray.remote
        def where():
            return ray.get_runtime_context().get_node_id()

        def placed(pg):
            table = placement_group_table(pg)
            return [table["bundles_to_node_id"].get(i) for i in range(len(table["bundles"]))]

        ss = placement_group([{"CPU": 1}] * 3, strategy="STRICT_SPREAD", name="ss")
        ray.get(ss.ready(), timeout=60)
        print("STRICT_SPREAD", len(set(placed(ss))) == 3, placement_group_table(ss)["state"])
        ran = ray.get([where.options(scheduling_strategy=InGroup(ss, i)).remote() for i in range(3)])
        print("IN BUNDLES", ran == placed(ss))
        print("BY NAME", get_placement_group("ss") == ss)
        remove_placement_group(ss)

        sp = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_PACK")
        ray.get(sp.ready(), timeout=60)
        print("STRICT_PACK", len(set(placed(sp))) == 1)
        spread = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="SPREAD")
        pack = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="PACK")
        ray.get([spread.ready(), pack.ready()], timeout=60)
        print("SPREAD", len(set(placed(spread))) == 2, not set(placed(spread)) & set(placed(sp)))
        print("PACK", len(set(placed(pack))) == 2)
        late = placement_group([{"CPU": 1}])
        print("WAITS", late.wait(2) is False, placement_group_table(late)["state"])
        remove_placement_group(sp)
        print("PLACED WHEN ROOM FREES", late.wait(60), placement_group_table(late)["state"])
        for pg in (spread, pack, late):
            remove_placement_group(pg)

        special = placement_group([{"special": 1, "CPU": 1}])
        ray.get(special.ready(), timeout=60)
        ran = ray.get(where.options(resources={"special": 1}, scheduling_strategy=InGroup(special)).remote())
        print("CUSTOM", placed(special) == [nodes["127.0.0.3"]] == [ran])

        @ray.remote(num_cpus=1)
        class InPack:
            def info(self):
                pg = get_current_placement_group()
                return ray.get_runtime_context().get_node_id(), pg.id.hex() if pg else None

        one = placement_group([{"CPU": 2}], strategy="STRICT_PACK")
        actor = InPack.options(scheduling_strategy=InGroup(one, 0)).remote()
        node, pg_hex = ray.get(actor.info.remote(), timeout=60)
        print("ACTOR", node == placed(one)[0] and pg_hex == one.id.hex())

        @ray.remote
        def parent():
            child = ray.get(child_task.remote())
            return child, get_current_placement_group().id.hex()

        @ray.remote
        def child_task():
            pg = get_current_placement_group()
            return ray.get_runtime_context().get_node_id(), pg.id.hex() if pg else None

        capture = InGroup(special, placement_group_capture_child_tasks=True)
        (child_node, child_pg), parent_pg = ray.get(parent.options(scheduling_strategy=capture).remote(), timeout=60)
        print("CAPTURE", child_node == nodes["127.0.0.3"] and child_pg == parent_pg == special.id.hex())

        @ray.remote
        def long():
            time.sleep(60)

        running = long.options(scheduling_strategy=InGroup(special)).remote()
        time.sleep(1)
        remove_placement_group(special)
        for ref in (running, where.options(scheduling_strategy=InGroup(special)).remote()):
            try:
                ray.get(ref, timeout=60)
            except TaskPlacementGroupRemoved:
                print("REMOVED", "TaskPlacementGroupRemoved")
        remove_placement_group(one)
        def freed():
            # Other nodes' figures are their last reports (sent 50 ms after a change).
            return ray.available_resources().get("CPU"), [k for k in ray.cluster_resources() if "_group_" in k]

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and freed() != (6, []):
            time.sleep(0.2)
        print("FREED", *freed())

        for bad in (
            lambda: placement_group([]),
            lambda: placement_group([{"CPU": 1}], strategy="TIGHT"),
            lambda: placement_group([{}]),
            lambda: where.options(scheduling_strategy=InGroup(late, 3)).remote(),
            lambda: where.options(num_cpus=4, scheduling_strategy=InGroup(late)).remote(),
        ):
            try:
                bad()
            except ValueError as e:
                print("BAD", type(e).__name__)
        """,
        timeout=240,
    )
    assert "STRICT_SPREAD True CREATED" in out, out
    assert "IN BUNDLES True" in out, out
    assert "BY NAME True" in out, out
    assert "STRICT_PACK True" in out, out
    assert "SPREAD True True" in out, out
    assert "PACK True" in out, out
    assert "WAITS True PENDING" in out, out
    assert "PLACED WHEN ROOM FREES True CREATED" in out, out
    assert "CUSTOM True" in out, out
    assert "ACTOR True" in out, out
    assert "CAPTURE True" in out, out
    assert out.count("REMOVED TaskPlacementGroupRemoved") == 2, out
    assert "FREED 6.0 []" in out, out
    assert out.count("BAD ValueError") == 5, out


def test_actors_take_scheduling_strategies(cluster):
    out = _driver(
        cluster,
        """
        import ray
        from ray.exceptions import ActorUnschedulableError
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        ray.init()
        nodes = {n["NodeManagerAddress"]: n["NodeID"] for n in ray.nodes() if n["Alive"]}

        @ray.remote(num_cpus=1)
        class Where:
            def node(self):
                return ray.get_runtime_context().get_node_id()

        on_third = NodeAffinitySchedulingStrategy(nodes["127.0.0.3"], soft=False)
        third = Where.options(scheduling_strategy=on_third).remote()
        print("AFFINITY", ray.get(third.node.remote(), timeout=60) == nodes["127.0.0.3"])
        spread = [Where.options(scheduling_strategy="SPREAD").remote() for _ in range(3)]
        print("SPREAD", len(set(ray.get([a.node.remote() for a in spread], timeout=60))))
        gone = Where.options(scheduling_strategy=NodeAffinitySchedulingStrategy("ab" * 28, soft=False)).remote()
        try:
            ray.get(gone.node.remote(), timeout=60)
        except ActorUnschedulableError as e:
            print("HARD", type(e).__name__)
        """,
    )
    assert "AFFINITY True" in out, out
    assert "SPREAD 3" in out, out
    assert "HARD ActorUnschedulableError" in out, out


def test_an_actor_created_on_another_node_serves_calls_and_restarts_when_its_node_dies(tmp_path):
    """Actors are placed where their resources are: created on a node that is not the driver's,
    called from the driver and from a task, and, with max_restarts=-1, alive again on the other
    node that can host it once its node is SIGKILLed."""
    script = tmp_path / "actor_driver.py"
    script.write_text(
        textwrap.dedent(
            """
            import os, time
            import ray
            from ray.cluster_utils import Cluster

            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
            first = cluster.add_node(num_cpus=1, node_ip_address="127.0.0.2", resources={"slot": 1})
            cluster.add_node(num_cpus=1, node_ip_address="127.0.0.3", resources={"slot": 1})
            cluster.connect()

            @ray.remote(resources={"slot": 1}, max_restarts=-1)
            class Counter:
                def __init__(self):
                    self.n = 0

                def add(self, k):
                    self.n += k
                    return self.n

                def where(self):
                    return ray.util.get_node_ip_address(), os.getpid()

            c = Counter.remote()
            ip, pid = ray.get(c.where.remote())
            print("LIVES ON", ip, ip != "127.0.0.1")
            print("ADDS", ray.get([c.add.remote(1) for _ in range(5)]))

            @ray.remote
            def bump(counter):
                return ray.get(counter.add.remote(10))

            print("FROM A TASK", ray.get(bump.remote(c)))
            # A task on the other slot node calls it too: the call goes through the actor's home.
            third = "127.0.0.3" if ip == "127.0.0.2" else "127.0.0.2"
            print("FROM A THIRD NODE", ray.get(bump.options(resources={f"node:{third}": 0.01}).remote(c)))
            doomed = first if ip == "127.0.0.2" else [n for n in cluster.worker_nodes if n is not first][0]
            cluster.remove_node(doomed, allow_graceful=False)
            deadline = time.monotonic() + 60
            while True:
                try:
                    new_ip, new_pid = ray.get(c.where.remote(), timeout=30)
                    break
                except ray.exceptions.RayActorError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            print("RESTARTED ON", new_ip != ip and new_ip != "127.0.0.1", ray.get(c.add.remote(1)))
            ray.kill(c)
            try:
                ray.get(c.add.remote(1))
            except ray.exceptions.RayActorError as e:
                print("KILLED", type(e).__name__)
            """
        )
    )
    result = run_script(script, env={"RAY_TMPDIR": str(tmp_path)}, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert re.search(r"LIVES ON 127\.0\.0\.[23] True", out), out
    assert "ADDS [1, 2, 3, 4, 5]" in out, out
    assert "FROM A TASK 15" in out, out
    assert "FROM A THIRD NODE 25" in out, out
    # A new incarnation starts afresh (as in Ray: state is not carried over).
    assert "RESTARTED ON True 1" in out, out
    assert "KILLED ActorDiedError" in out, out


def test_the_heads_death_stops_the_other_nodes(tmp_path):
    """A node that joined stops itself, leaving nothing, once the head has not answered for
    RAY_gcs_rpc_server_reconnect_timeout_s (Ray's setting; 60 s by default, 3 here)."""
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path), "RAY_gcs_rpc_server_reconnect_timeout_s": "3"}
    _ray(["start", "--head", "--port", "0", "--num-cpus", "1", "--node-ip-address", NODE_IPS[0]], env)
    try:
        address = (tmp_path / "ray_current_cluster").read_text().strip()
        _ray(["start", "--address", address, "--num-cpus", "1", "--node-ip-address", NODE_IPS[1]], env)
        nodes = json.loads((tmp_path / "ray_nodes.json").read_text())
        head, other = (int(p) for p in nodes)
        os.kill(head, 9)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (_alive([other]) or _arenas([other])):
            time.sleep(0.2)
        assert not _alive([other]), "the node outlived its head"
        assert not _arenas([other])
        log = "".join(p.read_text() for p in tmp_path.glob("session_2*/logs/node*.err"))
        assert "has not answered" in log, log[-2000:]
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, text=True, timeout=60, env=env)


def test_only_members_get_in_and_files_are_the_users_alone(cluster):
    """The cluster `ray start` made has a token: a driver or node without it (or with a wrong one)
    is refused with a clear error, a raw gRPC call too; the token file, the session directories
    and the arenas are this user's alone."""
    import grpc

    from ray._private.transport import CONTROL_SERVICE

    env = {**cluster["env"], "RAY_AUTH_TOKEN": "not-the-token"}
    script = cluster["tmp"] / "intruder.py"
    script.write_text(
        textwrap.dedent(
            """
            import ray
            try:
                ray.init()
            except ray.exceptions.AuthenticationError as e:
                print("REFUSED", "RAY_AUTH_TOKEN" in str(e))
            """
        )
    )
    result = run_script(script, env=env, timeout=60)
    assert "REFUSED True" in result.stdout, result.stdout + result.stderr

    joined = subprocess.run(
        [RAY, "start", "--address", cluster["address"], "--node-ip-address", "127.0.0.4", "--num-cpus", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert joined.returncode != 0
    assert "token" in joined.stderr.lower(), joined.stderr
    recorded = json.loads((cluster["tmp"] / "ray_nodes.json").read_text())
    assert len(recorded) == 3, "the refused node is not recorded (and is gone)"

    with grpc.insecure_channel(cluster["address"]) as channel:
        call = channel.unary_unary("/" + CONTROL_SERVICE + "GetAllNodes")
        try:
            call(b"", timeout=10)
            raise AssertionError("a call without the token was served")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.UNAUTHENTICATED

    tmp = cluster["tmp"]
    assert (tmp / "ray_auth_token").stat().st_mode & 0o777 == 0o600
    sessions = [p for p in tmp.iterdir() if p.name.startswith("session_2")]
    assert sessions and all(p.stat().st_mode & 0o777 == 0o700 for p in sessions)
    arenas = _arenas([int(p) for p in recorded])
    assert len(arenas) == 3
    assert all(os.stat(f"/dev/shm/{a}").st_mode & 0o777 == 0o600 for a in arenas)


def test_an_embedded_cluster_listens_on_loopback_only(tmp_path):
    script = tmp_path / "embedded.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, os
            import psutil
            import ray
            ray.init(num_cpus=1)

            @ray.remote
            class A:
                def pid(self):
                    return os.getpid()

            a = A.remote()
            worker = ray.get(a.pid.remote())
            ray.get(a.pid.remote())  # a second call: the driver now pushes straight to the worker
            node = [p for p in psutil.Process().children() if "NodeMain" in " ".join(p.cmdline())][0]
            listening = []
            for pid in (node.pid, worker):
                for c in psutil.Process(pid).net_connections(kind="inet"):
                    if c.status == psutil.CONN_LISTEN:
                        # Java binds IPv4-mapped IPv6 sockets: ::ffff:127.0.0.1 is 127.0.0.1.
                        listening.append(c.laddr.ip.removeprefix("::ffff:"))
            print("LISTENING", json.dumps(sorted(set(listening))), len(listening))
            """
        )
    )
    result = run_script(script, env={"RAY_TMPDIR": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    m = re.search(r"LISTENING (\[.*\]) (\d+)", result.stdout)
    assert m, result.stdout
    assert json.loads(m.group(1)) == ["127.0.0.1"]
    assert int(m.group(2)) >= 2  # the node manager and the worker's push server at least


def test_a_driver_of_another_job_cannot_read_this_jobs_objects_by_a_made_up_ref(cluster):
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys
                import numpy as np
                import ray
                ray.init()
                small = ray.put("secret")
                large = ray.put(np.arange(1 << 20))
                print(small.hex(), large.hex(), flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cluster["env"],
    )
    try:
        small, large = owner.stdout.readline().split()
        out = _driver(
            cluster,
            f"""
            import ray
            ray.init()
            for name, hex_id in (("small", "{small}"), ("large", "{large}")):
                try:
                    value = ray.get(ray.ObjectRef(bytes.fromhex(hex_id)), timeout=30)
                    print(name, "READ", type(value).__name__)
                except ray.exceptions.ObjectLostError as e:
                    print(name, "REFUSED", "another job" in str(e))
            mine = ray.put("mine")
            print("OWN", ray.get(ray.ObjectRef(mine.binary())))
            """,
        )
    finally:
        owner.stdin.close()
        owner.wait(timeout=60)
    assert "small REFUSED True" in out, out
    assert "large REFUSED True" in out, out
    assert "OWN mine" in out, out


def test_ray_status_lists_every_node_and_the_pending_demands(cluster):
    out = _driver(
        cluster,
        """
        import os, subprocess, sys, time
        import ray
        ray.init()

        @ray.remote(resources={"nowhere": 1})
        def never():
            pass

        waiting = [never.remote() for _ in range(2)]
        deadline = time.monotonic() + 30
        while True:
            status = subprocess.run(
                [os.path.join(os.path.dirname(sys.executable), "ray"), "status"], capture_output=True, text=True
            ).stdout
            if "2+ pending" in status or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        print(status)
        """,
    )
    active = out.split("Active:\n", 1)[1].split("Pending:", 1)[0]
    assert len([x for x in active.splitlines() if x.startswith(" 1 node_")]) == 3, out
    assert " 0.0/6.0 CPU" in out, out
    assert " {'CPU': 1.0, 'nowhere': 1.0}: 2+ pending tasks/actors" in out, out
