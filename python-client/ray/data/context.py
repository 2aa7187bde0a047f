"""DataContext: settings of Ray Data's execution in this process."""

from __future__ import annotations

import threading
from typing import Optional


class DataContext:
    """``DataContext.get_current()`` returns this process's settings; change them before the
    dataset runs."""

    _current: Optional[DataContext] = None
    _lock = threading.Lock()

    def __init__(self):
        # Fused read/transform tasks running at once (None: twice the cluster's CPUs). This is
        # what bounds the blocks alive in the object store while a dataset streams through.
        self.max_tasks_in_flight: Optional[int] = None
        self.enable_progress_bars = True
        # Reads are split so that a block holds at most this much (Ray's default, 128 MiB), and
        # less on a node whose object store is small (an eighth of it).
        self.target_max_block_size: int = 128 * 1024 * 1024

    @staticmethod
    def get_current() -> DataContext:
        with DataContext._lock:
            if DataContext._current is None:
                DataContext._current = DataContext()
            return DataContext._current
