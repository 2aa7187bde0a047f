"""ray.data.Dataset: a lazy plan (a source's read tasks, then transforms) run as Ray tasks.

Execution streams: every read task is fused with the transforms after it into one Ray task per
block (as Ray Data fuses Read -> Map), at most ``DataContext.max_tasks_in_flight`` of them run at
once, and consumers take their blocks in order as they finish, so a dataset larger than the
object store flows through with a bounded number of blocks alive.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import uuid
from collections import deque
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import ray
from ray.data import block as blocks
from ray.data.stages import (  # noqa: F401 - the plan's pieces
    _names,
    _options,
    _pipeline,
    _present,
    _ref_reader,
    _runner,
    _Source,
    _Stage,
    _take_batch,
    _udf_stage,
    _window,
    _write_block,
    _zip_blocks,
)


class Dataset:
    """A lazy, distributed dataset of rows (dicts), held as Arrow blocks."""

    def __init__(self, source: _Source, stages: Tuple[_Stage, ...] = (), materialized=None):
        self._source = source
        self._stages = stages
        self._materialized = materialized  # [(block ref, metadata)] once computed

    # ------------------------------------------------------------------ transforms

    def _with(self, stage: _Stage) -> Dataset:
        return Dataset(self._source, self._stages + (stage,))

    def map(self, fn, *, fn_args=(), fn_kwargs=None, **options) -> Dataset:
        """Applies ``fn`` to each row (a dict) and keeps the row it returns. ``fn`` may be an
        ``@ray.remote`` function: it runs with that function's options."""
        return self._with(_udf_stage("map", "Map", fn, fn_args, fn_kwargs, options))

    def map_batches(
        self,
        fn,
        *,
        batch_size: Optional[int] = None,
        batch_format: str = "default",
        fn_args=(),
        fn_kwargs=None,
        **options,
    ) -> Dataset:
        """Applies ``fn`` to batches of rows: a dict of NumPy arrays ("default"/"numpy"), a
        pandas DataFrame ("pandas") or a pyarrow Table ("pyarrow")."""
        if batch_format not in ("default", "numpy", "pandas", "pyarrow"):
            raise ValueError(
                f"batch_format must be one of 'default', 'numpy', 'pandas', 'pyarrow', got {batch_format!r}"
            )
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        return self._with(
            _udf_stage("map_batches", "MapBatches", fn, fn_args, fn_kwargs, options, batch_size, batch_format)
        )

    def _table_op(self, name: str, fn) -> Dataset:
        return self._with(_Stage("table", fn, name))

    def add_column(self, col: str, fn, *, batch_format: str = "pandas") -> Dataset:
        """Adds (or replaces) column ``col`` with ``fn(batch)`` (a pandas DataFrame by default)."""

        def add(table):
            values = fn(blocks.to_batch(table, batch_format))
            column = blocks.from_batch({col: values.to_numpy() if hasattr(values, "to_numpy") else values})[col]
            if col in table.column_names:
                return table.set_column(table.column_names.index(col), col, column)
            return table.append_column(col, column)

        return self._table_op(f"AddColumn({col})", add)

    def drop_columns(self, cols: List[str]) -> Dataset:
        cols = _names(cols, "drop_columns")
        return self._table_op("DropColumns", lambda t: t.drop_columns(_present(t, cols)))

    def select_columns(self, cols: List[str]) -> Dataset:
        cols = _names(cols, "select_columns")
        return self._table_op("SelectColumns", lambda t: t.select(_present(t, cols)))

    def rename_columns(self, names: Dict[str, str]) -> Dataset:
        if not isinstance(names, dict):
            raise TypeError(f"rename_columns expects a dict of old to new names, got {type(names).__name__}")

        def rename(table):
            _present(table, list(names))
            return table.rename_columns([names.get(c, c) for c in table.column_names])

        return self._table_op("RenameColumns", rename)

    def union(self, *others: Dataset) -> Dataset:
        """This dataset's rows, then each other's, in order."""
        from ray.data.deferred import deferred

        parts = (self,) + others
        for d in parts:
            if not isinstance(d, Dataset):
                raise TypeError(f"union expects Datasets, got {type(d).__name__}")

        def build():
            resolved = [d._resolved() for d in parts]
            reads = tuple(functools.partial(_pipeline, r, d._stages) for d in resolved for r in d._source.reads)
            return Dataset(_Source("Union", reads))

        known = [d._static_rows() for d in parts]
        return deferred("Union", build, self, None if None in known else sum(known))

    def limit(self, limit: int) -> Dataset:
        """The first ``limit`` rows (only the blocks needed are computed): read by the consumer
        from this dataset's stream when the limited dataset runs."""
        from ray.data.deferred import deferred

        if not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative int, got {limit!r}")

        def build():
            tables, n = [], 0
            for t in self._tables() if limit else ():
                tables.append(t.slice(0, limit - n))
                n += tables[-1].num_rows
                if n >= limit:
                    break
            if not tables:
                return Dataset(_Source("Limit", (), 0))
            ref = ray.put(blocks.concat(tables))
            return Dataset(_Source("Limit", (_ref_reader(ref),), n))

        rows = self._static_rows()
        return deferred(f"Limit[limit={limit}]", build, self, None if rows is None else min(rows, limit))

    def repartition(self, num_blocks: int, *, shuffle: bool = False) -> Dataset:
        """``num_blocks`` blocks of (nearly) equal rows, in order (or shuffled)."""
        from ray.data import shuffle as all_to_all

        return all_to_all.repartition(self, num_blocks, shuffle)

    def random_shuffle(self, *, seed: Optional[int] = None, num_blocks: Optional[int] = None) -> Dataset:
        from ray.data import shuffle as all_to_all

        return all_to_all.random_shuffle(self, seed, num_blocks)

    def sort(self, key: Union[str, List[str]], descending: Union[bool, List[bool]] = False) -> Dataset:
        from ray.data import shuffle as all_to_all

        return all_to_all.sort(self, key, descending)

    def groupby(self, key: Union[str, List[str]]):
        from ray.data.shuffle import GroupedData

        return GroupedData(self, key)

    def split(self, n: int, *, equal: bool = False) -> List[MaterializedDataset]:
        """``n`` datasets of consecutive rows, as Ray splits them: ``ceil(rows / n)`` each and the
        rest in the last; with ``equal=True``, ``rows // n`` each (the remaining rows dropped)."""
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"The number of splits must be a positive int, got {n!r}")
        total = self.count()
        if equal:
            per = total // n
            return self._split_at([per * j for j in builtins.range(1, n + 1)])[:n]
        per = -(-total // n)
        return self._split_at([min(per * j, total) for j in builtins.range(1, n)])

    def train_test_split(self, test_size, *, shuffle: bool = False, seed: Optional[int] = None):
        """(train, test): the last ``test_size`` rows (a fraction, or a count) are the test set."""
        ds = self.random_shuffle(seed=seed) if shuffle else self
        total = ds.count()
        if isinstance(test_size, float):
            if not 0 < test_size < 1:
                raise ValueError(f"test_size must be in (0, 1) when a float, got {test_size}")
            test = int(total * test_size)
        elif isinstance(test_size, int) and 0 < test_size < total:
            test = test_size
        else:
            raise ValueError(f"test_size must be a float in (0, 1) or an int in (0, {total}), got {test_size!r}")
        train, test_ds = ds._split_at([total - test])
        return train, test_ds

    def _split_at(self, cuts):
        from ray.data.shuffle import split_at

        return split_at(self, cuts)

    def random_sample(self, fraction: float, *, seed: Optional[int] = None) -> Dataset:
        """Each row kept with probability ``fraction``."""
        if not isinstance(fraction, (int, float)) or not 0 <= fraction <= 1:
            raise ValueError(f"fraction must be between 0 and 1, got {fraction!r}")

        def sample(table):
            import numpy as np
            import pyarrow as pa

            rng = np.random.default_rng(seed)
            return table.filter(pa.array(rng.random(table.num_rows) < fraction))

        return self._table_op(f"RandomSample({fraction})", sample)

    def to_arrow_refs(self) -> List[Any]:
        """Refs to the dataset's blocks (pyarrow Tables), computed."""
        return [ref for ref, meta in self.materialize()._materialized]

    def filter(self, fn=None, expr=None, *, fn_args=(), fn_kwargs=None, **options) -> Dataset:
        """The rows for which ``fn(row)`` is true."""
        if expr is not None:
            raise NotImplementedError("filter(expr=...) is not supported by this Ray Data yet: give a function")
        if fn is None:
            raise ValueError("filter needs a function (fn)")
        return self._with(_udf_stage("filter", "Filter", fn, fn_args, fn_kwargs, options))

    def flat_map(self, fn, *, fn_args=(), fn_kwargs=None, **options) -> Dataset:
        return self._with(_udf_stage("flat_map", "FlatMap", fn, fn_args, fn_kwargs, options))

    # ------------------------------------------------------------------ execution

    def _bundles(self, sink=None) -> Iterator[Tuple[Any, dict]]:
        """(block ref, metadata) in order, streamed: a bounded window of tasks in flight. With
        ``sink(i)`` (the Location block ``i`` is written to), the tasks write their blocks
        themselves (read, transforms and write fused) and the refs are of nothing."""
        if self._materialized is not None:
            yield from self._materialized
            return
        self._runs = []
        yield from self._execute(sink, self._runs)

    def _operator_name(self, stages, sink) -> str:
        names = [self._source.name] + [s.name for s in stages] + ([f"Write{sink(0)[1].capitalize()}"] if sink else [])
        return "->".join(names)

    def _execute(self, sink, runs) -> Iterator[Tuple[Any, dict]]:
        from ray.data.progress import tracked

        pools = [i for i, s in enumerate(self._stages) if s.concurrency is not None]
        if pools:
            from ray.data import actor_pool

            # Tasks up to the first callable class; then each pool runs its class and the
            # stages after it up to the next pool, the last one also the write.
            before = Dataset(self._source, self._stages[: pools[0]])
            n = len(self._source.reads)
            stream = tracked(before._operator_name(before._stages, None), n, before._execute(None, runs), runs)
            ends = pools[1:] + [len(self._stages)]
            for start, end in zip(pools, ends):
                stage, after = self._stages[start], self._stages[start + 1 : end]
                write = sink if end == len(self._stages) else None
                stream = actor_pool.run(stream, stage, after, stage.options, write)
                names = [s.name for s in (stage, *after)] + ([f"Write{sink(0)[1].capitalize()}"] if write else [])
                stream = tracked("->".join(names), n, stream, runs)
            yield from stream
            return
        src = self._source
        block_bytes = src.size_bytes // max(len(src.reads), 1) if src.size_bytes else None
        window = _window(block_bytes)
        caps = [s.max_tasks for s in self._stages if s.max_tasks]
        window = min([window, *caps])
        options = _options(self._stages)
        runner = _runner().options(**{"name": self._operator_name(self._stages, sink), **options})
        reads = enumerate(self._source.reads)
        inflight: deque = deque()

        def launch(i, read):
            inflight.append(runner.remote(read, self._stages, None if sink is None else sink(i)))

        def stream():
            for i, read in itertools.islice(reads, window):
                launch(i, read)
            while inflight:
                block_ref, meta_ref = inflight.popleft()
                meta = ray.get(meta_ref)
                nxt = next(reads, None)
                if nxt is not None:
                    launch(*nxt)
                yield block_ref, meta

        yield from tracked(self._operator_name(self._stages, sink), len(src.reads), stream(), runs)

    def stats(self) -> str:
        """What the last execution of this dataset did, per operator (it runs now if it never
        ran)."""
        if getattr(self, "_runs", None) is None:
            if self._materialized is not None:
                rows = sum(m["num_rows"] for _, m in self._materialized)
                return f"Materialized: {len(self._materialized)} blocks, {rows} rows"
            for _ in self._bundles():
                pass
        return "\n".join(run.summary() for run in getattr(self, "_runs", None) or [])

    def _tables(self) -> Iterator[Any]:
        for block_ref, meta in self._bundles():
            if meta["num_rows"]:
                yield ray.get(block_ref)

    def materialize(self) -> MaterializedDataset:
        return MaterializedDataset(self._source, self._stages, list(self._bundles()))

    def iter_rows(self) -> Iterator[Dict[str, Any]]:
        for table in self._tables():
            yield from blocks.iter_rows(table)

    def iter_batches(
        self,
        *,
        prefetch_batches: int = 1,
        batch_size: Optional[int] = 256,
        batch_format: str = "default",
        drop_last: bool = False,
        local_shuffle_buffer_size: Optional[int] = None,
        local_shuffle_seed: Optional[int] = None,
    ):
        """Batches of ``batch_size`` rows. ``prefetch_batches`` blocks ahead of the one being
        consumed are asked to be local (pulled from their nodes) while the caller works; with
        ``local_shuffle_buffer_size``, each batch is drawn at random from a buffer of at least
        that many rows."""
        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        if not isinstance(prefetch_batches, int) or prefetch_batches < 0:
            raise ValueError(f"prefetch_batches must be a non-negative int, got {prefetch_batches!r}")
        if local_shuffle_buffer_size is not None:
            if not isinstance(local_shuffle_buffer_size, int) or local_shuffle_buffer_size <= 0:
                raise ValueError(f"local_shuffle_buffer_size must be a positive int, got {local_shuffle_buffer_size!r}")
            if batch_size is None:
                raise ValueError("local_shuffle_buffer_size needs a batch_size")
        rng = None
        if local_shuffle_buffer_size is not None:
            import numpy as np

            rng = np.random.default_rng(local_shuffle_seed)
        buffered = (local_shuffle_buffer_size or 0) + (batch_size or 0)
        pending = None
        for table in self._prefetched_tables(prefetch_batches):
            pending = table if pending is None else blocks.concat([pending, table])
            while batch_size is not None and pending.num_rows >= max(batch_size, buffered):
                batch, pending = _take_batch(pending, batch_size, rng)
                yield blocks.to_batch(batch, batch_format)
            if batch_size is None:
                yield blocks.to_batch(pending, batch_format)
                pending = None
        while pending is not None and pending.num_rows:
            if batch_size is not None and pending.num_rows < batch_size and drop_last:
                break
            batch, pending = _take_batch(pending, batch_size or pending.num_rows, rng)
            yield blocks.to_batch(batch, batch_format)

    def _prefetched_tables(self, ahead: int) -> Iterator[Any]:
        """The blocks in order; while one is read, the next ``ahead`` are pulled to this node."""
        waiting: deque = deque()
        bundles = ((ref, meta) for ref, meta in self._bundles() if meta["num_rows"])
        for ref, _ in bundles:
            waiting.append(ref)
            if len(waiting) <= ahead:
                continue
            if ahead:
                ray.wait(list(waiting)[1:], num_returns=len(waiting) - 1, timeout=0, fetch_local=True)
            yield ray.get(waiting.popleft())
        while waiting:
            yield ray.get(waiting.popleft())

    def take(self, limit: int = 20) -> List[Dict[str, Any]]:
        return list(itertools.islice(self.iter_rows(), limit))

    def take_all(self, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        rows = list(self.iter_rows())
        if limit is not None and len(rows) > limit:
            raise ValueError(f"The dataset has more than the given limit of {limit} records.")
        return rows

    def take_batch(self, batch_size: int = 20, *, batch_format: str = "default"):
        return next(iter(self.iter_batches(batch_size=batch_size, batch_format=batch_format)))

    def show(self, limit: int = 20) -> None:
        for row in self.take(limit):
            print(row)

    def count(self) -> int:
        if not self._stages and self._source.num_rows is not None:
            return self._source.num_rows
        return sum(meta["num_rows"] for _, meta in self._bundles())

    def sum(self, on: str):
        """The sum of column ``on`` (None for an empty dataset)."""
        from ray.data.aggregate import aggregate

        return aggregate(self, on, "sum")

    def min(self, on: str):
        from ray.data.aggregate import aggregate

        return aggregate(self, on, "min")

    def max(self, on: str):
        from ray.data.aggregate import aggregate

        return aggregate(self, on, "max")

    def mean(self, on: str):
        from ray.data.aggregate import aggregate

        return aggregate(self, on, "mean")

    def std(self, on: str, ddof: int = 1):
        """The standard deviation of column ``on`` (ddof=1 by default, as Ray)."""
        from ray.data.aggregate import aggregate

        return aggregate(self, on, "std", ddof)

    def unique(self, column: str) -> List[Any]:
        """The distinct values of ``column``."""
        from ray.data.aggregate import unique

        return unique(self, column)

    def schema(self):
        if self._materialized is not None:
            found = [m["schema"] for _, m in self._materialized if m["num_rows"]]
            return Schema(blocks.unify_schemas(found)) if found else None
        if not self._stages and self._source.schema is not None:
            return Schema(self._source.schema)
        for _, meta in self._bundles():
            if meta["num_rows"]:
                return Schema(meta["schema"])
        return None

    def columns(self) -> List[str]:
        s = self.schema()
        return [] if s is None else list(s.names)

    def to_pandas(self, limit: Optional[int] = None):
        import pandas as pd

        frames = [blocks.to_batch(t, "pandas") for t in self._tables()]
        df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        if limit is not None and len(df) > limit:
            raise ValueError(f"The dataset has more than the given limit of {limit} records.")
        return df

    def write_parquet(self, path: str, *, filesystem=None, **kwargs) -> None:
        """Writes one Parquet file per block, each by the task that makes the block:
        ``{uuid}_{block:06d}-0.parquet`` under ``path`` (local or ``s3://``)."""
        self._write(path, "parquet", filesystem, kwargs)

    def write_csv(self, path: str, *, filesystem=None, **kwargs) -> None:
        """As write_parquet, one CSV file per block."""
        self._write(path, "csv", filesystem, kwargs)

    def write_json(self, path: str, *, filesystem=None, **kwargs) -> None:
        """As write_parquet, one JSON-lines file per block (arrays become lists)."""
        self._write(path, "json", filesystem, kwargs)

    def write_numpy(self, path: str, *, column: str, filesystem=None, **kwargs) -> None:
        """As write_parquet, ``column`` of each block as one ``.npy`` file."""
        self._write(path, "numpy", filesystem, kwargs, column)

    def write_images(self, path: str, column: str, file_format: str = "png", *, filesystem=None, **kwargs) -> None:
        """Each row's image in ``column`` as one file (``png``, ``jpg``, ...) under ``path``."""
        self._write(path, "images", filesystem, kwargs, (column, file_format))

    def zip(self, other: Dataset) -> Dataset:
        """The columns of both datasets side by side, row by row (same number of rows); a column
        name ``other`` repeats gets the suffix ``_1``, as in Ray."""
        from ray.data.deferred import deferred

        def build():
            mine = self.materialize()
            rows = [m["num_rows"] for _, m in mine._materialized]
            total = sum(rows)
            if other.count() != total:
                raise ValueError(f"Cannot zip datasets of different number of rows: {total}, {other.count()}")
            cuts = list(itertools.accumulate(rows))[:-1]
            theirs = other._split_at(cuts) if cuts else [other.materialize()]
            pairs = [
                _zip_blocks.remote(ref, piece.to_arrow_refs()[0] if piece.count() else None)
                for (ref, _), piece in zip(mine._materialized, theirs)
            ]
            return Dataset(_Source("Zip", tuple(_ref_reader(r) for r in pairs), total))

        rows, other_rows = self._static_rows(), other._static_rows()
        if rows is not None and other_rows is not None and rows != other_rows:
            raise ValueError(f"Cannot zip datasets of different number of rows: {rows}, {other_rows}")
        mine, theirs = self._static_schema(), other._static_schema()
        schema = None
        if mine is not None and theirs is not None:
            import pyarrow as pa

            renamed = [f.with_name(f.name + "_1") if f.name in mine.names else f for f in theirs]
            schema = pa.schema(list(mine) + renamed)
        return deferred("Zip", build, self, same_schema=False, schema=schema)

    def _write(self, path, fmt: str, filesystem, kwargs, column=None) -> None:
        from ray.data.filesystem import Location

        if kwargs:
            raise NotImplementedError(f"write_{fmt} options {sorted(kwargs)} are not supported by this Ray Data yet")
        base = Location(str(path), filesystem)
        # Ray's file names: the dataset's id, the write's id, the block (task) index, and for
        # Parquet the file's index within the block.
        prefix = f"{self._dataset_id()}_{uuid.uuid4().hex}"
        ext = {"parquet": "parquet", "csv": "csv", "json": "json", "numpy": "npy", "images": None}[fmt]

        def sink(i):
            if ext is None:
                name = f"{prefix}_{i:06d}"
            else:
                name = f"{prefix}_{i:06d}-0.{ext}" if fmt == "parquet" else f"{prefix}_{i:06d}.{ext}"
            return (base.child(name), fmt, column)

        if self._materialized is not None:
            writes = [
                _write_block.remote(ref, *sink(i)) for i, (ref, m) in enumerate(self._materialized) if m["num_rows"]
            ]
            ray.get(writes)
            return
        # Each task reads, transforms and writes its block: blocks never enter the object store.
        for _ in self._bundles(sink=sink):
            pass

    # ------------------------------------------------------------------ printing

    def __repr__(self) -> str:
        from ray.data import _repr

        if self._materialized is not None:
            rows = sum(m["num_rows"] for _, m in self._materialized)
            schema = self.schema()
            if schema is not None and schema.names:
                return _repr.table(schema, rows, _repr.preview_rows(self._tables, rows))
            return _repr.summary("MaterializedDataset", [], rows, None, len(self._materialized))
        schema = self._static_schema()
        if schema is not None and len(schema.names):
            return _repr.table(schema, self._static_rows(), None)
        return _repr.summary("Dataset", self._plan_ops(), *self._plan_base())

    def _dataset_id(self) -> str:
        """This dataset's id, 22 characters of base 62 as Ray's."""
        if getattr(self, "_id", None) is None:
            digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
            n, out = uuid.uuid4().int, []
            for _ in builtins.range(22):
                n, d = divmod(n, 62)
                out.append(digits[d])
            self._id = "".join(out)
        return self._id

    # ------------------------------------------------------------------ what is known without running

    def _resolved(self) -> Dataset:
        """This dataset as a source and fused stages (operators that need all of their input have run)."""
        return self

    def _plan_ops(self) -> List[str]:
        return [s.name for s in reversed(self._stages)]

    def _plan_base(self):
        return self._source.num_rows, self._source.schema

    def _static_schema(self):
        return None if self._stages or self._source.inferred else self._source.schema

    def _static_rows(self) -> Optional[int]:
        return None if self._stages else self._source.num_rows


class MaterializedDataset(Dataset):
    """A dataset whose blocks are computed and held in the object store."""

    def count(self) -> int:
        return sum(meta["num_rows"] for _, meta in self._materialized)

    def num_blocks(self) -> int:
        return len(self._materialized)


class Schema:
    """A dataset's column names and types."""

    def __init__(self, arrow_schema):
        self.base_schema = arrow_schema
        self.names = list(arrow_schema.names)
        self.types = [f.type for f in arrow_schema]

    def __repr__(self) -> str:
        width = max([len("Column")] + [len(n) for n in self.names])
        out = [f"{'Column':<{width}}  Type", f"{'------':<{width}}  ----"]
        out += [f"{n:<{width}}  {blocks.type_str(t)}" for n, t in zip(self.names, self.types)]
        return "\n".join(out)
