"""Starting node processes (the Java engine) from Python.

``ray.init()`` without an address starts a head node tied to the driver (it stops when the
driver exits or dies); ``ray start`` uses the same function without the tie. The node prints
``RAY_NODE_READY {json}`` on stdout when its services listen.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from typing import Dict, Optional

READY_PREFIX = "RAY_NODE_READY "
NODE_START_TIMEOUT_S = 60
TEMP_ROOT = os.environ.get("RAY_TMPDIR", "/tmp/ray")


class NodeStartError(RuntimeError):
    pass


def java_executable() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return os.path.join(home, "bin", "java")
    found = shutil.which("java")
    if not found:
        raise NodeStartError(
            "Java 17 or newer is needed to run the Ray engine, but `java` is not on PATH and JAVA_HOME is not set."
        )
    return found


def jar_directory() -> str:
    """Where our jar, its dependencies and jvm.options are."""
    candidates = []
    if os.environ.get("RAY_JVM_LIB"):
        candidates.append(os.environ["RAY_JVM_LIB"])
    package_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates.append(os.path.join(package_dir, "_jars"))
    candidates.append(os.path.join(os.path.dirname(os.path.dirname(package_dir)), "runtime-java", "target", "lib"))
    for c in candidates:
        if os.path.exists(os.path.join(c, "jvm.options")) and os.path.exists(os.path.join(c, "ray-runtime-java.jar")):
            return c
    raise NodeStartError(
        "The Ray engine's jars were not found (looked in " + ", ".join(candidates) + "). Run `make` in the repository."
    )


CLASS_ARCHIVE = "ray-cds.jsa"


# The node JVM compiles with C1 only, as workers do: on a 2-core machine C2's compile storms
# in a new cluster's first minutes took the CPU the calls needed (core_bench, same sitting:
# one-at-a-time tasks 375 vs 222/s, batches 2,228 vs 1,391/s, ray.init to first result 1.9 vs
# 2.8 s). The node's work is I/O and bookkeeping, where C1's code is close enough.
NODE_JVM_FLAGS = ("-XX:TieredStopAtLevel=1",)


def java_command(jars: str, main: str, *args: str, extra_flags=()) -> list:
    """``java @jvm.options ... -cp <our jars> main args``; every JVM of ours starts this way.

    The class path is an explicit sorted list (not a wildcard) so that it is the same string
    every time: the class-data-sharing archive is only used by JVMs whose class path matches
    the one it was made with. Nodes pass their class path on to their workers.
    """
    options_file = os.path.join(jars, "jvm.options")
    cmd = [java_executable(), f"@{options_file}", f"-Dray.jvm.options={options_file}"]
    archive = os.path.join(jars, CLASS_ARCHIVE)
    if os.path.exists(archive):
        cmd.append(f"-XX:SharedArchiveFile={archive}")
    cmd.extend(extra_flags)
    class_path = os.pathsep.join(sorted(os.path.join(jars, f) for f in os.listdir(jars) if f.endswith(".jar")))
    return [*cmd, "-cp", class_path, main, *args]


def dump_class_archive() -> None:
    """Builds the class-data-sharing archive from a training run (called by `make`)."""
    jars = jar_directory()
    archive = os.path.join(jars, CLASS_ARCHIVE)
    if os.path.exists(archive):
        os.remove(archive)
    cmd = java_command(jars, "io.ray.engine.node.CdsTraining", extra_flags=[f"-XX:ArchiveClassesAtExit={archive}"])
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    if not os.path.exists(archive):
        raise NodeStartError(f"the JVM did not write {archive}")


def python_worker_config() -> Dict:
    """How workers embed this interpreter: same home, same sys.path, Jep built for it."""
    spec = importlib.util.find_spec("jep")
    if spec is None or not spec.submodule_search_locations:
        raise NodeStartError(
            "Jep is not installed in this Python environment; workers cannot embed Python. "
            "Run `make` in the repository."
        )
    jep_dir = list(spec.submodule_search_locations)[0]
    library = os.path.join(jep_dir, "libjep.so")
    if not os.path.exists(library):
        raise NodeStartError(f"Jep's native library is missing: {library}")
    return {
        "python_home": sys.base_prefix,
        "jep_library": library,
        "sys_path": [os.path.abspath(p) if p else os.getcwd() for p in sys.path],
        "executable": sys.executable,
        "libpython": os.path.join(
            sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("LDLIBRARY") or ""
        ),
    }


def new_session_dir() -> str:
    now = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")
    path = os.path.join(TEMP_ROOT, f"session_{now}_{os.getpid()}")
    # Logs, the token and the workers' configuration: this user's alone.
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)
    os.makedirs(os.path.join(path, "logs"), exist_ok=True)
    latest = os.path.join(TEMP_ROOT, "session_latest")
    try:
        tmp = latest + f".{os.getpid()}"
        os.symlink(path, tmp)
        os.replace(tmp, latest)
    except OSError:
        pass
    return path


class NodeProcess:
    """A running node process started by this Python process."""

    def __init__(self, process: subprocess.Popen, info: Dict, session_dir: str):
        self.process = process
        self.info = info
        self.session_dir = session_dir

    @property
    def control_address(self) -> str:
        return self.info["control_address"]

    @property
    def node_manager_address(self) -> str:
        return self.info["node_manager_address"]

    def stop(self, timeout: float = 15) -> None:
        """Asks the node to stop (it stops its workers and removes its arena) and waits.

        A node that was killed could not clean up: its arena file is removed here.
        """
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        arena = self.info.get("arena_path")
        if arena:
            try:
                os.remove(arena)
            except FileNotFoundError:
                pass


def start_node(
    *,
    head: bool,
    session_dir: str,
    num_cpus: Optional[float] = None,
    num_gpus: Optional[float] = None,
    resources: Optional[Dict[str, float]] = None,
    object_store_memory: Optional[int] = None,
    memory: Optional[int] = None,
    control_address: Optional[str] = None,
    control_port: int = 0,
    node_manager_port: int = 0,
    node_ip: str = "127.0.0.1",
    parent_pid: Optional[int] = None,
    detach: bool = False,
    token: Optional[str] = None,
) -> NodeProcess:
    """Starts a node process; ``token`` is the cluster's (the node and its workers present it
    and require it, see ray/_private/auth.py)."""
    jars = jar_directory()
    config_path = os.path.join(session_dir, f"python_worker_{os.getpid()}_{time.monotonic_ns()}.json")
    with open(config_path, "w") as f:
        json.dump(python_worker_config(), f)

    cmd = java_command(
        jars,
        "io.ray.engine.node.NodeMain",
        f"--session-dir={session_dir}",
        f"--python-config={config_path}",
        f"--node-ip={node_ip}",
        f"--control-port={control_port}",
        f"--node-manager-port={node_manager_port}",
        extra_flags=NODE_JVM_FLAGS,
    )
    if head:
        cmd.append("--head")
    else:
        cmd.append(f"--control-address={control_address}")
    if num_cpus is not None:
        cmd.append(f"--num-cpus={num_cpus}")
    if num_gpus is not None:
        cmd.append(f"--num-gpus={num_gpus}")
    if resources:
        cmd.append("--resources=" + json.dumps(resources))
    if object_store_memory:
        cmd.append(f"--object-store-memory={int(object_store_memory)}")
    if memory:
        cmd.append(f"--memory={int(memory)}")
    if parent_pid:
        cmd.append(f"--parent-pid={parent_pid}")

    log_path = os.path.join(session_dir, "logs", "node.err" if head else f"node-{os.getpid()}.err")
    log = open(log_path, "ab")
    try:
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            # Terminal signals (Ctrl-C) go to the driver, not the engine; the engine stops when
            # its parent driver exits, or when asked.
            start_new_session=True,
            close_fds=True,
            env=_node_environment(token),
        )
    finally:
        log.close()
    info = _await_ready(process, log_path)
    if detach:
        process.stdout.close()
    return NodeProcess(process, info, session_dir)


def _node_environment(token: Optional[str]) -> Dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_AUTH_TOKEN", None)
    if token:
        env["RAY_AUTH_TOKEN"] = token
    return env


def _await_ready(process: subprocess.Popen, log_path: str) -> Dict:
    deadline = time.monotonic() + NODE_START_TIMEOUT_S
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                process.kill()
                raise NodeStartError(
                    f"The Ray node did not start within {NODE_START_TIMEOUT_S} s. Its log:\n{_tail(log_path)}"
                )
            if selector.select(timeout=min(remaining, 1.0)):
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    process.wait(5)
                    raise NodeStartError(
                        f"The Ray node exited during start-up (code {process.returncode}). Its log:\n{_tail(log_path)}"
                    )
                buffer += chunk
                while b"\n" in buffer:
                    raw, buffer = buffer.split(b"\n", 1)
                    line = raw.decode(errors="replace")
                    if line.startswith(READY_PREFIX):
                        return json.loads(line[len(READY_PREFIX) :])
                    # Not ours (a JVM or library message): keep it with the node's log.
                    with open(log_path, "a") as log:
                        log.write(f"(stdout before ready) {line}\n")
    finally:
        selector.close()


def _tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, "rb") as f:
            return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
    except OSError:
        return "(no log)"
