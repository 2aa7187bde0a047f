"""A 1 GiB NumPy array: put, get back equal, read-only, and backed by the shared-memory arena
rather than copied (the driver's private memory does not grow by another GiB on get)."""

from __future__ import annotations

import numpy as np

import ray

GIB = 1 << 30


def _rss_anon() -> int:
    """Private (anonymous) resident memory of this process: where a copy would land."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def _mapping_of(address: int) -> str:
    """The file backing the mapping that contains ``address`` in this process."""
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if start <= address < end:
                return parts[5] if len(parts) > 5 else ""
    return ""


def test_one_gib_array_round_trip_without_copy(ray_fresh):
    ray_fresh(num_cpus=1, object_store_memory=GIB + 256 * 1024 * 1024)
    original = np.arange(GIB // 8, dtype=np.int64)
    ref = ray.put(original)

    before = _rss_anon()
    result = ray.get(ref)
    grown = _rss_anon() - before

    assert result.shape == original.shape and result.dtype == original.dtype
    assert not result.flags.writeable, "ray.get must return a read-only array"
    backing = _mapping_of(result.ctypes.data)
    assert backing.startswith("/dev/shm/rayjvm_"), f"array memory is not in the arena but in {backing!r}"
    assert grown < 64 * 1024 * 1024, f"private memory grew by {grown / GIB:.2f} GiB on get: a copy was made"

    chunk = 1 << 24  # compare in slices so the comparison itself allocates little
    for start in range(0, original.size, chunk):
        assert np.array_equal(result[start : start + chunk], original[start : start + chunk])
    assert _rss_anon() - before < 128 * 1024 * 1024
