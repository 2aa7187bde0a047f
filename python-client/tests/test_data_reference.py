"""Ray Data calls whose results Ray documents (tests/data_scenarios.py), checked against those
results on this engine; and, when RAY_REFERENCE_PYTHON names the interpreter of a venv with real
ray[data]==2.60.0, also run there by the same runner and compared (real Ray is never a
dependency of this project)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from data_scenarios import RUNNER, SCENARIOS

import ray


@pytest.fixture(scope="module", autouse=True)
def cluster(ray_cluster):
    yield


@pytest.fixture(scope="module")
def runner():
    scope: dict = {}
    exec(RUNNER, scope)  # noqa: S102 - the runner of data_scenarios.py, nothing else
    return scope["run"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_documented_result(name, runner, tmp_path):
    snippet, expected = SCENARIOS[name]
    assert runner(ray, {name: snippet}, str(tmp_path))[name] == expected


REFERENCE_MAIN = """
import json, sys
import ray
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
ray.data.DataContext.get_current().enable_progress_bars = False
snippets = json.loads(open(sys.argv[1]).read())
print("RESULT " + json.dumps(run(ray, snippets, sys.argv[2])))
"""


@pytest.mark.skipif(
    not os.environ.get("RAY_REFERENCE_PYTHON"), reason="set RAY_REFERENCE_PYTHON to compare with real Ray"
)
def test_real_ray_data_gives_the_same_results(tmp_path):
    script = tmp_path / "reference.py"
    script.write_text(RUNNER + REFERENCE_MAIN)
    snippets = tmp_path / "snippets.json"
    snippets.write_text(json.dumps({name: snippet for name, (snippet, _) in SCENARIOS.items()}))
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["RAY_AUTH_MODE"] = "disabled"
    proc = subprocess.run(
        [os.environ["RAY_REFERENCE_PYTHON"], str(script), str(snippets), str(data)],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")]
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    reference = json.loads(line[-1][len("RESULT ") :])
    differ = {n: (reference[n], SCENARIOS[n][1]) for n in SCENARIOS if reference[n] != SCENARIOS[n][1]}
    assert not differ, json.dumps(differ, indent=1, ensure_ascii=False)
