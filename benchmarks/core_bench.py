"""Micro-benchmark of Ray's core API: tasks, ray.put and ray.get.

Uses only the public Ray API, so the same file runs on this project's runtime and on
real Ray; the interpreter's ``ray`` package decides which one is measured.

    python benchmarks/core_bench.py [--quick] [--json PATH]
    python benchmarks/core_bench.py --compare OURS.json REF.json

Every measured loop runs after a warm-up and stops at a time budget or an iteration cap,
whichever comes first, so a full run takes well under two minutes.
"""

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np

import ray

NUM_CPUS = 2
OBJECT_STORE_BYTES = 2 * 1024**3
LARGE_ARRAY_BYTES = 256 * 1024**2  # float64, so 32 Mi elements
SMALL_VALUE = b"x" * 100
BATCH_SIZE = 1000
# No single ray.get should take this long; a GetTimeoutError is reported as the metric's
# error instead of the benchmark hanging.
OP_TIMEOUT_S = 60.0
GB = 1e9  # throughput is in decimal gigabytes per second


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    higher_is_better: bool


METRICS = [
    Metric("init_to_first_result_s", "s", higher_is_better=False),
    Metric("tasks_per_s_sequential", "tasks/s", higher_is_better=True),
    Metric("tasks_per_s_batch_1000", "tasks/s", higher_is_better=True),
    Metric("put_calls_per_s_small", "calls/s", higher_is_better=True),
    Metric("get_calls_per_s_small", "calls/s", higher_is_better=True),
    Metric("put_gb_per_s_large", "GB/s", higher_is_better=True),
    Metric("get_calls_per_s_large", "calls/s", higher_is_better=True),
    Metric("actor_calls_per_s_sequential", "calls/s", higher_is_better=True),
    Metric("actor_calls_per_s_batch_1000", "calls/s", higher_is_better=True),
    Metric("actor_calls_per_s_concurrent", "calls/s", higher_is_better=True),
    Metric("wait_calls_per_s_1000_ready", "calls/s", higher_is_better=True),
    Metric("nested_200x10_s", "s", higher_is_better=False),
    Metric("actors_40_create_s", "s", higher_is_better=False),
    Metric("actors_40x10_calls_per_s", "calls/s", higher_is_better=True),
]
# Parents that each wait for this many children (blocking ray.get inside a task).
NESTED_PARENTS, NESTED_CHILDREN = 200, 10
MANY_ACTORS, CALLS_PER_ACTOR = 40, 10
# Calls in flight at once on the concurrent actor (its max_concurrency).
ACTOR_CONCURRENCY = 16


@dataclass(frozen=True)
class Limits:
    """Bounds of each measured loop: a time budget plus an iteration cap per metric."""

    seconds: float
    sequential_tasks: int
    batches: int
    small_calls: int
    large_puts: int
    large_gets: int


FULL = Limits(
    seconds=3.0,
    sequential_tasks=20_000,
    batches=50,
    small_calls=100_000,
    large_puts=20,
    large_gets=5_000,
)
QUICK = Limits(
    seconds=0.5,
    sequential_tasks=200,
    batches=2,
    small_calls=2_000,
    large_puts=2,
    large_gets=20,
)


@ray.remote
def noop():
    return None


@ray.remote
def child(i):
    return i


@ray.remote
def parent(j):
    return sum(ray.get([child.remote(i) for i in range(NESTED_CHILDREN)])) + j


@ray.remote
class Echo:
    """An actor whose method does nothing, to measure the cost of a call."""

    def noop(self):
        return None


def measure(
    op: Callable[[], object],
    *,
    warmup: int,
    max_iters: int,
    max_seconds: float,
    work_per_iter: float = 1.0,
) -> Dict[str, float]:
    """Runs op() `warmup` times, then times a bounded loop of it.

    The loop stops after max_iters calls or once max_seconds have passed (it always makes
    at least one call). The rate is work_per_iter * iterations / elapsed seconds.
    """
    for _ in range(warmup):
        op()
    iterations = 0
    start = time.perf_counter()
    while True:
        op()
        iterations += 1
        elapsed = time.perf_counter() - start
        if iterations >= max_iters or elapsed >= max_seconds:
            break
    return {
        "value": work_per_iter * iterations / elapsed,
        "iterations": iterations,
        "seconds": elapsed,
    }


def bench_tasks_sequential(limits: Limits) -> Dict[str, float]:
    return measure(
        lambda: ray.get(noop.remote(), timeout=OP_TIMEOUT_S),
        warmup=20,
        max_iters=limits.sequential_tasks,
        max_seconds=limits.seconds,
    )


def bench_tasks_batch(limits: Limits) -> Dict[str, float]:
    def batch():
        ray.get([noop.remote() for _ in range(BATCH_SIZE)], timeout=OP_TIMEOUT_S)

    return measure(
        batch,
        warmup=1,
        max_iters=limits.batches,
        max_seconds=limits.seconds,
        work_per_iter=BATCH_SIZE,
    )


