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
    table = blocks.concat(non_empty)
    if how == "random":
        rng = np.random.default_rng(arg)
        return table.take(pa.array(rng.permutation(table.num_rows)))
    if how == "sort":
        return table.sort_by(arg)  # [(column, order)]
    if how == "group":
        keys, fn = arg
        return fn(table, keys)
    return table


def _exchange(ds, how: str, n: int, split_arg: Callable[[int, int, int], Any], combine_arg, name: str, combine=None):
    from ray.data.dataset import Dataset
    from ray.data.stages import _Source

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
    from ray.data.stages import _ref_reader

    reads = tuple(_ref_reader(r) for r in reduced)
    return Dataset(
        _Source(name, reads, total if how != "group" else None, bundles[0][1]["schema"] if how != "group" else None)
    )


def repartition(ds, num_blocks: int, shuffle: bool = False):
    from ray.data.deferred import deferred

    if not isinstance(num_blocks, int) or num_blocks <= 0:
        raise ValueError(f"num_blocks must be a positive int, got {num_blocks!r}")
    if shuffle:
        return random_shuffle(ds, None, num_blocks)

    def build():
        return _exchange(
            ds, "range", num_blocks, lambda i, start, total: (start, total, None), lambda j: None, "Repartition"
        )

    return deferred("Repartition", build, ds, ds._static_rows())


def split_at(ds, cuts: List[int]):
    """The dataset cut at global row indices ``cuts``: one dataset per piece, in order."""
    from ray.data.dataset import Dataset
    from ray.data.stages import _Source

    whole = _exchange(ds, "range", len(cuts) + 1, lambda i, start, total: (start, total, cuts), lambda j: None, "Split")
    bounds = [0, *cuts]
    pieces = []
    for j, read in enumerate(whole._source.reads):
        end = cuts[j] if j < len(cuts) else None
        rows = None if end is None else end - bounds[j]
        pieces.append(Dataset(_Source("Split", (read,), rows, whole._source.schema)).materialize())
    return pieces


def random_shuffle(ds, seed: Optional[int], num_blocks: Optional[int] = None):
    from ray.data.deferred import deferred

    base = np.random.SeedSequence(seed).generate_state(1)[0] if seed is not None else None

    def seed_for(k):
        return None if base is None else int(base) + k

    def build():
        source = ds._resolved()
        n = num_blocks or max(1, len(source._source.reads))
        return _exchange(
            source, "random", n, lambda i, s, t: seed_for(i), lambda j: seed_for(10_000 + j), "RandomShuffle"
        )

    return deferred("RandomShuffle", build, ds, ds._static_rows())


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


def _keys(key, what: str) -> List[str]:
    keys = [key] if isinstance(key, str) else list(key) if isinstance(key, (list, tuple)) else None
    if not keys or not all(isinstance(k, str) for k in keys):
        raise ValueError(f"{what} key must be a column name or a list of them, got {key!r}")
    return keys


def _check_columns(ds, keys: List[str]) -> None:
    """Ray's error for a key that is not a column, raised when the call is made if the schema is
    known then, else when the operator runs."""
    schema = ds.schema() if ds._static_schema() is None else ds._static_schema()
    names = list(schema.names) if schema is not None else None
    for k in keys:
        if names is not None and k not in names:
            raise ValueError(
                f"You specified the column '{k}', but there's no such column in the dataset. "
                f"The dataset has columns: {names}"
            )


def _by_key(ds, keys: List[str], combine_arg, name: str, combine: str):
    """Rows with equal first keys in one output block, the blocks in first-key order (sampled
    boundaries), each combined by ``combine``."""
    if ds._static_schema() is not None:
        _check_columns(ds, keys)
    materialized = ds.materialize()
    _check_columns(materialized, keys)
    n = max(1, len(materialized._materialized))
    bounds = _boundaries(materialized, keys[0], n)
    return _exchange(materialized, "key", n, lambda i, s, t: (keys[0], bounds), combine_arg, name, combine)


