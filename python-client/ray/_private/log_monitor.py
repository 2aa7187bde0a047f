"""Prints worker output in the driver, prefixed ``(name pid=N)`` as Ray does."""

from __future__ import annotations

import sys
import threading

from ray.rpc import common_pb2 as common
from ray.rpc import control_service_pb2 as control

_CYAN = "\033[36m"
_RESET = "\033[0m"


def format_line(line: common.LogLine, node_ip: str, driver_ip: str, color: bool = False) -> str:
    if line.pid == 0:
        return line.text  # the engine's own message to this driver
    where = f"pid={line.pid}"
    if node_ip and node_ip != driver_ip:
        where += f", ip={node_ip}"
    prefix = f"({line.source} {where})" if line.source else f"({where})"
    if color:
        prefix = _CYAN + prefix + _RESET
    return f"{prefix} {line.text}"


class LogMonitor:
    """Subscribes to the job's output at the control service and prints it until stopped."""

    def __init__(self, transport, job_id: bytes, driver_ip: str):
        self._call, self._batches = transport.stream(
            "ray.rpc.ControlService/SubscribeLogs", control.SubscribeLogsRequest(job_id=job_id), common.LogBatch
        )
        self._driver_ip = driver_ip
        self._thread = threading.Thread(target=self._run, name="ray-log-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for batch in self._batches:
                for line in batch.lines:
                    stream = sys.stderr if line.is_err else sys.stdout
                    color = getattr(stream, "isatty", lambda: False)()
                    try:
                        # One write per line: the driver's own prints can land between two of
                        # our lines (as in Ray), but never inside one.
                        stream.write(format_line(line, batch.node_ip, self._driver_ip, color) + "\n")
                        stream.flush()
                    except (ValueError, OSError):
                        return  # the driver's stream was closed
        except Exception:  # noqa: BLE001 - the cluster went away; output simply stops
            return

    def stop(self, drain_timeout: float = 2.0) -> None:
        """Waits (bounded) for the stream's end, which the node sends after the job's last line."""
        self._thread.join(timeout=drain_timeout)
        if self._thread.is_alive():
            self._call.cancel()
            self._thread.join(timeout=1)
