"""Ray Data calls whose results Ray documents, checked against those results here, and, when
RAY_REFERENCE_PYTHON names the interpreter of a venv with real ray[data]==2.60.0, also run
there by a helper and compared (real Ray is never a dependency of this project)."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

import ray

# name -> (snippet computing `result` from `ray`, expected result as JSON)
SCENARIOS = {
    "map": (
        "result = ray.data.range(5).map(lambda r: {'id': r['id'] * 2}).take_all()",
        [{"id": i * 2} for i in range(5)],
    ),
    "filter_count": ("result = ray.data.range(100).filter(lambda r: r['id'] % 3 == 0).count()", 34),
    "flat_map": (
        "result = ray.data.from_items([{'v': 1}, {'v': 2}]).flat_map(lambda r: [r, r]).take_all()",
        [{"v": 1}, {"v": 1}, {"v": 2}, {"v": 2}],
    ),
    "map_batches_pandas": (
        "result = ray.data.range(4).map_batches(lambda df: df.assign(y=df['id'] * 3), batch_format='pandas')"
        ".take_all()",
        [{"id": i, "y": i * 3} for i in range(4)],
    ),
    "aggregates": (
        "ds = ray.data.range(10); "
        "result = [ds.sum('id'), ds.min('id'), ds.max('id'), ds.mean('id'), round(ds.std('id'), 6)]",
        [45, 0, 9, 4.5, 3.02765],
    ),
    # Ray does not promise the order of groupby's or union's rows: these sort them.
    "groupby_count": (
        "result = sorted(ray.data.from_items([{'k': k} for k in 'abcab']).groupby('k').count().take_all(), "
        "key=lambda r: r['k'])",
        [{"k": "a", "count()": 2}, {"k": "b", "count()": 2}, {"k": "c", "count()": 1}],
    ),
    "groupby_sum": (
        "result = sorted(ray.data.from_items([{'k': k, 'v': i} for i, k in enumerate('abcab')]).groupby('k')"
        ".sum('v').take_all(), key=lambda r: r['k'])",
        [{"k": "a", "sum(v)": 3}, {"k": "b", "sum(v)": 5}, {"k": "c", "sum(v)": 2}],
    ),
    "sort_desc": (
        "result = ray.data.range(10).random_shuffle(seed=1).sort('id', descending=True).take(3)",
        [{"id": 9}, {"id": 8}, {"id": 7}],
    ),
    "union": (
        "result = sorted(r['id'] for r in ray.data.range(2).union(ray.data.range(2)).take_all())",
        [0, 0, 1, 1],
    ),
    "columns": (
        "ds = ray.data.from_items([{'a': 1, 'b': 2}]); "
        "result = [ds.drop_columns(['a']).columns(), ds.select_columns(['a']).columns(), "
        "ds.rename_columns({'a': 'z'}).columns()]",
        [["b"], ["a"], ["z", "b"]],
    ),
    "limit": ("result = ray.data.range(100).limit(3).take_all()", [{"id": 0}, {"id": 1}, {"id": 2}]),
    "split": ("result = [d.count() for d in ray.data.range(10).split(3)]", [4, 4, 2]),
    "split_equal": ("result = [d.count() for d in ray.data.range(10).split(3, equal=True)]", [3, 3, 3]),
    "train_test_split": ("result = [d.count() for d in ray.data.range(10).train_test_split(0.2)]", [8, 2]),
    "unique": ("result = sorted(ray.data.from_items([{'k': k} for k in 'abcab']).unique('k'))", ["a", "b", "c"]),
    "zip": (
        "result = ray.data.range(3).zip(ray.data.range(3)).take_all()",
        [{"id": i, "id_1": i} for i in range(3)],
    ),
    "iter_batches": ("result = [len(b['id']) for b in ray.data.range(10).iter_batches(batch_size=4)]", [4, 4, 2]),
}


@pytest.fixture(scope="module", autouse=True)
def cluster(ray_cluster):
    yield


def _normalized(value):
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_documented_result(name):
    snippet, expected = SCENARIOS[name]
    scope = {"ray": ray}
    exec(snippet, scope)  # noqa: S102 - the scenarios above, nothing else
    assert _normalized(scope["result"]) == expected


HELPER = textwrap.dedent(
    """
    import json, sys
    import ray
    ray.init(num_cpus=2, include_dashboard=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    out = {}
    for name, snippet in json.loads(sys.argv[1]).items():
        scope = {"ray": ray}
        try:
            exec(snippet, scope)
            plain = json.dumps(scope["result"], default=lambda v: v.item() if hasattr(v, "item") else str(v))
            out[name] = json.loads(plain)
        except Exception as e:
            out[name] = {"error": f"{type(e).__name__}: {e}"}
    print("RESULT " + json.dumps(out))
    """
)


@pytest.mark.skipif(
    not os.environ.get("RAY_REFERENCE_PYTHON"), reason="set RAY_REFERENCE_PYTHON to compare with real Ray"
)
def test_real_ray_data_gives_the_same_results(tmp_path):
    script = tmp_path / "reference.py"
    script.write_text(HELPER)
    snippets = {name: snippet for name, (snippet, _) in SCENARIOS.items()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    proc = subprocess.run(
        [os.environ["RAY_REFERENCE_PYTHON"], str(script), json.dumps(snippets)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")]
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    reference = json.loads(line[-1][len("RESULT ") :])
    differ = {n: (reference[n], SCENARIOS[n][1]) for n in SCENARIOS if reference[n] != SCENARIOS[n][1]}
    assert not differ, differ
