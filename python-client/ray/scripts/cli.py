"""The `ray` command: start, stop and inspect nodes of a cluster on this machine.

`ray start --head` uses the same code path as `ray.init()` (ray/_private/node.py), without
tying the node to a parent process; `ray stop` stops every node of ours on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import List, Optional

from ray._private import auth
from ray._private import node as node_mod

CURRENT_CLUSTER = os.path.join(node_mod.TEMP_ROOT, "ray_current_cluster")
NODES_FILE = os.path.join(node_mod.TEMP_ROOT, "ray_nodes.json")


def _record_node(pid: int, info: dict) -> None:
    nodes = _recorded_nodes()
    nodes[str(pid)] = info
    os.makedirs(node_mod.TEMP_ROOT, exist_ok=True)
    with open(NODES_FILE + ".tmp", "w") as f:
        json.dump(nodes, f)
    os.replace(NODES_FILE + ".tmp", NODES_FILE)


def _recorded_nodes() -> dict:
    try:
        with open(NODES_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def cmd_start(args) -> int:
    if not args.head and not args.address:
        print("ray start: give --head to start a cluster, or --address=<head> to join one.", file=sys.stderr)
        return 2
    resources = json.loads(args.resources) if args.resources else None
    if resources is not None and not isinstance(resources, dict):
        print("ray start: --resources must be a JSON object, e.g. '{\"slot\": 2}'", file=sys.stderr)
        return 2
    token = None
    if auth.enabled():
        if args.head:
            token = os.environ.get(auth.TOKEN_ENV) or auth.new_token()
        else:
            token = auth.find_token(node_mod.TEMP_ROOT, args.address)
            if token is None:
                print(
                    "ray start: no token for the cluster at "
                    f"{args.address}: set RAY_AUTH_TOKEN to its token (`ray get-auth-token` on the "
                    "head's machine prints it), or RAY_AUTH_MODE=disabled on every node if the "
                    "cluster runs without one.",
                    file=sys.stderr,
                )
                return 1
    session_dir = node_mod.new_session_dir()
    try:
        node = node_mod.start_node(
            token=token,
            head=args.head,
            session_dir=session_dir,
            num_cpus=args.num_cpus,
            num_gpus=args.num_gpus,
            resources=resources,
            object_store_memory=args.object_store_memory,
            control_address=args.address,
            control_port=args.port if args.head else 0,
            node_ip=args.node_ip_address,
            detach=True,
        )
    except node_mod.NodeStartError as e:
        print(f"ray start: {e}", file=sys.stderr)
        return 1
    _record_node(node.process.pid, node.info)
    if args.head and token:
        auth.write_token(os.path.join(session_dir, "auth_token"), token)
        auth.write_token(auth.token_file(node_mod.TEMP_ROOT), token)
        auth.record_token(node_mod.TEMP_ROOT, node.control_address, token)
    if args.head:
        with open(CURRENT_CLUSTER, "w") as f:
            f.write(node.control_address)
        print("Ray runtime started.")
        print(f"  Cluster address: {node.control_address}")
        print("  Connect from Python on this machine: ray.init(address='auto')")
        print(f"  Add a node: ray start --address='{node.control_address}'")
        print("  Stop: ray stop")
    else:
        print(f"Ray runtime started; node joined {args.address}.")
    return 0


def cmd_stop(args) -> int:
    nodes = _recorded_nodes()
    pids: List[int] = [int(p) for p in nodes]
    for pid in pids:
        _signal(pid, signal.SIGKILL if args.force else signal.SIGTERM)
    deadline = time.monotonic() + args.grace_period
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    # A killed node cannot remove its arena (its workers notice its death and exit by themselves).
    for pid, info in nodes.items():
        arena = info.get("arena_path") if isinstance(info, dict) else None
        deadline = time.monotonic() + 5
        while arena and _alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if arena and not _alive(int(pid)):
            try:
                os.remove(arena)
            except OSError:
                pass
    for info in nodes.values():
        if isinstance(info, dict) and info.get("control_address"):
            auth.forget_token(node_mod.TEMP_ROOT, info["control_address"])
    for path in (NODES_FILE, CURRENT_CLUSTER, auth.token_file(node_mod.TEMP_ROOT)):
        try:
            os.remove(path)
        except OSError:
            pass
    print(f"Stopped {len(pids)} Ray node process(es).")
    return 0


def cmd_get_auth_token(args) -> int:
    token = auth.find_token(node_mod.TEMP_ROOT)
    if token is None:
        print(
            "ray get-auth-token: no cluster token on this machine (start one with `ray start --head`).", file=sys.stderr
        )
        return 1
    print(token)
    return 0


def cmd_status(args) -> int:
    import ray

    try:
        ray.init(address=args.address or "auto", log_to_driver=False, configure_logging=False)
    except ConnectionError as e:
        print(f"ray status: {e}", file=sys.stderr)
        return 1
    try:
        from ray._private import context

        demands = pending_demands(context.require_session().nodes())
        print(format_status(ray.nodes(), ray.cluster_resources(), ray.available_resources(), demands=demands))
    finally:
        ray.shutdown()
    return 0


# Ray's units for byte quantities in `ray status` (binary, two decimals; "0B" for nothing).
_MEMORY_UNITS = (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))
_BYTE_RESOURCES = ("memory", "object_store_memory")


def format_bytes(amount: float) -> str:
    for suffix, size in _MEMORY_UNITS:
        if amount >= size:
            return f"{amount / size:.2f}{suffix}"
    return f"{int(amount)}B"


def pending_demands(node_infos) -> list:
    """(shape, count) of the tasks and actors waiting on the alive nodes, as the nodes last
    reported them, one entry per shape; shapes order CPU, GPU, then the rest by name."""
    counts: dict = {}
    for n in node_infos:
        if not n.alive:
            continue
        for d in n.pending_demands:
            order = {"CPU": 0, "GPU": 1}
            shape = tuple(sorted(d.shape.items(), key=lambda kv: (order.get(kv[0], 2), kv[0])))
            counts[shape] = counts.get(shape, 0) + d.count
    return [(dict(shape), n) for shape, n in counts.items() if n > 0]


def format_status(nodes, total, free, now=None, demands=()) -> str:
    """`ray status` in Ray's layout: its node section, its "Total Usage" lines (`0.0/2.0 CPU`,
    `0B/12.34GiB memory`) and its "Pending Demands" (`{'CPU': 1.0}: 2+ pending tasks/actors`).
    `ray.autoscaler.sdk.request_resources` is not built, so that section says (none)."""
    import datetime

    header = "=" * 8 + f" Autoscaler status: {now or datetime.datetime.now()} " + "=" * 8
    separator = "-" * len(header)
    alive = [n for n in nodes if n["Alive"]]
    dead = [n for n in nodes if not n["Alive"]]
    lines = [header, "Node status", separator, "Active:"]
    lines += [f" 1 node_{n['NodeID']}" for n in alive] or [" (no active nodes)"]
    lines += ["Pending:", " (no pending nodes)", "Recent failures:"]
    lines += [f" node_{n['NodeID']}: NodeTerminated (ip: {n['NodeManagerAddress']})" for n in dead] or [
        " (no failures)"
    ]
    lines += ["", "Resources", separator, "Total Usage:"]
    for name in sorted(total):
        if "node:" in name or name.startswith("accelerator_type:"):
            continue
        used = total[name] - free.get(name, 0.0)
        if name in _BYTE_RESOURCES:
            lines.append(f" {format_bytes(used)}/{format_bytes(total[name])} {name}")
        else:
            lines.append(f" {float(used)}/{float(total[name])} {name}")
    lines += ["", "From request_resources:", " (none)", "Pending Demands:"]
    lines += [f" {shape}: {count}+ pending tasks/actors" for shape, count in demands] or [" (no resource demands)"]
    return "\n".join(lines)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="ray", description="Manage Ray nodes on this machine.")
    sub = parser.add_subparsers(dest="command", required=True)

    start = sub.add_parser("start", help="start a node (the head with --head)")
    start.add_argument("--head", action="store_true", help="start the head node of a new cluster")
    start.add_argument("--address", help="control address of the cluster to join")
    start.add_argument("--port", type=int, default=6379, help="head: control service port (default 6379)")
    start.add_argument("--num-cpus", type=float)
    start.add_argument("--num-gpus", type=float)
    start.add_argument("--resources", help="custom resources as JSON, e.g. '{\"slot\": 2}'")
    start.add_argument("--object-store-memory", type=int)
    start.add_argument("--node-ip-address", default="127.0.0.1")
    start.set_defaults(run=cmd_start)

    stop = sub.add_parser("stop", help="stop every node started with `ray start` on this machine")
    stop.add_argument("--grace-period", type=float, default=15)
    stop.add_argument("-f", "--force", action="store_true", help="kill the nodes at once (SIGKILL)")
    stop.set_defaults(run=cmd_stop)

    get_token = sub.add_parser("get-auth-token", help="print the token of the cluster started on this machine")
    get_token.set_defaults(run=cmd_get_auth_token)

    status = sub.add_parser("status", help="show nodes and resource use")
    status.add_argument("--address")
    status.set_defaults(run=cmd_status)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
