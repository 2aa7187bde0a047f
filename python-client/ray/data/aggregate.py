"""Whole-dataset aggregates: each block is reduced by a task to a small partial, and the driver
combines the partials (no block comes to the driver)."""

from __future__ import annotations

import math
from typing import Any, List, Optional

import ray


@ray.remote
def _partial(block, column: str, kind: str):
    from ray.data import block as blocks

    if column not in block.column_names:
        raise ValueError(f"Column {column!r} is not in the dataset (its columns: {block.column_names})")
    values = blocks.column_numpy(block, column)
    if kind == "unique":
        return set(values.tolist())
    values = values[~_nan(values)] if values.dtype.kind == "f" else values
    if len(values) == 0:
        return (0, 0.0, 0.0, None, None)
    as_float = values.astype("float64")
    return (len(values), float(as_float.sum()), float((as_float**2).sum()), values.min().item(), values.max().item())


def _nan(values):
    import numpy as np

    return np.isnan(values)


def partials(ds, column: str, kind: str) -> List[Any]:
    refs = [_partial.remote(ref, column, kind) for ref, meta in ds._bundles() if meta["num_rows"]]
    return ray.get(refs)


def aggregate(ds, column: str, what: str, ddof: int = 1) -> Optional[float]:
    parts = [p for p in partials(ds, column, "stats") if p[0]]
    if not parts:
        return None
    n = sum(p[0] for p in parts)
    total = sum(p[1] for p in parts)
    if what == "sum":
        return total if any(isinstance(p[3], float) for p in parts) else int(round(total))
    if what == "min":
        return min(p[3] for p in parts)
    if what == "max":
        return max(p[4] for p in parts)
    mean = total / n
    if what == "mean":
        return mean
    squares = sum(p[2] for p in parts)
    if n - ddof <= 0:
        return None
    return math.sqrt(max(squares - n * mean * mean, 0.0) / (n - ddof))


def unique(ds, column: str) -> List[Any]:
    out: set = set()
    for part in partials(ds, column, "unique"):
        out |= part
    return list(out)
