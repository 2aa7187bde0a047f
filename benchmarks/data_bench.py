"""Ray Data throughput against real Ray Data, interleaved (ours, Ray, ours, Ray), same machine.

- images/s through ``read_images -> map -> write_parquet`` on 2,000 PNG images of 256x256x3
  (generated once, read by both runtimes from the same local directory);
- rows/s through ``range(N).map_batches(...)`` consumed with ``iter_batches``.

Each run is a fresh process with a local 2-CPU cluster (``ray.init(num_cpus=2)``).

    python benchmarks/data_bench.py --ours .venv/bin/python --ray .venv-ray/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from statistics import mean

IMAGES = 2000
ROWS = 20_000_000

WORKLOAD = (
    textwrap.dedent(
        """
    import json, sys, time
    import ray

    images, out = sys.argv[1], sys.argv[2]
    ray.init(num_cpus=2)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
    except Exception:
        pass
    result = {}

    def invert(row):
        return {"image": 255 - row["image"]}

    t = time.perf_counter()
    ray.data.read_images(images).map(invert).write_parquet(out)
    result["images_per_s"] = IMAGES / (time.perf_counter() - t)

    t = time.perf_counter()
    n = 0
    for batch in ray.data.range(ROWS).map_batches(lambda b: {"id": b["id"] * 2}).iter_batches(batch_size=100_000):
        n += len(batch["id"])
    assert n == ROWS, n
    result["range_map_batches_rows_per_s"] = ROWS / (time.perf_counter() - t)
    print("RESULT " + json.dumps(result))
    ray.shutdown()
    """
    )
    .replace("IMAGES", str(IMAGES))
    .replace("ROWS", str(ROWS))
)


def _make_images(folder: Path) -> None:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(IMAGES):
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(folder / f"{i:05d}.png")


def run(python: str, images: Path, out: Path, script: Path) -> dict:
    res = subprocess.run([python, str(script), str(images), str(out)], capture_output=True, text=True, timeout=1800)
    line = [s for s in res.stdout.splitlines() if s.startswith("RESULT ")]
    if res.returncode != 0 or not line:
        raise SystemExit(f"{python} failed:\\n{res.stdout[-3000:]}\\n{res.stderr[-3000:]}")
    return json.loads(line[-1][len("RESULT ") :])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ours", required=True)
    p.add_argument("--ray", required=True)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    ours, ray = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images = tmp / "images"
        subprocess.run(
            [
                args.ours,
                "-c",
                f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                f"from data_bench import _make_images; from pathlib import Path; _make_images(Path({str(images)!r}))",
            ],
            check=True,
        )
        script = tmp / "workload.py"
        script.write_text(WORKLOAD)
        for i in range(args.rounds):
            for who, python, results in (("ours", args.ours, ours), ("ray", args.ray, ray)):
                r = run(python, images, tmp / f"out_{who}_{i}", script)
                print(who, json.dumps({k: round(v, 1) for k, v in r.items()}), flush=True)
                results.append(r)
    print("| metric | this runtime | Ray Data 2.60.0 | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for key in ours[0]:
        a, b = [r[key] for r in ours], [r[key] for r in ray]
        print(
            f"| {key} | {' / '.join(f'{v:,.0f}' for v in a)} | {' / '.join(f'{v:,.0f}' for v in b)} | "
            f"{mean(a) / mean(b):.2f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
