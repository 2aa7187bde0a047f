#!/usr/bin/env python3
"""Ray's Java API on this runtime and on real Ray 2.60, in one sitting.

Compiles ``java_bench/JavaBench.java`` twice with ``javac`` (once against this runtime's
ray-api jar, once against Ray's ``ray_dist.jar``), runs it ours, Ray, ours, Ray (``--rounds``
pairs) and prints a markdown table: every run's value, and the ratio of the best runs (> 1: ours
is better; ours/Ray for rates, Ray/ours for seconds).

- This runtime: ``java @jvm.options -Dray.job.code-search-path=CLASSES -cp CLASSES:_jars/*``;
  ``Ray.init()`` starts a local cluster of its own (its node takes the machine's cores as CPUs),
  under a private ``RAY_TMPDIR``.
- Ray: a head started for each run with ``ray start --head --block --port=PORT --num-cpus=2``
  (private ``--temp-dir``, ``RAY_AUTH_MODE=disabled``), then ``java -Dray.address=127.0.0.1:PORT
  -Dray.job.code-search-path=CLASSES -cp CLASSES:ray_dist.jar``. Ray's Java driver is never
  left to start a cluster itself: at shutdown it would run ``ray stop --force``, which kills every
  Ray process of the machine. The head is stopped by SIGTERM to the ``ray start --block`` process
  this script started (it drains and stops its children); anything left in that process group is
  then killed by pid. ``ray stop`` is never run.

Standard library only:  python3 benchmarks/java_bench.py [--rounds 2] [--keep]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCE = HERE / "java_bench" / "JavaBench.java"
MAIN_CLASS = "bench.JavaBench"
OUR_JARS = REPO / "python-client" / "ray" / "_jars"
OUR_API_JAR = OUR_JARS / "ray-api-0.1.0-SNAPSHOT.jar"

# (key in RESULT, label, unit, higher is better)
METRICS = [
    ("tasks_per_s_sequential_first", "tasks/s, one at a time, the first 300 after start", "/s", True),
    ("tasks_per_s_sequential", "tasks/s, one at a time (2,000, after 5,000)", "/s", True),
    ("tasks_per_s_batch_1000", "tasks/s, 3 batches of 1,000", "/s", True),
    ("actor_calls_per_s_sequential_first", "actor calls/s, one at a time, the first 500", "/s", True),
    ("actor_calls_per_s_sequential", "actor calls/s, one at a time (2,000, after 10,000)", "/s", True),
    ("actor_calls_per_s_batch_1000", "actor calls/s, a batch of 1,000", "/s", True),
    ("put_100mib_s", "`Ray.put` of a 100 MiB double[], s (best of 3)", "s", False),
    ("get_100mib_s", "`Ray.get` of a 100 MiB double[], s (best of 3)", "s", False),
    ("put_gb_per_s", "`Ray.put` of 100 MiB, GB/s", "GB/s", True),
    ("get_gb_per_s", "`Ray.get` of 100 MiB, GB/s", "GB/s", True),
]


def log(msg: str) -> None:
    print(f"[java_bench] {msg}", file=sys.stderr, flush=True)


def quote(cmd: list) -> str:
    return " ".join(subprocess.list2cmdline([c]) for c in cmd)


def base_env() -> dict:
    env = dict(os.environ)
    # Each runtime is told explicitly where its cluster is.
    env.pop("RAY_ADDRESS", None)
    env.pop("RAY_TMPDIR", None)
    return env


def compile_bench(api_jar: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cmd = ["javac", "-encoding", "UTF-8", "-cp", str(api_jar), "-d", str(out), str(SOURCE)]
    log("compile: " + quote(cmd))
    subprocess.run(cmd, check=True)


def pgroup_members(pgid: int) -> list:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def stop_group(leader: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM to a process this script started in a session of its own; then SIGKILL, by pid,
    whatever of its process group is still alive after the grace period."""
    pgid = leader.pid
    if leader.poll() is None:
        try:
            leader.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        leader.poll()
        if not pgroup_members(pgid):
            return
        time.sleep(0.5)
    left = pgroup_members(pgid)
    if left:
        log(f"killing {len(left)} process(es) left in group {pgid}: {left}")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    try:
        leader.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def run_driver(cmd: list, env: dict, log_path: Path, timeout_s: float) -> dict:
    """Runs a Java driver in a session of its own; returns its RESULT or raises."""
    log("run: " + quote(cmd))
    t0 = time.monotonic()
    with open(log_path, "w") as out:
        p = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=out,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            start_new_session=True,
        )
        try:
            stdout, _ = p.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            stop_group(p, 20)
            stdout = p.stdout.read() if p.stdout else ""
            with open(log_path, "a") as f:
                f.write("\n--- stdout ---\n" + (stdout or ""))
            raise RuntimeError(f"timed out after {timeout_s:.0f} s (log: {log_path})") from None
        finally:
            # The driver's own children (our node, Ray's workers) end with it; anything left in
            # its session is killed by pid.
            if pgroup_members(p.pid):
                stop_group(p, 20)
    with open(log_path, "a") as f:
        f.write("\n--- stdout ---\n" + stdout)
    result = None
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    elapsed = time.monotonic() - t0
    if p.returncode != 0 or result is None:
        raise RuntimeError(
            f"exit status {p.returncode}, {'a' if result else 'no'} RESULT line after"
            f" {elapsed:.0f} s (log: {log_path})"
        )
    log(f"done in {elapsed:.1f} s: {json.dumps(result)}")
    return result