def bench_put_small(limits: Limits) -> Dict[str, float]:
    # The returned ref is dropped at once, so the object can be freed while the loop runs.
    return measure(
        lambda: ray.put(SMALL_VALUE),
        warmup=100,
        max_iters=limits.small_calls,
        max_seconds=limits.seconds,
    )


def bench_get_small(limits: Limits) -> Dict[str, float]:
    ref = ray.put(SMALL_VALUE)
    check(ray.get(ref, timeout=OP_TIMEOUT_S) == SMALL_VALUE, "small value read back")
    return measure(
        lambda: ray.get(ref, timeout=OP_TIMEOUT_S),
        warmup=100,
        max_iters=limits.small_calls,
        max_seconds=limits.seconds,
    )


def bench_put_large(limits: Limits, array: np.ndarray) -> Dict[str, float]:
    # As with small puts, each ref is dropped before the next put, so the store never
    # has to hold more than a couple of copies.
    return measure(
        lambda: ray.put(array),
        warmup=1,
        max_iters=limits.large_puts,
        max_seconds=limits.seconds,
        work_per_iter=array.nbytes / GB,
    )


def bench_get_large(limits: Limits, array: np.ndarray) -> Dict[str, float]:
    ref = ray.put(array)
    value = ray.get(ref, timeout=OP_TIMEOUT_S)
    check(
        value.shape == array.shape and value[-1] == array[-1],
        "large array read back",
    )
    del value
    return measure(
        lambda: ray.get(ref, timeout=OP_TIMEOUT_S),
        warmup=2,
        max_iters=limits.large_gets,
        max_seconds=limits.seconds,
    )


def bench_actor_sequential(limits: Limits) -> Dict[str, float]:
    actor = Echo.remote()
    return measure(
        lambda: ray.get(actor.noop.remote(), timeout=OP_TIMEOUT_S),
        warmup=20,
        max_iters=limits.sequential_tasks,
        max_seconds=limits.seconds,
    )


def bench_actor_batch(limits: Limits, max_concurrency: int = 1) -> Dict[str, float]:
    """Batches of calls to one actor (ordered, or threaded with max_concurrency > 1)."""
    actor = Echo.options(max_concurrency=max_concurrency).remote()

    def batch():
        ray.get([actor.noop.remote() for _ in range(BATCH_SIZE)], timeout=OP_TIMEOUT_S)

    return measure(
        batch,
        warmup=1,
        max_iters=limits.batches,
        max_seconds=limits.seconds,
        work_per_iter=BATCH_SIZE,
    )


def bench_wait_ready(limits: Limits) -> Dict[str, float]:
    """ray.wait over 1,000 refs that are all ready."""
    refs = [noop.remote() for _ in range(BATCH_SIZE)]
    ray.get(refs, timeout=OP_TIMEOUT_S)

    def wait_all():
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=OP_TIMEOUT_S)
        check(len(ready) == len(refs), "every ref is ready")

    return measure(wait_all, warmup=2, max_iters=limits.small_calls, max_seconds=limits.seconds)


def bench_nested() -> Dict[str, float]:
    """Parents that block in ray.get on their children: seconds for the whole batch."""
    start = time.perf_counter()
    results = ray.get([parent.remote(j) for j in range(NESTED_PARENTS)], timeout=600)
    elapsed = time.perf_counter() - start
    expected = sum(range(NESTED_CHILDREN))
    check(results == [expected + j for j in range(NESTED_PARENTS)], "nested results")
    return {"value": elapsed, "iterations": 1, "seconds": elapsed}


def bench_many_actors() -> Dict[str, Dict[str, float]]:
    """Creates 40 actors (seconds until each has answered once), then calls each 10 times."""
    start = time.perf_counter()
    actors = [Echo.remote() for _ in range(MANY_ACTORS)]
    ray.get([a.noop.remote() for a in actors], timeout=600)
    created = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(CALLS_PER_ACTOR):
        ray.get([a.noop.remote() for a in actors], timeout=OP_TIMEOUT_S)
    calls = time.perf_counter() - start
    for a in actors:
        ray.kill(a)
    n = MANY_ACTORS * CALLS_PER_ACTOR
    return {
        "actors_40_create_s": {"value": created, "iterations": MANY_ACTORS, "seconds": created},
        "actors_40x10_calls_per_s": {"value": n / calls, "iterations": n, "seconds": calls},
    }


def check(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"wrong result: {what}")


