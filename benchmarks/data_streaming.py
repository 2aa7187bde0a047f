"""Ray Data streaming through a small object store: a dataset five times the store goes
``read_images -> map_batches -> write_parquet`` on a local 2-CPU cluster whose store is 400 MiB;
prints the peak store use (sampled every 50 ms from ``ray.available_resources()``, the driver's
node's current figure) and the driver's peak resident memory.

    python benchmarks/data_streaming.py [--gib 2] [--store-mib 400]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path


def make_images(folder: Path, total_bytes: int, side: int) -> int:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    per = side * side * 3
    n = -(-total_bytes // per)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
    for i in range(n):
        Image.fromarray(np.roll(base, i, axis=0)).save(folder / f"{i:05d}.png", compress_level=1)
    return n


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gib", type=float, default=2.0, help="decoded size of the dataset")
    p.add_argument("--store-mib", type=int, default=400)
    p.add_argument("--side", type=int, default=512)
    args = p.parse_args()
    import psutil
    import pyarrow.parquet as pq

    import ray

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        n = make_images(tmp / "images", int(args.gib * (1 << 30)), args.side)
        print(
            f"made {n} images of {args.side}x{args.side}x3 ({args.gib} GiB decoded) in {time.perf_counter() - t:.0f} s"
        )
        store = args.store_mib << 20
        ray.init(num_cpus=2, object_store_memory=store)
        me = psutil.Process(os.getpid())
        peak = {"store": 0, "rss": me.memory_info().rss}
        idle_rss = peak["rss"]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                used = store - ray.available_resources().get("object_store_memory", store)
                peak["store"] = max(peak["store"], used)
                peak["rss"] = max(peak["rss"], me.memory_info().rss)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def report(what: str, seconds: float) -> None:
            print(
                f"{what}: {seconds:.1f} s ({args.gib * 1024 / seconds:.0f} MiB/s); peak object store use "
                f"{peak['store'] / 2**20:.0f} MiB of {args.store_mib} MiB; driver RSS {idle_rss / 2**20:.0f} MiB "
                f"before, peak {peak['rss'] / 2**20:.0f} MiB",
                flush=True,
            )
            peak["store"] = 0

        ds = ray.data.read_images(str(tmp / "images")).map_batches(lambda b: {"image": 255 - b["image"]})
        t = time.perf_counter()
        ds.write_parquet(str(tmp / "out"))
        report("read_images -> map_batches -> write_parquet (blocks written by the tasks)", time.perf_counter() - t)
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in (tmp / "out").iterdir())
        print(f"rows written {rows} of {n}")
        # The same dataset read by the driver: every block goes through the store.
        t = time.perf_counter()
        seen = sum(len(b["image"]) for b in ds.iter_batches(batch_size=64))
        report(f"the same through iter_batches in the driver ({seen} rows)", time.perf_counter() - t)
        stop.set()
        sampler.join()
        ray.shutdown()
        return 0 if rows == n == seen else 1


if __name__ == "__main__":
    sys.exit(main())
