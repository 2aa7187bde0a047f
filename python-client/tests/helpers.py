"""Waiting on real conditions with bounded deadlines, in the driver and inside tasks.

Workers import this module by name (the driver's sys.path, which holds this folder, is
theirs too), so tasks defined in test modules may call these functions.
"""

from __future__ import annotations

import os
import re
import time

# Generous: the machine is shared, and a blocked worker's CPU is lent to a worker that may
# have to start first.
DEADLINE_S = 60.0


def wait_until(predicate, *, timeout: float = DEADLINE_S, interval: float = 0.02, what: str = "a condition"):
    """Polls ``predicate`` until it returns something true; fails the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def wait_for_file(path, *, timeout: float = DEADLINE_S) -> None:
    """Blocks until ``path`` exists; raises TimeoutError after ``timeout`` (usable in tasks)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.02)


def touch(path) -> None:
    with open(path, "a"):
        pass


def max_overlap(intervals) -> int:
    """The largest number of (start, end) intervals that are open at one instant."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda x: (x[0], x[1]))
    best = current = 0
    for _, delta in events:
        current += delta
        best = max(best, current)
    return best


# A line of worker output as the driver prints it: "(<source> pid=N[, ip=...]) <text>".
_LOG_LINE = re.compile(r"\(([^\n]*?) pid=(\d+)(?:, ip=[^)\n]*)?\) ([^\n]*)\n")


def split_output(stdout: str):
    """Separates worker lines from the driver's own output.

    The driver's log thread writes each worker line in one piece, but a print in the driver's
    main thread is several writes, so a worker line can land inside a driver line (as in Ray).
    Returns ``(lines, rest)``: the worker lines as ``(source, pid, text)`` in order, and the
    driver's output with them cut out, its lines whole again.
    """
    lines = [(m.group(1), int(m.group(2)), m.group(3)) for m in _LOG_LINE.finditer(stdout)]
    return lines, _LOG_LINE.sub("", stdout)
