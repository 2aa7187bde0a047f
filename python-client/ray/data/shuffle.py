"""All-to-all operations: every output block may take rows from every input block. They run as
map and reduce tasks through the object store (the driver sees only metadata and a sample):
each input block is split by a map task into one part per output block, and a reduce task per
output block combines its parts. The result is a dataset of those blocks."""

from __future__ import annotations

from typing import Any, Callable, List, Optional

import numpy as np

import ray
from ray.data import block as blocks


@ray.remote
def _split(table, how: str, n: int, arg):
    """Splits one block into ``n`` parts (returned as n objects)."""
    import pyarrow as pa

    if how == "range":  # contiguous global rows: arg = (this block's first row, total, cut points)
        start, total, cuts = arg
        bounds = [0, *cuts, total] if cuts is not None else [j * total // n for j in range(n + 1)]
        parts = []
        for j in range(n):
            lo, hi = max(bounds[j] - start, 0), min(bounds[j + 1] - start, table.num_rows)
            parts.append(table.slice(lo, max(hi - lo, 0)))
    elif how == "random":  # arg = seed
        rng = np.random.default_rng(arg)
        dest = rng.integers(0, n, table.num_rows)
        parts = [table.take(pa.array(np.nonzero(dest == j)[0])) for j in range(n)]
    else:  # "key": arg = (column, boundaries): part j holds keys in (b[j-1], b[j]]
        column, boundaries = arg
        keys = blocks.column_numpy(table, column)
        dest = (
            np.searchsorted(np.asarray(boundaries, dtype=keys.dtype), keys, side="left")
            if boundaries
            else np.zeros(len(keys), int)
        )
        parts = [table.take(pa.array(np.nonzero(dest == j)[0])) for j in range(n)]
    return tuple(parts) if n > 1 else parts[0]


@ray.remote
def _combine(how: str, arg, *parts):
    import pyarrow as pa

    non_empty = [p for p in parts if p.num_rows] or list(parts[:1])
    table = pa.concat_tables(non_empty) if len(non_empty) > 1 else non_empty[0]
    if how == "random":
        rng = np.random.default_rng(arg)
        return table.take(pa.array(rng.permutation(table.num_rows)))
    if how == "sort":
        column, descending = arg
        return table.sort_by([(column, "descending" if descending else "ascending")])
    if how == "group":
        column, fn = arg
        return fn(table, column)
    return table


def _exchange(ds, how: str, n: int, split_arg: Callable[[int, int, int], Any], combine_arg, name: str, combine=None):
    from ray.data.dataset import Dataset, _Source

    bundles = [(ref, meta) for ref, meta in ds._bundles() if meta["num_rows"]]
    if not bundles:
        return Dataset(_Source(name, (), 0, None))
    total = sum(m["num_rows"] for _, m in bundles)
    parts = []
    start = 0
    for i, (ref, meta) in enumerate(bundles):
        out = _split.options(num_returns=n).remote(ref, how, n, split_arg(i, start, total))
        parts.append(out if n > 1 else [out])
        start += meta["num_rows"]
    reduced = [_combine.remote(combine or how, combine_arg(j), *[p[j] for p in parts]) for j in range(n)]
    from ray.data.dataset import _ref_reader

    reads = tuple(_ref_reader(r) for r in reduced)
    return Dataset(
        _Source(name, reads, total if how != "group" else None, bundles[0][1]["schema"] if how != "group" else None)
    )


def repartition(ds, num_blocks: int, shuffle: bool = False):
    if not isinstance(num_blocks, int) or num_blocks <= 0:
        raise ValueError(f"num_blocks must be a positive int, got {num_blocks!r}")
    if shuffle:
        return random_shuffle(ds, None, num_blocks)
    return _exchange(
        ds, "range", num_blocks, lambda i, start, total: (start, total, None), lambda j: None, "Repartition"
    )


def split_at(ds, cuts: List[int]):
    """The dataset cut at global row indices ``cuts``: one dataset per piece, in order."""
    from ray.data.dataset import Dataset, _Source

    whole = _exchange(ds, "range", len(cuts) + 1, lambda i, start, total: (start, total, cuts), lambda j: None, "Split")
    bounds = [0, *cuts]
    pieces = []
    for j, read in enumerate(whole._source.reads):
        end = cuts[j] if j < len(cuts) else None
        rows = None if end is None else end - bounds[j]
        pieces.append(Dataset(_Source("Split", (read,), rows, whole._source.schema)).materialize())
    return pieces


def random_shuffle(ds, seed: Optional[int], num_blocks: Optional[int] = None):
    n = num_blocks or max(1, len(ds._source.reads))
    base = np.random.SeedSequence(seed).generate_state(1)[0] if seed is not None else None

    def seed_for(k):
        return None if base is None else int(base) + k

    return _exchange(ds, "random", n, lambda i, s, t: seed_for(i), lambda j: seed_for(10_000 + j), "RandomShuffle")


@ray.remote
def _sample(table, column: str, k: int):
    keys = blocks.column_numpy(table, column)
    if len(keys) <= k:
        return keys
    return keys[np.linspace(0, len(keys) - 1, k).astype(int)]


def _boundaries(ds, column: str, n: int) -> List[Any]:
    samples = ray.get([_sample.remote(ref, column, 20) for ref, meta in ds._bundles() if meta["num_rows"]])
    if not samples:
        return []
    keys = np.sort(np.concatenate(samples))
    return [keys[int(len(keys) * j / n)] for j in range(1, n)] if len(keys) else []


def sort(ds, key: str, descending: bool = False):
    from ray.data.dataset import Dataset

    if not isinstance(key, str):
        raise NotImplementedError("sort by several keys is not supported by this Ray Data yet")
    ds = Dataset(ds._source, ds._stages).materialize()
    n = max(1, len(ds._materialized))
    bounds = _boundaries(ds, key, n)
    out = _exchange(ds, "key", n, lambda i, s, t: (key, bounds), lambda j: (key, descending), "Sort", "sort")
    if descending:
        out._source = type(out._source)(
            out._source.name, tuple(reversed(out._source.reads)), out._source.num_rows, out._source.schema
        )
    return out


class GroupedData:
    """``ds.groupby(key)``: aggregations per distinct key, in key order (as Ray)."""

    def __init__(self, ds, key: str):
        if not isinstance(key, str):
            raise NotImplementedError("groupby with several keys is not supported by this Ray Data yet")
        self._ds, self._key = ds, key

    def _aggregate(self, fn, name: str):
        from ray.data.dataset import Dataset

        ds = Dataset(self._ds._source, self._ds._stages).materialize()
        n = max(1, len(ds._materialized))
        bounds = _boundaries(ds, self._key, n)
        key = self._key
        return _exchange(ds, "key", n, lambda i, s, t: (key, bounds), lambda j: (key, fn), name, "group")

    def count(self):
        return self._aggregate(_agg_count, "Aggregate(count)")

    def sum(self, on: str):
        return self._aggregate(_agg("sum", on), f"Aggregate(sum({on}))")

    def min(self, on: str):
        return self._aggregate(_agg("min", on), f"Aggregate(min({on}))")

    def max(self, on: str):
        return self._aggregate(_agg("max", on), f"Aggregate(max({on}))")

    def mean(self, on: str):
        return self._aggregate(_agg("mean", on), f"Aggregate(mean({on}))")

    def std(self, on: str, ddof: int = 1):
        return self._aggregate(_agg("std", on, ddof), f"Aggregate(std({on}))")

    def map_groups(self, fn, *, batch_format: str = "default"):
        def per_group(table, column):
            import pyarrow as pa

            table = table.sort_by(column)
            keys = blocks.column_numpy(table, column)
            out, start = [], 0
            for end in list(np.nonzero(keys[1:] != keys[:-1])[0] + 1) + [len(keys)]:
                if end > start:
                    out.append(blocks.from_batch(fn(blocks.to_batch(table.slice(start, end - start), batch_format))))
                start = end
            return pa.concat_tables(out) if out else table.slice(0, 0)

        return self._aggregate(per_group, "MapGroups")


def _agg_count(table, column):
    import pyarrow as pa

    if table.num_rows == 0:
        return pa.table({column: table[column].slice(0, 0), "count()": pa.array([], pa.int64())})
    counts = table.group_by(column).aggregate([([], "count_all")])
    counts = counts.rename_columns(["count()" if c == "count_all" else c for c in counts.column_names])
    return counts.select([column, "count()"]).sort_by(column)


def _agg(kind: str, on: str, ddof: int = 1):
    def run(table, column):
        options = None
        if kind == "std":
            import pyarrow.compute as pc

            options = pc.VarianceOptions(ddof=ddof)
        spec = (on, "stddev" if kind == "std" else kind, options) if options else (on, kind)
        out = table.group_by(column).aggregate([spec])
        return (
            out.rename_columns([f"{kind}({on})" if c != column else column for c in out.column_names])
            .select([column, f"{kind}({on})"])
            .sort_by(column)
        )

    return run
