"""The pieces of a dataset's plan and what runs them in a task: a source (its read tasks) and
stages (transforms with the user's functions), applied to a block one after another inside one
Ray task per block (fused, as Ray Data fuses Read -> Map); the window of such tasks in flight;
a transform's task options. Pure functions and frozen plan objects: no state of their own."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import ray
from ray.data import block as blocks
from ray.data.context import DataContext


@dataclass(frozen=True)
class _Stage:
    kind: str  # "map", "map_batches", "filter", "flat_map"
    fn: Callable
    name: str
    batch_size: Optional[int] = None
    batch_format: str = "default"
    fn_args: tuple = ()
    fn_kwargs: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    # A callable class (map_batches with concurrency): run by a pool of actors, n or (min, max[, initial]).
    concurrency: Optional[Any] = None
    # A function with concurrency=n: at most n of its tasks at once.
    max_tasks: Optional[int] = None
    # map_batches(zero_copy_batch=False): the function gets writable copies of the columns.
    zero_copy: bool = True
    fn_args_ctor: tuple = ()
    fn_kwargs_ctor: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Source:
    name: str
    # Each read task returns one block (a pyarrow Table).
    reads: Tuple[Callable[[], Any], ...]
    num_rows: Optional[int] = None
    schema: Optional[Any] = None  # a pyarrow Schema when known without reading
    size_bytes: Optional[int] = None  # estimated, when known without reading it all
    # The schema was found by reading data (Ray would not know it without running): the
    # dataset prints as a plan, not as a table.
    inferred: bool = False


def _apply(stage: _Stage, table, instance=None):
    """One stage on one block; ``instance`` is the callable class's object for an actor stage."""
    if instance is not None:
        stage = dataclasses.replace(stage, fn=instance)
    if stage.kind == "table":  # a column operation on the whole block
        return stage.fn(table)
    if stage.kind == "map":
        return blocks.from_rows([_checked_row(_udf(stage, row)) for row in blocks.iter_rows(table)])
    if stage.kind == "filter":
        return (
            blocks.from_rows([row for row in blocks.iter_rows(table) if _udf(stage, row)]) if table.num_rows else table
        )
    if stage.kind == "flat_map":
        out = []
        for row in blocks.iter_rows(table):
            out.extend(_checked_row(r) for r in _udf(stage, row, iterate=True))
        return blocks.from_rows(out)
    # map_batches
    size = stage.batch_size or table.num_rows or 1
    parts = []
    for start in range(0, max(table.num_rows, 1), size):
        batch = blocks.to_batch(table.slice(start, size), stage.batch_format)
        if not stage.zero_copy and isinstance(batch, dict):
            batch = {k: v.copy() for k, v in batch.items()}
        parts.append(blocks.from_batch(_udf(stage, batch)))
        if table.num_rows == 0:
            break

    return blocks.concat(parts)


def _udf(stage: _Stage, value, iterate: bool = False):
    """The user's function on a row or a batch. What it raises reaches the caller as Ray Data
    reports it: a ``UserCodeException`` caused by the user's exception."""
    from ray.exceptions import UserCodeException

    try:
        out = stage.fn(value, *stage.fn_args, **stage.fn_kwargs)
        return list(out) if iterate else out
    except Exception as e:
        raise UserCodeException("UDF failed to process a data block.") from e


def _checked_row(row):
    if not isinstance(row, dict):
        raise ValueError(
            f"Error validating {row!r}: Standalone Python objects are not allowed in Ray >= 2.5. To return Python "
            "objects from map(), wrap them in a dict, e.g., return `{'item': item}` instead of just `item`."
        )
    return row


def _run_block(read, stages, sink=None):
    """One read task and the transforms after it; returns (block, metadata). With a sink (a
    (Location, format) pair), the block is written there instead and never enters the object
    store."""
    return _block_result(_pipeline(read, stages), sink)


def _block_result(table, sink):
    meta = {"num_rows": table.num_rows, "schema": table.schema, "size_bytes": table.nbytes}
    if sink is not None:
        from ray.data.filesystem import write_table

        if table.num_rows:
            write_table(table, *sink)
        return None, meta
    return table, meta


def _pipeline(read, stages):
    table = read()
    for stage in stages:
        table = _apply(stage, table)
    return table


def _options(stages) -> dict:
    """The fused task's options: the largest of the resources its transforms ask for; other
    options (a scheduling strategy, a runtime_env, ...) must agree between fused transforms."""
    out: Dict[str, Any] = {"num_returns": 2}
    for s in stages:
        for key, value in s.options.items():
            if key in ("num_cpus", "num_gpus", "max_retries", "memory"):
                out[key] = max(out.get(key, 0), value)
            elif key == "resources":
                merged = dict(out.get("resources", {}))
                for r, v in value.items():
                    merged[r] = max(merged.get(r, 0), v)
                out["resources"] = merged
            elif key in out and out[key] != value:
                raise NotImplementedError(
                    f"Transforms with different values of the option {key!r} run in one task here: give it to one "
                    "of them, or materialize() between them (this Ray Data does not split fused transforms yet)"
                )
            else:
                out[key] = value
    return out


def smallest_store() -> int:
    """The smallest object store of the cluster's alive nodes, in bytes."""
    sizes = [n["Resources"].get("object_store_memory", 0) for n in ray.nodes() if n.get("Alive")]
    return int(min(s for s in sizes if s > 0)) if any(sizes) else 2 << 30


