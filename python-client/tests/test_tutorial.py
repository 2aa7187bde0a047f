"""Section 1 of the tutorial, run unchanged from ../shared/tutorial as separate processes."""

from __future__ import annotations

import re

from conftest import run_script, tutorial_dir
from helpers import split_output

TIME = re.compile(r"Processed 8 images in ([0-9.]+) seconds\.")


def _seconds(stdout: str) -> float:
    m = TIME.search(stdout)
    assert m, f"no timing line in output:\n{stdout}"
    return float(m.group(1))


def test_process_py_runs_sequentially():
    result = run_script(tutorial_dir() / "process.py", timeout=60)
    assert result.returncode == 0, result.stderr
    assert 7.9 <= _seconds(result.stdout) < 12


def test_parallel_process_py_uses_every_cpu():
    """Two CPUs here: 8 one-second tasks in ceil(8/2) rounds, plus at most 0.75 s."""
    result = run_script(tutorial_dir() / "parallel_process.py", timeout=120)
    assert result.returncode == 0, result.stderr
    assert _seconds(result.stdout) <= 4.75, result.stdout


def test_parallel_process_py_with_eight_cpus(tmp_path):
    """The same program with ray.init(num_cpus=8): eight tasks at once, one round."""
    source = (tutorial_dir() / "parallel_process.py").read_text()
    assert source.count("ray.init()") == 1
    script = tmp_path / "parallel_process_8.py"
    script.write_text(source.replace("ray.init()", "ray.init(num_cpus=8)"))
    result = run_script(script, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _seconds(result.stdout) <= 2.5, result.stdout


def test_counter_fails_py_shows_each_task_its_own_global():
    """Section 2: four tasks, each with its own copy of the global; the driver's stays 0."""
    result = run_script(tutorial_dir() / "counter_fails.py", timeout=120)
    assert result.returncode == 0, result.stderr
    worker_lines, driver_output = split_output(result.stdout)
    assert len(worker_lines) == 4, result.stdout
    for source, _, text in worker_lines:
        assert source == "process_image_and_count", result.stdout
        assert text == "Task processing 300 pixels. Local total: 300", result.stdout
    assert "Actual total pixels in main script: 0" in driver_output.splitlines(), result.stdout


def test_counter_works_py_counts_through_an_actor():
    """Section 2: eight tasks add to one actor through its handle."""
    result = run_script(tutorial_dir() / "counter_works.py", timeout=120)
    assert result.returncode == 0, result.stderr
    _, driver_output = split_output(result.stdout)
    assert "Expected total pixels: 2400" in driver_output.splitlines(), result.stdout
    assert "Actual total from actor: 2400" in driver_output.splitlines(), result.stdout
