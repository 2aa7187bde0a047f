"""The main demo (`make run`): invert a batch of images in parallel on a local cluster.

It shows the core of the API on our engine: ray.init() starts a local cluster (a Java node
process plus worker JVMs that embed CPython), @ray.remote tasks run in parallel, large
NumPy arrays travel through shared memory without copies, and worker output reaches this
terminal with a (task pid=N) prefix.
"""

import os
import time

import numpy as np

import ray


@ray.remote
def invert(image: np.ndarray) -> np.ndarray:
    """A deliberately slow filter: half a second of 'work', then 255 - image."""
    time.sleep(0.5)
    return 255 - image


@ray.remote
def brightness(image: np.ndarray) -> float:
    print(f"measuring an image of shape {image.shape}")
    return float(image.mean())


def main() -> None:
    ctx = ray.init()
    cpus = int(ray.cluster_resources()["CPU"])
    print(f"Local cluster up: {cpus} CPUs, node manager at {ctx.address_info['node_manager_address']}")

    images = [np.random.randint(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(4 * cpus)]
    start = time.time()
    inverted = ray.get([invert.remote(img) for img in images])
    elapsed = time.time() - start
    sequential = 0.5 * len(images)
    print(f"Inverted {len(images)} images in {elapsed:.2f} s (sequentially: {sequential:.1f} s)")
    assert all(np.array_equal(a, 255 - b) for a, b in zip(inverted, images))

    # One large array, stored once in shared memory and read by every task in place.
    big = np.random.randint(0, 255, (2048, 2048, 3), dtype=np.uint8)
    big_ref = ray.put(big)
    means = ray.get([brightness.remote(big_ref) for _ in range(cpus)])
    print(f"Mean brightness of a {big.nbytes / 2**20:.0f} MiB image, from {cpus} tasks: {means[0]:.2f}")

    back = ray.get(big_ref)
    print(f"ray.get returned a read-only view of shared memory: writeable={back.flags.writeable}")

    ray.shutdown()
    print(f"Done (driver pid {os.getpid()}).")


if __name__ == "__main__":
    main()