def sort(ds, key, descending=False):
    """Sorted by ``key`` (a column or a list of them; ``descending`` a bool or one per key)."""
    from ray.data.dataset import Dataset
    from ray.data.deferred import deferred
    from ray.data.stages import _Source

    keys = _keys(key, "sort")
    order = list(descending) if isinstance(descending, (list, tuple)) else [descending] * len(keys)
    if len(order) != len(keys):
        raise ValueError(f"descending has {len(order)} values for {len(keys)} sort keys")
    if ds._static_schema() is not None:
        _check_columns(ds, keys)
    spec = [(k, "descending" if d else "ascending") for k, d in zip(keys, order)]

    def build():
        out = _by_key(ds, keys, lambda j: spec, "Sort", "sort")
        src = out._source
        reads = tuple(reversed(src.reads)) if order[0] else src.reads
        return Dataset(_Source(src.name, reads, src.num_rows, src.schema))

    return deferred("Sort", build, ds, ds._static_rows())


class GroupedData:
    """``ds.groupby(key)`` (a column or a list of them): aggregations per distinct key, in key
    order (as Ray)."""

    def __init__(self, ds, key):
        self._keys = _keys(key, "groupby")
        if ds._static_schema() is not None:
            _check_columns(ds, self._keys)
        self._ds = ds

    def _aggregate(self, fn, name: str, column=None):
        """``column`` (name, kind) is the aggregate's output column, for the schema known before
        running."""
        from ray.data.deferred import deferred

        keys = self._keys
        return deferred(
            name,
            lambda: _by_key(self._ds, keys, lambda j: (keys, fn), name, "group"),
            self._ds,
            same_schema=False,
            schema=_aggregate_schema(self._ds._static_schema(), keys, column),
        )

    def count(self):
        return self._aggregate(_agg_count, "Aggregate", ("count()", "count"))

    def sum(self, on: str):
        return self._aggregate(_agg("sum", on), "Aggregate", (f"sum({on})", "sum"))

    def min(self, on: str):
        return self._aggregate(_agg("min", on), "Aggregate", (f"min({on})", "min"))

    def max(self, on: str):
        return self._aggregate(_agg("max", on), "Aggregate", (f"max({on})", "max"))

    def mean(self, on: str):
        return self._aggregate(_agg("mean", on), "Aggregate", (f"mean({on})", "mean"))

    def std(self, on: str, ddof: int = 1):
        return self._aggregate(_agg("std", on, ddof), "Aggregate", (f"std({on})", "std"))

    def map_groups(self, fn, *, batch_format: str = "default"):
        def per_group(table, keys):
            table = table.sort_by([(k, "ascending") for k in keys])
            columns = [blocks.column_numpy(table, k) for k in keys]
            change = np.zeros(max(table.num_rows - 1, 0), bool)
            for c in columns:
                change |= c[1:] != c[:-1]
            out, start = [], 0
            for end in list(np.nonzero(change)[0] + 1) + [table.num_rows]:
                if end > start:
                    out.append(blocks.from_batch(fn(blocks.to_batch(table.slice(start, end - start), batch_format))))
                start = end
            return blocks.concat(out) if out else table.slice(0, 0)

        return self._aggregate(per_group, "MapGroups")


def _aggregate_schema(schema, keys: List[str], column):
    if schema is None or column is None:
        return None
    import pyarrow as pa

    name, kind = column
    if kind == "count":
        out_type = pa.int64()
    elif kind in ("mean", "std"):
        out_type = pa.float64()
    else:
        on = name[len(kind) + 1 : -1]
        if on not in schema.names:
            return None  # the error comes when it runs
        source = schema.field(on).type
        out_type = pa.int64() if kind == "sum" and pa.types.is_integer(source) else source
    return pa.schema([schema.field(k) for k in keys] + [pa.field(name, out_type)])


def _agg_count(table, keys):
    import pyarrow as pa

    if table.num_rows == 0:
        return pa.table({**{k: table[k].slice(0, 0) for k in keys}, "count()": pa.array([], pa.int64())})
    counts = table.group_by(keys).aggregate([([], "count_all")])
    counts = counts.rename_columns(["count()" if c == "count_all" else c for c in counts.column_names])
    return counts.select([*keys, "count()"]).sort_by([(k, "ascending") for k in keys])


def _agg(kind: str, on: str, ddof: int = 1):
    def run(table, keys):
        options = None
        if kind == "std":
            import pyarrow.compute as pc

            options = pc.VarianceOptions(ddof=ddof)
        spec = (on, "stddev" if kind == "std" else kind, options) if options else (on, kind)
        out = table.group_by(keys).aggregate([spec])
        return (
            out.rename_columns([f"{kind}({on})" if c not in keys else c for c in out.column_names])
            .select([*keys, f"{kind}({on})"])
            .sort_by([(k, "ascending") for k in keys])
        )

    return run