def free_port(first: int) -> int:
    for port in range(first, first + 10):
        if 10002 <= port <= 19999:
            continue
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {first}..{first + 9} for Ray's head")


def run_ours(work: Path, i: int, timeout_s: float) -> dict:
    classes = work / "ours-classes"
    tmp = work / f"ours-tmp{i}"
    tmp.mkdir()
    env = base_env()
    env["RAY_TMPDIR"] = str(tmp)  # a session directory of its own; no recorded cluster to join
    cmd = [
        "java",
        f"@{OUR_JARS / 'jvm.options'}",
        f"-Dray.job.code-search-path={classes}",
        "-cp",
        f"{classes}:{OUR_JARS}/*",
        MAIN_CLASS,
    ]
    return run_driver(cmd, env, work / f"ours{i}.log", timeout_s)


def run_ray(work: Path, i: int, timeout_s: float, ray_venv: Path, ray_jar: Path, port0: int):
    classes = work / "ray-classes"
    tmp = work / f"ray-tmp{i}"
    tmp.mkdir()
    port = free_port(port0)
    env = base_env()
    env["RAY_AUTH_MODE"] = "disabled"
    env["PATH"] = f"{ray_venv / 'bin'}:{env.get('PATH', '')}"
    head_cmd = [
        str(ray_venv / "bin" / "ray"),
        "start",
        "--head",
        "--block",
        f"--port={port}",
        "--num-cpus=2",
        "--include-dashboard=false",
        "--disable-usage-stats",
        f"--temp-dir={tmp}",
    ]
    log("head: " + quote(head_cmd))
    head_log = work / f"ray-head{i}.log"
    with open(head_log, "w") as out:
        head = subprocess.Popen(
            head_cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in head_log.read_text():
            if head.poll() is not None:
                raise RuntimeError(f"ray start exited with {head.returncode} (log: {head_log})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ray start not ready after 90 s (log: {head_log})")
            time.sleep(0.5)
        cmd = [
            "java",
            f"-Dray.address=127.0.0.1:{port}",
            f"-Dray.job.code-search-path={classes}",
            "-cp",
            f"{classes}:{ray_jar}",
            MAIN_CLASS,
        ]
        return run_driver(cmd, env, work / f"ray{i}.log", timeout_s)
    finally:
        stop_group(head, 45)  # the head drains for up to 30 s on SIGTERM


def fmt(v: float, unit: str) -> str:
    if unit == "s":
        return f"{v:.3f} s"
    if unit == "GB/s":
        return f"{v:.3f}"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def table(ours: list, ray: list) -> str:
    lines = [
        "| metric | this runtime (run 1 / run 2) | Ray 2.60 Java (run 1 / run 2) | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for key, label, unit, higher in METRICS:
        cells, vals = [], []
        for runs in (ours, ray):
            xs = [r.get(key) if isinstance(r, dict) else None for r in runs]
            cells.append(" / ".join("error" if x is None else fmt(x, unit) for x in xs))
            vals.append([x for x in xs if x is not None])
        a, b = vals
        if a and b:
            ratio = max(a) / max(b) if higher else min(b) / min(a)
            r = f"{ratio:.2f}x"
        else:
            r = "n/a"
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | {r} |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=2, help="pairs of runs (ours, Ray); default 2")
    p.add_argument("--ray-venv", default="/work/.venv-ray", help="venv with ray==2.60.0")
    p.add_argument("--port", type=int, default=6390, help="Ray head's port (first tried)")
    p.add_argument("--timeout", type=float, default=240, help="seconds per Java driver run")
    p.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = p.parse_args()

    ray_venv = Path(args.ray_venv)
    jars = glob.glob(str(ray_venv / "lib" / "python3*" / "site-packages" / "ray" / "jars" / "ray_dist.jar"))
    if not jars:
        sys.exit(f"no ray_dist.jar in {ray_venv}")
    ray_jar = Path(jars[0])
    for f in (OUR_API_JAR, OUR_JARS / "ray-runtime-java.jar", OUR_JARS / "jvm.options"):
        if not f.exists():
            sys.exit(f"{f} missing: run `make build` first")
    for tool in ("java", "javac"):
        if not shutil.which(tool):
            sys.exit(f"`{tool}` not found on PATH")
    if (os.cpu_count() or 0) != 2:
        log(f"note: this machine has {os.cpu_count()} cores; our node takes them all as CPUs," " Ray's head is given 2")

    work = Path(tempfile.mkdtemp(prefix="jbench_"))
    log(f"work directory: {work}")
    jv = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    log(f"java: {jv[0] if jv else '?'}; ours: {OUR_JARS}; Ray: {ray_jar}")
    failed = False
    ours, ray = [], []
    try:
        compile_bench(OUR_API_JAR, work / "ours-classes")
        compile_bench(ray_jar, work / "ray-classes")
        for i in range(args.rounds):
            for name, runs, fn in (
                ("ours", ours, lambda i=i: run_ours(work, i, args.timeout)),
                ("Ray", ray, lambda i=i: run_ray(work, i, args.timeout, ray_venv, ray_jar, args.port)),
            ):
                log(f"--- round {i + 1}: {name}")
                try:
                    runs.append(fn())
                except Exception as e:  # noqa: BLE001 - reported, the other runs go on
                    failed = True
                    log(f"{name} run {i + 1} failed: {e}")
                    runs.append(None)
    finally:
        if failed or args.keep:
            log(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(table(ours, ray))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