def run(limits: Limits) -> Dict[str, dict]:
    """Starts Ray, measures every metric, and shuts Ray down; returns results by name.

    A metric whose operations raise gets {"error": "..."} and the others still run.
    """
    print(f"ray {ray.__version__} from {ray.__file__}", flush=True)
    results: Dict[str, dict] = {}

    start = time.perf_counter()
    ray.init(num_cpus=NUM_CPUS, object_store_memory=OBJECT_STORE_BYTES)
    try:
        check(ray.get(noop.remote(), timeout=OP_TIMEOUT_S) is None, "first task")
        elapsed = time.perf_counter() - start
        results["init_to_first_result_s"] = {
            "value": elapsed,
            "iterations": 1,
            "seconds": elapsed,
        }

        # Written once (np.ones touches every page), so its creation is not measured.
        array = np.ones(LARGE_ARRAY_BYTES // 8, dtype=np.float64)
        benches = {
            "tasks_per_s_sequential": lambda: bench_tasks_sequential(limits),
            "tasks_per_s_batch_1000": lambda: bench_tasks_batch(limits),
            "put_calls_per_s_small": lambda: bench_put_small(limits),
            "get_calls_per_s_small": lambda: bench_get_small(limits),
            "put_gb_per_s_large": lambda: bench_put_large(limits, array),
            "get_calls_per_s_large": lambda: bench_get_large(limits, array),
            "actor_calls_per_s_sequential": lambda: bench_actor_sequential(limits),
            "actor_calls_per_s_batch_1000": lambda: bench_actor_batch(limits),
            "actor_calls_per_s_concurrent": lambda: bench_actor_batch(limits, ACTOR_CONCURRENCY),
            "wait_calls_per_s_1000_ready": lambda: bench_wait_ready(limits),
            "nested_200x10_s": bench_nested,
        }
        for name, bench in benches.items():
            print(f"measuring {name} ...", flush=True)
            try:
                results[name] = bench()
            except Exception as e:  # noqa: BLE001 - reported per metric, run goes on
                results[name] = {"error": f"{type(e).__name__}: {e}"}
                print(f"  failed: {results[name]['error']}", flush=True)
        print("measuring actors_40_create_s, actors_40x10_calls_per_s ...", flush=True)
        try:
            results.update(bench_many_actors())
        except Exception as e:  # noqa: BLE001 - reported per metric, run goes on
            for name in ("actors_40_create_s", "actors_40x10_calls_per_s"):
                results[name] = {"error": f"{type(e).__name__}: {e}"}
    finally:
        ray.shutdown()
    return results


def format_value(value: float) -> str:
    return f"{value:,.1f}" if value >= 100 else f"{value:.3f}"


def print_table(headers: List[str], rows: List[List[str]]) -> None:
    """Prints rows under headers; the first column left-aligned, the rest right-aligned."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: List[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:])]
        return "  ".join([first, *rest])

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def print_results(report: dict) -> None:
    print()
    print(describe(report))
    rows = []
    for metric in METRICS:
        result = report["metrics"].get(metric.name)
        if result is None:
            continue
        if "error" in result:
            rows.append([metric.name, "ERROR", metric.unit, "", ""])
            continue
        rows.append(
            [
                metric.name,
                format_value(result["value"]),
                metric.unit,
                str(result["iterations"]),
                f"{result['seconds']:.2f}",
            ]
        )
    print_table(["metric", "value", "unit", "iterations", "loop s"], rows)
    for name, result in report["metrics"].items():
        if "error" in result:
            print(f"{name}: {result['error']}")


def describe(report: dict) -> str:
    impl = report["implementation"]
    mode = "quick" if report["quick"] else "full"
    return (
        f"ray {impl['version']} ({impl['path']}), Python {report['python']}, "
        f"{report['cpu_count']} cores, {mode} run at {report['timestamp']}"
    )


def compare(ours_path: str, ref_path: str) -> None:
    """Prints both runs' values per metric and a ratio where > 1 means ours is faster."""
    ours = json.loads(Path(ours_path).read_text())
    ref = json.loads(Path(ref_path).read_text())
    print(f"ours: {describe(ours)}")
    print(f"ref:  {describe(ref)}")
    if ours["quick"] != ref["quick"]:
        print("warning: one run is --quick and the other is not")
    print("ratio > 1 means ours is faster: ours/ref for rates, " "ref/ours for the times (metrics in s).")
    print()
    rows = []
    for metric in METRICS:
        a = ours["metrics"].get(metric.name, {}).get("value")
        b = ref["metrics"].get(metric.name, {}).get("value")
        ratio = "n/a"
        if a and b:  # both present and non-zero
            ratio = f"{a / b if metric.higher_is_better else b / a:.2f}x"
        rows.append([metric.name, cell(ours, metric), cell(ref, metric), metric.unit, ratio])
    print_table(["metric", "ours", "ref", "unit", "ratio"], rows)


def cell(report: dict, metric: Metric) -> str:
    result = report["metrics"].get(metric.name)
    if result is None:
        return "-"
    if "error" in result:
        return "ERROR"
    return format_value(result["value"])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorten every loop (smoke test)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("OURS.json", "REF.json"),
        help="compare two --json results instead of running",
    )
    args = parser.parse_args(argv)

    if args.compare:
        compare(*args.compare)
        return 0

    limits = QUICK if args.quick else FULL
    metrics = run(limits)
    report = {
        "implementation": {
            "name": "ray",
            "version": ray.__version__,
            "path": ray.__file__,
        },
        "python": platform.python_version(),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "quick": args.quick,
        "config": {
            "num_cpus": NUM_CPUS,
            "object_store_memory": OBJECT_STORE_BYTES,
            "large_array_bytes": LARGE_ARRAY_BYTES,
            "small_value_bytes": len(SMALL_VALUE),
            "loop_seconds": limits.seconds,
        },
        "metrics": metrics,
    }
    print_results(report)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {path}")
    return 1 if any("error" in r for r in metrics.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
