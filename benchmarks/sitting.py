"""One benchmark sitting: core_bench.py against this runtime and real Ray, interleaved.

Runs ours, Ray, ours, Ray (``--rounds`` pairs) on the same machine, then prints README's table:
each cell lists every run, the ratio compares the means (> 1: ours is better; for times, lower
is better).

    python benchmarks/sitting.py --ours .venv/bin/python --ray .venv-ray/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import mean

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# Row labels of README's table, in its order.
LABELS = {
    "init_to_first_result_s": "`ray.init()` to first task result",
    "tasks_per_s_sequential": "tasks/s, one at a time",
    "tasks_per_s_batch_1000": "tasks/s, batches of 1000",
    "put_calls_per_s_small": "small `ray.put` calls/s",
    "get_calls_per_s_small": "small `ray.get` calls/s (same ref)",
    "put_gb_per_s_large": "`ray.put` of a 256 MiB array, GB/s",
    "get_calls_per_s_large": "`ray.get` of a 256 MiB array, calls/s",
    "actor_calls_per_s_sequential": "actor calls/s, one at a time",
    "actor_calls_per_s_batch_1000": "actor calls/s, batches of 1000",
    "actor_calls_per_s_concurrent": "actor calls/s, `max_concurrency=16`",
    "wait_calls_per_s_1000_ready": "`ray.wait` over 1,000 ready refs, calls/s",
    "nested_200x10_s": "200 parents x 10 blocking children, s",
    "actors_40_create_s": "create 40 actors, s",
    "actors_40x10_calls_per_s": "then 10 calls to each, calls/s",
}


def run(python: str, out: Path) -> dict:
    subprocess.run([python, str(HERE / "core_bench.py"), "--json", str(out)], check=True)
    return json.loads(out.read_text())["metrics"]


def fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


def table(ours: list, ray: list) -> str:
    from core_bench import METRICS

    lines = [
        "| metric | this runtime | Ray 2.60.0 | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for m in METRICS:
        a = [r[m.name]["value"] for r in ours if "value" in r.get(m.name, {})]
        b = [r[m.name]["value"] for r in ray if "value" in r.get(m.name, {})]
        if not a or not b:
            continue
        ratio = mean(a) / mean(b) if m.higher_is_better else mean(b) / mean(a)
        unit = " s" if m.unit == "s" else ""
        cells = [" / ".join(fmt(v) for v in xs) + unit for xs in (a, b)]
        lines.append(f"| {LABELS.get(m.name, m.name)} | {cells[0]} | {cells[1]} | {ratio:.2f}x |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ours", required=True, help="python of this runtime's venv")
    p.add_argument("--ray", required=True, help="python of a venv with ray==2.60.0")
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    ours, ray = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            ours.append(run(args.ours, Path(tmp) / f"ours{i}.json"))
            ray.append(run(args.ray, Path(tmp) / f"ray{i}.json"))
    print(table(ours, ray))
    return 0


if __name__ == "__main__":
    sys.exit(main())
