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
    assert "DRIVER_DONE" in result.stdout, result.stdout
    m = re.search(r"WORKER_PIDS (\d+) (\d+)", result.stdout)
    assert m, result.stdout
    driver_pid = int(re.search(r"DRIVER_PID (\d+)", result.stdout).group(1))
    return result, int(m.group(1)), int(m.group(2)), driver_pid


def test_worker_stdout_and_stderr_reach_the_driver_with_rays_prefix(default_run):
    result, chatty_pid, quiet_pid, driver_pid = default_run
    assert chatty_pid != driver_pid
    out_lines = result.stdout.splitlines()
    err_lines = result.stderr.splitlines()

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
    assert any(line.startswith("WORKER_PIDS ") for line in result.stdout.splitlines())
    # The prefix carries the worker's pid, never another process's.
    for line in result.stdout.splitlines() + result.stderr.splitlines():
        if line.startswith("(chatty "):
            assert line.startswith(f"(chatty pid={chatty_pid}) "), line


def test_log_to_driver_false_keeps_worker_output_away(tmp_path):
    result, _, _, _ = _run(tmp_path, init_args=", log_to_driver=False")
    for text in ("out-line", "err-line", "first of two", "partial line", "(chatty", "(quiet_stderr"):
        assert text not in result.stdout, result.stdout
        assert text not in result.stderr, result.stderr
