"""Objects between nodes: a three-node cluster on this machine (127.0.0.1-3, 1 CPU each), a
512 MiB NumPy array, interleaved runs of this runtime and real Ray (ours, Ray, ours, Ray).

For each runtime it reports:
- `local_get_gb_s`: `ray.get` of the array on the node that holds it (the driver's);
- `first_node_to_node_gb_s`, `node_to_node_gb_s`: the array put by the driver and read by a task
  on another node, timed as that task's run minus the same task's run on the driver's node (so
  only the move counts); the first such move in a fresh cluster, then a second array;
- `remote_made_gb_s`: the array made by a task on a third node and read by the driver, timed
  from the task's end to the driver's `ray.get` returning;
- for this runtime, `receiver_heap_mib`: how far the receiving node's JVM heap rose above its
  idle size during the transfers (sampled with `jstat` every 50 ms).

    python benchmarks/transfer_bench.py --ours .venv/bin/python --ray .venv-ray/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from statistics import mean

SIZE = 512 << 20
IPS = ("127.0.0.1", "127.0.0.2", "127.0.0.3")

DRIVER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import ray

    ray.init(address="auto")
    n = SIZE // 8

    @ray.remote(num_cpus=0)
    def total(a):
        return float(a[-1])

    @ray.remote(num_cpus=0, resources={"n3": 1})
    def make():
        a = np.ones(n)
        return time.time(), a

    out = {}
    ref = ray.put(np.ones(n))
    t = time.perf_counter(); ray.get(ref); out["local_get_gb_s"] = SIZE / (time.perf_counter() - t) / 1e9
    # Warm both nodes' workers on a small value first.
    ray.get([total.options(resources={r: 1}).remote(np.ones(4)) for r in ("head", "n2")])
    def timed(resource, value):
        t = time.perf_counter()
        ray.get(total.options(resources={resource: 1}).remote(value))
        return time.perf_counter() - t

    for key in ("first_node_to_node_gb_s", "node_to_node_gb_s"):
        here = timed("head", ref)
        there = timed("n2", ref)
        out[key] = SIZE / max(there - here, 1e-6) / 1e9
        ref = ray.put(np.ones(n) * 2)  # a new object: the next transfer moves it anew
    made = make.remote()
    ray.wait([made], fetch_local=False)
    ended, a = ray.get(made)
    out["remote_made_gb_s"] = SIZE / max(time.time() - ended, 1e-6) / 1e9
    # Untimed: the array read equal by the driver, and by a task on the other node.
    assert np.array_equal(a, np.ones(n))

    @ray.remote(num_cpus=0, resources={"n2": 1})
    def equal(pair):
        return bool(np.array_equal(pair[1], np.ones(len(pair[1]))))

    assert ray.get(equal.remote(made))
    print("RESULT " + json.dumps(out))
    """
).replace("SIZE", str(SIZE))


def _ray_cli(python: str) -> str:
    return str(Path(python).parent / "ray")


def _start(python: str, env: dict) -> None:
    ray = _ray_cli(python)
    common = ["--num-cpus", "1", "--object-store-memory", str(2 << 30)]
    head = [ray, "start", "--head", "--port", "6390", "--node-ip-address", IPS[0], "--resources", '{"head": 1}']
    subprocess.run(head + common, check=True, capture_output=True, env=env, timeout=120)
    for ip, res in ((IPS[1], '{"n2": 1}'), (IPS[2], '{"n3": 1}')):
        cmd = [ray, "start", "--address", f"{IPS[0]}:6390", "--node-ip-address", ip, "--resources", res]
        subprocess.run(cmd + common, check=True, capture_output=True, env=env, timeout=120)


def _stop(python: str, env: dict) -> None:
    subprocess.run([_ray_cli(python), "stop", "--force"], capture_output=True, env=env, timeout=120)


def _node_pid(ip: str):
    """Our node JVM listening on ``ip`` (none for real Ray)."""
    out = subprocess.run(["pgrep", "-f", "io.ray.engine.node.NodeMain"], capture_output=True, text=True)
    for pid in out.stdout.split():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if f"--node-ip={ip}" in cmd:
            return int(pid)
    return None


def _heap_sampler(pid: int, samples: list, stop: threading.Event) -> None:
    """Heap in use (survivors + eden + old, KiB) every 50 ms, from one jstat process."""
    proc = subprocess.Popen(["jstat", "-gc", str(pid), "50"], stdout=subprocess.PIPE, text=True)
    try:
        header = None
        for line in proc.stdout:
            cols = line.split()
            if header is None:
                header = cols
                continue
            row = dict(zip(header, cols))
            samples.append(sum(float(row[k]) for k in ("S0U", "S1U", "EU", "OU")))
            if stop.is_set():
                break
    finally:
        proc.kill()


def run_once(python: str, real_ray: bool) -> dict:
    tmp = tempfile.mkdtemp(prefix="transfer-bench-")
    env = {**os.environ, "RAY_TMPDIR": tmp}
    if real_ray:
        # Real Ray's head turns token authentication on by itself when a token file exists
        # (~/.ray/auth_token), and `ray start --address` does not: the same mode everywhere.
        env["RAY_AUTH_MODE"] = "disabled"
    _start(python, env)
    try:
        time.sleep(2)  # let the nodes see each other
        receiver = _node_pid(IPS[1])
        samples: list = []
        stop = threading.Event()
        sampler = None
        if receiver:
            sampler = threading.Thread(target=_heap_sampler, args=(receiver, samples, stop), daemon=True)
            sampler.start()
            time.sleep(0.5)
        script = Path(tmp) / "driver.py"
        script.write_text(DRIVER)
        out = subprocess.run([python, str(script)], capture_output=True, text=True, env=env, timeout=600)
        stop.set()
        if sampler:
            sampler.join(timeout=5)
        lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        if not lines:
            raise RuntimeError(f"driver failed:\n{out.stdout}\n{out.stderr}")
        result = json.loads(lines[0][len("RESULT ") :])
        if samples:
            idle = min(samples[:5])
            result["receiver_heap_mib"] = (max(samples) - idle) / 1024
        return result
    finally:
        _stop(python, env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ours", required=True)
    parser.add_argument("--ray")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runs = {"ours": [], "ray": []}
    for _ in range(args.rounds):
        for name in ("ours", "ray"):
            python = args.ours if name == "ours" else args.ray
            if python is None:
                continue
            r = run_once(python, real_ray=name == "ray")
            runs[name].append(r)
            print(name, json.dumps({k: round(v, 2) for k, v in r.items()}), flush=True)
    keys = ["local_get_gb_s", "first_node_to_node_gb_s", "node_to_node_gb_s", "remote_made_gb_s"]
    print("| metric | this runtime | Ray 2.60.0 | ratio |\n| --- | ---: | ---: | ---: |")
    for k in keys:
        ours = [r[k] for r in runs["ours"]]
        ray = [r[k] for r in runs["ray"]]
        ratio = f"{mean(ours) / mean(ray):.2f}x" if ray else "-"
        cells = [" / ".join(f"{v:.2f}" for v in xs) or "-" for xs in (ours, ray)]
        print(f"| {k} | {cells[0]} | {cells[1]} | {ratio} |")
    heap = [r["receiver_heap_mib"] for r in runs["ours"] if "receiver_heap_mib" in r]
    if heap:
        print("receiving node's heap above idle, MiB:", " / ".join(f"{h:.1f}" for h in heap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