def _window(block_bytes: Optional[int] = None) -> int:
    """How many fused tasks (and writes) may be in flight at once: twice the CPUs, and no more
    blocks of ``block_bytes`` than fit in half of the smallest object store (the budget that
    lets a dataset many times larger than the store stream through it)."""
    given = DataContext.get_current().max_tasks_in_flight
    if given:
        return given
    window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    if block_bytes:
        window = min(window, max(1, smallest_store() // 2 // block_bytes))
    return window


_run_block_remote = None


def _runner():
    global _run_block_remote
    if _run_block_remote is None:
        _run_block_remote = ray.remote(_run_block)
    return _run_block_remote


@ray.remote
def _zip_blocks(a, b):
    if b is None:
        return a
    for name in b.column_names:
        out = name
        while out in a.column_names:
            out = f"{out}_1"
        a = a.append_column(out, b[name])
    return a


def _take_batch(table, size: int, rng):
    """(batch, rest): the first ``size`` rows, or ``size`` rows at random with ``rng``."""
    if rng is None or table.num_rows <= size:
        return table.slice(0, size), table.slice(size)
    import numpy as np
    import pyarrow as pa

    chosen = np.zeros(table.num_rows, bool)
    chosen[rng.choice(table.num_rows, size, replace=False)] = True
    return table.filter(pa.array(chosen)), table.filter(pa.array(~chosen))


def _ref_reader(ref):
    return lambda: ray.get(ref)


@ray.remote
def _write_block(block, location, fmt="parquet", column=None):
    from ray.data.filesystem import write_table

    return write_table(block, location, fmt, column)


def _names(cols, what: str) -> List[str]:
    if isinstance(cols, str):
        cols = [cols]
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise TypeError(f"{what} expects a list of column names, got {cols!r}")
    return cols


def _present(table, cols: List[str]) -> List[str]:
    missing = [c for c in cols if c not in table.column_names]
    if missing:
        raise ValueError(f"Columns {missing} are not in the dataset (its columns: {table.column_names})")
    return cols


def _udf_stage(kind, op, fn, fn_args, fn_kwargs, options, batch_size=None, batch_format="default") -> _Stage:
    """The stage of a transform with a user's function or callable class. ``concurrency``: for
    a class, its pool (n, or (min, max[, initial])); for a function, its most tasks at once."""
    options = dict(options)
    for unsupported in ("compute", "ray_remote_args_fn"):
        if options.pop(unsupported, None) is not None:
            raise NotImplementedError(
                f"The argument {unsupported!r} of {kind} is not supported by this Ray Data yet"
                + (" (give concurrency instead)" if unsupported == "compute" else "")
            )
    zero_copy = options.pop("zero_copy_batch", True)
    options.pop("udf_modifying_row_count", None)  # a hint for Ray's optimizer: nothing to plan with it here
    concurrency = options.pop("concurrency", None)
    ctor_args = tuple(options.pop("fn_constructor_args", ()) or ())
    ctor_kwargs = options.pop("fn_constructor_kwargs", None) or {}
    common = dict(
        batch_size=batch_size,
        batch_format=batch_format,
        fn_args=tuple(fn_args or ()),
        fn_kwargs=fn_kwargs or {},
        zero_copy=bool(zero_copy),
    )
    if isinstance(fn, type):
        from ray.data.actor_pool import pool_size

        if concurrency is None:  # as Ray: a pool that grows to one actor per CPU
            concurrency = (1, max(1, int(ray.cluster_resources().get("CPU", 1))))
        pool_size(concurrency)
        return _Stage(
            kind,
            fn,
            f"{op}({fn.__name__})",
            options=_task_options(options),
            concurrency=concurrency,
            fn_args_ctor=ctor_args,
            fn_kwargs_ctor=ctor_kwargs,
            **common,
        )
    if ctor_args or ctor_kwargs:
        raise ValueError("fn_constructor_args/kwargs apply to callable classes only")
    if concurrency is not None and (
        not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency <= 0
    ):
        raise ValueError(f"``concurrency`` of a function must be a positive int (its most tasks), got {concurrency!r}")
    fn, options, name = _function(fn, options, op)
    return _Stage(kind, fn, name, options=options, max_tasks=concurrency, **common)


def _function(fn, options: dict, kind: str):
    """The Python function, its task options and its operator name: an ``@ray.remote`` function
    brings its own options (num_cpus, resources, max_retries, ...)."""
    from ray.remote_function import RemoteFunction

    if isinstance(fn, RemoteFunction):
        from ray._private.options import task_defaults
        from ray.remote_function import _user_options

        options = {**_user_options(fn._default_options, task_defaults()), **options}
        name = f"{kind}({fn._function.__name__})"
        return fn._function, _task_options(options), name
    if not callable(fn):
        raise TypeError(f"{kind} expects a function, got {type(fn).__name__}")
    return fn, _task_options(options), f"{kind}({getattr(fn, '__name__', type(fn).__name__)})"


def _task_options(options: dict) -> dict:
    """A transform's Ray task options, checked as ``.options()`` checks them (an unknown keyword
    is Ray's ValueError)."""
    from ray._private.options import validate_task_options

    validate_task_options(options, in_options=True)
    if "num_returns" in options:
        raise ValueError("num_returns is not an option of a Ray Data transform: each of its tasks returns blocks")
    return dict(options)
