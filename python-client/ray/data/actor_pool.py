"""Callable classes in ``map_batches`` (``concurrency=n``, or ``(min, max)`` for a pool that
grows while blocks wait): a pool of actors, each built
once with ``fn_constructor_args``/``fn_constructor_kwargs``, takes the blocks the upstream tasks
make, at most two at a time per actor, and returns them in order. Stages after it are fused into
the same actor call (as is a write)."""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator, Tuple

import ray


@ray.remote
class _BatchWorker:
    def __init__(self, cls, args, kwargs):
        self._fn = cls(*args, **kwargs)

    def apply(self, block, stage, after, sink):
        from ray.data.stages import _apply, _block_result

        table = _apply(stage, block, self._fn)
        for s in after:
            table = _apply(s, table)
        return _block_result(table, sink)


def pool_size(concurrency):
    """(initial, max) actors of a pool from ``concurrency``: n, (min, max) or (min, max, initial),
    checked as Ray checks it."""
    if isinstance(concurrency, int) and not isinstance(concurrency, bool) and concurrency > 0:
        return concurrency, concurrency
    if (
        isinstance(concurrency, tuple)
        and len(concurrency) in (2, 3)
        and all(isinstance(c, int) and not isinstance(c, bool) for c in concurrency)
    ):
        low, high = concurrency[:2]
        initial = concurrency[2] if len(concurrency) == 3 else low
        if 1 <= low <= high and low <= initial <= high:
            return initial, high
    raise ValueError(
        "``concurrency`` of a callable class must be a positive int n (a pool of n actors), a tuple (min, max) "
        f"or (min, max, initial) with 1 <= min <= initial <= max (an autoscaling pool), got {concurrency!r}"
    )


def run(upstream: Iterator[Tuple[Any, dict]], stage, after, options: dict, sink=None):
    """(block ref, metadata) of each upstream block through the pool, in order. The pool starts
    with its initial size and adds an actor (up to its max) whenever a block is ready and every
    actor already has two."""
    initial, most = pool_size(stage.concurrency)
    allowed = {k: v for k, v in options.items() if k in ("num_cpus", "num_gpus", "resources", "memory")}
    worker = _BatchWorker.options(**allowed) if allowed else _BatchWorker

    def start():
        return worker.remote(stage.fn, stage.fn_args_ctor, stage.fn_kwargs_ctor)

    pool = [start() for _ in range(initial)]
    busy = [0] * initial
    pending: deque = deque()
    try:
        for i, (ref, meta) in enumerate(upstream):
            if not meta["num_rows"]:
                continue
            while True:
                free = min(range(len(pool)), key=lambda k: busy[k])
                if busy[free] < 2:
                    break
                if len(pool) < most:
                    pool.append(start())
                    busy.append(0)
                    free = len(pool) - 1
                    break
                who, (block_ref, meta_ref) = pending.popleft()
                out_meta = ray.get(meta_ref)
                busy[who] -= 1
                yield block_ref, out_meta
            call = pool[free].apply.options(num_returns=2).remote(ref, stage, after, None if sink is None else sink(i))
            busy[free] += 1
            pending.append((free, call))
        while pending:
            who, (block_ref, meta_ref) = pending.popleft()
            yield block_ref, ray.get(meta_ref)
    finally:
        for actor in pool:
            ray.kill(actor)
