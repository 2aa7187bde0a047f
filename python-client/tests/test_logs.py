"""Worker output reaches the driver, prefixed ``(<task name> pid=<worker pid>)``: stdout on the
driver's stdout, stderr on its stderr; nothing with ``log_to_driver=False``.

Each test runs a small driver script in its own process, so that its streams are the test's
to read.
"""

from __future__ import annotations

import re
import textwrap

import pytest
from conftest import run_script
from helpers import split_output

DRIVER = textwrap.dedent(
    """
    import os
    import sys

    import ray

    ray.init(num_cpus=1{init_args})

    @ray.remote
    def chatty(tag):
        print(f"out-line {{tag}}")
        print(f"err-line {{tag}}", file=sys.stderr)
        print("first of two\\nsecond of two")
        return os.getpid()

    @ray.remote
    def quiet_stderr():
        sys.stderr.write("partial ")
        sys.stderr.write("line\\n")
        return os.getpid()

    pids = ray.get([chatty.remote("one"), quiet_stderr.remote()])
    print(f"DRIVER_PID {{os.getpid()}}")
    print(f"WORKER_PIDS {{pids[0]}} {{pids[1]}}")
    ray.shutdown()
    print("DRIVER_DONE")
    """
)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One run of the driver with the default log_to_driver, shared by the tests that read it."""
    return _run(tmp_path_factory.mktemp("logs"))


def _run(tmp_path, init_args=""):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(init_args=init_args))
    result = run_script(script, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, f"driver failed:\n{result.stdout}\n{result.stderr}"
    _, driver_output = split_output(result.stdout)
    assert "DRIVER_DONE" in driver_output, result.stdout
    m = re.search(r"WORKER_PIDS (\d+) (\d+)", driver_output)
    assert m, result.stdout
    driver_pid = int(re.search(r"DRIVER_PID (\d+)", driver_output).group(1))
    return result, int(m.group(1)), int(m.group(2)), driver_pid


def test_worker_stdout_and_stderr_reach_the_driver_with_rays_prefix(default_run):
    result, chatty_pid, quiet_pid, driver_pid = default_run
    assert chatty_pid != driver_pid
    # Whole "(name pid=N) text" lines, wherever the driver's own prints put them.
    out_lines = [f"({s} pid={p}) {t}" for s, p, t in split_output(result.stdout)[0]]
    err_lines = [f"({s} pid={p}) {t}" for s, p, t in split_output(result.stderr)[0]]

    assert f"(chatty pid={chatty_pid}) out-line one" in out_lines, result.stdout
    assert f"(chatty pid={chatty_pid}) err-line one" in err_lines, result.stderr
    # A print of two lines gives two prefixed lines.
    assert f"(chatty pid={chatty_pid}) first of two" in out_lines, result.stdout
    assert f"(chatty pid={chatty_pid}) second of two" in out_lines, result.stdout
    # A line written in pieces arrives as one line.
    assert f"(quiet_stderr pid={quiet_pid}) partial line" in err_lines, result.stderr


def test_each_stream_goes_only_to_its_own_driver_stream(default_run):
    result, chatty_pid, _, _ = default_run
    assert "err-line one" not in result.stdout, result.stdout
    assert "out-line one" not in result.stderr, result.stderr
    assert "partial line" not in result.stdout
    # The driver's own prints are not prefixed.
    worker_lines, driver_output = split_output(result.stdout)
    assert any(line.startswith("WORKER_PIDS ") for line in driver_output.splitlines())
    # The prefix carries the worker's pid, never another process's.
    for source, pid, text in worker_lines + split_output(result.stderr)[0]:
        if source == "chatty":
            assert pid == chatty_pid, (source, pid, text)


def test_log_to_driver_false_keeps_worker_output_away(tmp_path):
    result, _, _, _ = _run(tmp_path, init_args=", log_to_driver=False")
    for text in ("out-line", "err-line", "first of two", "partial line", "(chatty", "(quiet_stderr"):
        assert text not in result.stdout, result.stdout
        assert text not in result.stderr, result.stderr


LAST_WORDS = textwrap.dedent(
    """
    import ray

    ray.init(num_cpus=2)

    @ray.remote
    def burst(tag):
        for i in range({lines}):
            print(f"burst {{tag}} {{i}}")
        return tag

    print("RESULT", ray.get([burst.remote(t) for t in range(4)]))
    ray.shutdown()
    """
)


def test_output_printed_just_before_shutdown_is_not_lost(tmp_path):
    """The job's log stream ends only after its last lines: a driver that shuts down right after
    its tasks return still prints everything they wrote (several publish batches' worth)."""
    lines = 3000
    script = tmp_path / "driver.py"
    script.write_text(LAST_WORDS.format(lines=lines))
    result = run_script(script, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    worker_lines, driver_output = split_output(result.stdout)
    assert "RESULT [0, 1, 2, 3]" in driver_output.splitlines(), result.stdout[-2000:]
    seen = {text for source, _, text in worker_lines if source == "burst"}
    missing = [f"burst {t} {i}" for t in range(4) for i in range(lines) if f"burst {t} {i}" not in seen]
    assert not missing, f"{len(missing)} lines lost, first: {missing[:3]}"
