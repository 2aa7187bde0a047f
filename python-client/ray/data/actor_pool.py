"""Callable classes in ``map_batches`` (``concurrency=n``): a pool of ``n`` actors, each built
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
        from ray.data.dataset import _apply, _block_result

        table = _apply(stage, block, self._fn)
        for s in after:
            table = _apply(s, table)
        return _block_result(table, sink)


def run(upstream: Iterator[Tuple[Any, dict]], stage, after, concurrency: int, options: dict, sink=None):
    """(block ref, metadata) of each upstream block through the pool, in order."""
    allowed = {k: v for k, v in options.items() if k in ("num_cpus", "num_gpus", "resources", "memory")}
    worker = _BatchWorker.options(**allowed) if allowed else _BatchWorker
    pool = [worker.remote(stage.fn, stage.fn_args_ctor, stage.fn_kwargs_ctor) for _ in range(concurrency)]
    busy = [0] * concurrency
    pending: deque = deque()
    try:
        for i, (ref, meta) in enumerate(upstream):
            if not meta["num_rows"]:
                continue
            while True:
                free = min(range(concurrency), key=lambda k: busy[k])
                if busy[free] < 2:
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
