"""Progress bars (one per operator while a dataset executes, on a terminal only) and the stats
``ds.stats()`` reports."""

from __future__ import annotations

import sys
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple


class OperatorRun:
    """One operator's execution: a tqdm bar of its blocks (when enabled and stderr is a terminal)
    and its totals."""

    def __init__(self, name: str, total_blocks: Optional[int]):
        from ray.data.context import DataContext

        self.name = name
        self.blocks = 0
        self.rows = 0
        self.bytes = 0
        self.start = time.perf_counter()
        self.seconds = 0.0
        self.bar = None
        if DataContext.get_current().enable_progress_bars and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total_blocks, desc=f"- {name}", unit=" blocks", file=sys.stderr, leave=False)

    def done_one(self, meta: Dict[str, Any]) -> None:
        self.blocks += 1
        self.rows += meta.get("num_rows", 0)
        self.bytes += meta.get("size_bytes", 0)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{self.rows} rows")

    def close(self) -> None:
        self.seconds = time.perf_counter() - self.start
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def summary(self) -> str:
        return (
            f"Operator {self.name}: {self.blocks} blocks, {self.rows} rows, {self.bytes / 2**20:.1f} MiB, "
            f"{self.seconds:.2f} s wall time"
        )


def tracked(name: str, total: Optional[int], bundles: Iterator[Tuple[Any, dict]], log: List[OperatorRun]):
    """Passes ``bundles`` through, counting them into a new OperatorRun appended to ``log``."""
    run = OperatorRun(name, total)
    log.append(run)
    try:
        for ref, meta in bundles:
            run.done_one(meta)
            yield ref, meta
    finally:
        run.close()
