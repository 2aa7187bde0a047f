"""Direct, synchronous calls from a Python driver into a JVM that has the job's code on its class
path, through py4j (PySpark's way): ``gw = ray.util.java_gateway()``, then
``gw.jvm.io.demo.Math.add(1, 2)``.

The JVM is started on first use for this driver, with the job's code search path
(``JobConfig(code_search_path=[...])``) and Ray's jars on its class path; it listens on loopback
only and takes calls only with a token this driver made; it stops at ``ray.shutdown()`` and dies
with the driver. Each call is a round trip to that one JVM (about a tenth of a millisecond):
use it to build Java values and call Java libraries from the driver. Unlike a Java task
(``ray.cross_language.java_function``), nothing runs on the cluster's workers and nothing goes
through the object store.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
from typing import List, Optional

_lock = threading.Lock()
_READY = "RAY_PY4J_READY "
START_TIMEOUT_S = 60


class _Gateway:
    def __init__(self, process: subprocess.Popen, gateway):
        self.process = process
        self.gateway = gateway

    def close(self) -> None:
        try:
            self.gateway.close()
        except Exception:  # noqa: BLE001 - the JVM may be gone already
            pass
        try:
            self.process.stdin.close()  # the JVM exits when its stdin closes
        except OSError:
            pass
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def java_gateway():
    """The py4j ``JavaGateway`` of this driver's JVM (started on first use)."""
    from ray._private import api

    state = api.driver_state()
    with _lock:
        if state.java_gateway is None:
            state.java_gateway = _start(state.code_search_path)
        return state.java_gateway.gateway


def _start(code_search_path: List[str]) -> _Gateway:
    from py4j.java_gateway import GatewayParameters, JavaGateway

    from ray._private.node import jar_directory, java_executable

    jars = jar_directory()
    class_path = os.pathsep.join([*code_search_path, os.path.join(jars, "*")])
    token = secrets.token_hex(32)
    cmd = [
        java_executable(),
        f"@{os.path.join(jars, 'jvm.options')}",
        "-cp",
        class_path,
        "io.ray.runtime.py4j.GatewayMain",
        f"--parent-pid={os.getpid()}",
    ]
    process = subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RAY_PY4J_TOKEN": token},
        text=True,
    )
    port = _await_port(process)
    gateway = JavaGateway(
        gateway_parameters=GatewayParameters(address="127.0.0.1", port=port, auth_token=token, auto_convert=True)
    )
    return _Gateway(process, gateway)


def _await_port(process: subprocess.Popen) -> int:
    found: List[Optional[int]] = [None]

    def read():
        for line in process.stdout:
            if line.startswith(_READY):
                found[0] = int(line[len(_READY) :])
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    if found[0] is None:
        process.kill()
        process.wait(5)
        raise RuntimeError(f"The py4j JVM did not start within {START_TIMEOUT_S} s (exit code {process.poll()})")
    return found[0]
