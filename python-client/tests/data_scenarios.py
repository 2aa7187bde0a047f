"""Ray Data calls and the results Ray 2.60 gives for them (Ray's documentation and real Ray Data,
run side by side by test_data_reference.py when RAY_REFERENCE_PYTHON is set).

Each scenario is a snippet that sets ``result`` (JSON-able) from the names in RUNNER's scope:
``ray``, ``np``, ``pd``, ``pa``, ``os``, ``re`` and ``tmp`` (a folder SETUP filled). An exception
becomes ``{"error": <its type name>}``, so error scenarios compare exception types. Where Ray
does not promise an order, the snippet sorts.
"""

# Run on both sides: files the read scenarios use, then every snippet.
RUNNER = r"""
import contextlib, io, json, os, re, sys
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

def setup(tmp):
    os.makedirs(f"{tmp}/imgs", exist_ok=True)
    for i in range(3):
        Image.fromarray(np.full((8, 6, 3), i * 10, np.uint8)).save(f"{tmp}/imgs/{i}.png")
    os.makedirs(f"{tmp}/bad", exist_ok=True)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(f"{tmp}/bad/ok.png")
    with open(f"{tmp}/bad/broken.png", "wb") as f:
        f.write(b"not an image")
    os.makedirs(f"{tmp}/pq", exist_ok=True)
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), f"{tmp}/pq/0.parquet")
    pq.write_table(pa.table({"a": [3], "b": ["z"]}), f"{tmp}/pq/1.parquet")
    with open(f"{tmp}/c.csv", "w") as f:
        f.write("a,b\n1,x\n2,y\n")
    with open(f"{tmp}/j.jsonl", "w") as f:
        f.write('{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n')
    with open(f"{tmp}/t.txt", "w") as f:
        f.write("hello\nworld\n")
    os.makedirs(f"{tmp}/bin", exist_ok=True)
    with open(f"{tmp}/bin/x.bin", "wb") as f:
        f.write(b"\x00\x01\x02")
    np.save(f"{tmp}/n.npy", np.arange(6).reshape(3, 2))

def plain(value):
    return json.loads(json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else str(v)))

def run(ray, snippets, tmp):
    setup(tmp)
    out = {}
    for name, snippet in snippets.items():
        scope = {"ray": ray, "np": np, "pd": pd, "pa": pa, "os": os, "re": re, "io": io,
                 "contextlib": contextlib, "tmp": tmp}
        try:
            exec(snippet, scope)
            out[name] = plain(scope["result"])
        except Exception as e:
            out[name] = {"error": type(e).__name__}
    return out
"""

_ROWS5 = [{"id": i} for i in range(5)]

SCENARIOS = {
    # ---- sources
    "range": ("result = ray.data.range(5).take_all()", _ROWS5),
    "range_tensor": (
        "t = ray.data.range_tensor(3, shape=(2, 2)).take_all(); "
        "result = [[r['data'].tolist(), str(r['data'].dtype)] for r in t]",
        [[[[i, i], [i, i]], "int64"] for i in range(3)],
    ),
    "from_items_scalars": ("result = ray.data.from_items([1, 2]).take_all()", [{"item": 1}, {"item": 2}]),
    "from_numpy": (
        "result = [r['data'].tolist() for r in ray.data.from_numpy(np.arange(6).reshape(3, 2)).take_all()]",
        [[0, 1], [2, 3], [4, 5]],
    ),
    "from_pandas": (
        "result = ray.data.from_pandas(pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})).take_all()",
        [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
    ),
    "from_arrow": ("result = ray.data.from_arrow(pa.table({'a': [1, 2]})).take_all()", [{"a": 1}, {"a": 2}]),
    "read_images": (
        "rows = ray.data.read_images(f'{tmp}/imgs').take_all(); "
        "result = sorted([list(r['image'].shape), str(r['image'].dtype), int(r['image'][0, 0, 0])] for r in rows)",
        [[[8, 6, 3], "uint8", 0], [[8, 6, 3], "uint8", 10], [[8, 6, 3], "uint8", 20]],
    ),
    "read_images_options": (
        "rows = ray.data.read_images(f'{tmp}/imgs', size=(4, 3), mode='L', include_paths=True).take_all(); "
        "result = sorted([list(r['image'].shape), os.path.basename(r['path'])] for r in rows)",
        [[[4, 3], "0.png"], [[4, 3], "1.png"], [[4, 3], "2.png"]],
    ),
    "read_parquet": (
        "result = sorted(ray.data.read_parquet(f'{tmp}/pq').take_all(), key=lambda r: r['a'])",
        [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "z"}],
    ),
    "read_parquet_columns": (
        "result = sorted(r['a'] for r in ray.data.read_parquet(f'{tmp}/pq', columns=['a']).take_all())",
        [1, 2, 3],
    ),
    "read_csv": ("result = ray.data.read_csv(f'{tmp}/c.csv').take_all()", [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]),
    "read_json": (
        "result = ray.data.read_json(f'{tmp}/j.jsonl').take_all()",
        [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
    ),
    "read_text": ("result = ray.data.read_text(f'{tmp}/t.txt').take_all()", [{"text": "hello"}, {"text": "world"}]),
    "read_binary_files": (
        "result = [list(r['bytes']) for r in ray.data.read_binary_files(f'{tmp}/bin').take_all()]",
        [[0, 1, 2]],
    ),
    "read_numpy": (
        "result = [r['data'].tolist() for r in ray.data.read_numpy(f'{tmp}/n.npy').take_all()]",
        [[0, 1], [2, 3], [4, 5]],
    ),
    # ---- transforms
    "map": (
        "result = ray.data.range(5).map(lambda r: {'id': r['id'] * 2}).take_all()",
        [{"id": i * 2} for i in range(5)],
    ),
    "map_fn_args": (
        "result = ray.data.range(3).map(lambda r, k, m=1: {'v': r['id'] * m + k}, fn_args=(10,), "
        "fn_kwargs={'m': 2}).take_all()",
        [{"v": 10}, {"v": 12}, {"v": 14}],
    ),
    "map_num_cpus": (
        "result = ray.data.range(3).map(lambda r: r, num_cpus=0.5).count()",
        3,
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
    "map_batches_numpy_batch_size": (
        "result = sorted(ray.data.range(10, override_num_blocks=1).map_batches(lambda b: {'n': [len(b['id'])]}, "
        "batch_size=4, batch_format='numpy').take_all(), key=lambda r: -r['n'])",
        [{"n": 4}, {"n": 4}, {"n": 2}],
    ),
    "map_batches_pyarrow": (
        "result = ray.data.range(3).map_batches(lambda t: t.append_column('s', pa.array([str(v) for v in "
        "t['id'].to_pylist()])), batch_format='pyarrow').take_all()",
        [{"id": i, "s": str(i)} for i in range(3)],
    ),
    "map_batches_class_pool": (
        "class Add:\n"
        "    def __init__(self, k):\n"
        "        self.k = k\n"
        "    def __call__(self, b):\n"
        "        return {'id': b['id'] + self.k}\n"
        "result = sorted(r['id'] for r in ray.data.range(6).map_batches(Add, fn_constructor_args=(100,), "
        "concurrency=2).take_all())",
        [100, 101, 102, 103, 104, 105],
    ),
    "map_batches_class_autoscaling": (
        "class Same:\n"
        "    def __call__(self, b):\n"
        "        return b\n"
        "result = ray.data.range(20).map_batches(Same, concurrency=(1, 2)).count()",
        20,
    ),
    "map_batches_class_no_concurrency_needed": (
        "class Same:\n"
        "    def __call__(self, b):\n"
        "        return b\n"
        "result = ray.data.range(4).map_batches(Same, concurrency=1).count()",
        4,
    ),
    "tensor_shape_kept": (
        "t = ray.data.range_tensor(4, shape=(2, 3)).map_batches(lambda b: {'data': b['data'] * 2}).take(1)[0]; "
        "result = [list(t['data'].shape), str(t['data'].dtype)]",
        [[2, 3], "int64"],
    ),
    "add_column": (
        "result = ray.data.range(3).add_column('sq', lambda df: df['id'] ** 2).take_all()",
        [{"id": i, "sq": i * i} for i in range(3)],
    ),
    "columns": (
        "ds = ray.data.from_items([{'a': 1, 'b': 2}]); "
        "result = [ds.drop_columns(['a']).columns(), ds.select_columns(['a']).columns(), "
        "ds.rename_columns({'a': 'z'}).columns()]",
        [["b"], ["a"], ["z", "b"]],
    ),
    "limit": ("result = ray.data.range(100).limit(3).take_all()", [{"id": 0}, {"id": 1}, {"id": 2}]),
    "repartition": (
        "ds = ray.data.range(10).repartition(3).materialize(); result = [ds.num_blocks(), ds.count()]",
        [3, 10],
    ),
    "random_shuffle": (
        "result = sorted(r['id'] for r in ray.data.range(20).random_shuffle(seed=7).take_all())",
        list(range(20)),
    ),
    "sort_desc": (
        "result = ray.data.range(10).random_shuffle(seed=1).sort('id', descending=True).take(3)",
        [{"id": 9}, {"id": 8}, {"id": 7}],
    ),
    "sort_two_keys": (
        "result = ray.data.from_items([{'a': 1, 'b': 2}, {'a': 0, 'b': 1}, {'a': 1, 'b': 5}, {'a': 0, 'b': 3}])"
        ".sort(['a', 'b'], descending=[False, True]).take_all()",
        [{"a": 0, "b": 3}, {"a": 0, "b": 1}, {"a": 1, "b": 5}, {"a": 1, "b": 2}],
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
    "groupby_min_max_mean_std": (
        "g = ray.data.from_items([{'k': k, 'v': i} for i, k in enumerate('aabb')]).groupby('k'); "
        "result = [sorted(g.min('v').take_all(), key=lambda r: r['k']), sorted(g.max('v').take_all(), "
        "key=lambda r: r['k']), sorted(g.mean('v').take_all(), key=lambda r: r['k']), "
        "sorted([[r['k'], round(r['std(v)'], 4)] for r in g.std('v').take_all()])]",
        [
            [{"k": "a", "min(v)": 0}, {"k": "b", "min(v)": 2}],
            [{"k": "a", "max(v)": 1}, {"k": "b", "max(v)": 3}],
            [{"k": "a", "mean(v)": 0.5}, {"k": "b", "mean(v)": 2.5}],
            [["a", 0.7071], ["b", 0.7071]],
        ],
    ),
    "groupby_two_keys": (
        "result = sorted(ray.data.from_items([{'a': 1, 'b': 'x'}, {'a': 1, 'b': 'x'}, {'a': 1, 'b': 'y'}])"
        ".groupby(['a', 'b']).count().take_all(), key=lambda r: r['b'])",
        [{"a": 1, "b": "x", "count()": 2}, {"a": 1, "b": "y", "count()": 1}],
    ),
    "map_groups": (
        "result = sorted(ray.data.from_items([{'k': k, 'v': i} for i, k in enumerate('abab')]).groupby('k')"
        ".map_groups(lambda g: {'k': g['k'][:1], 'total': [g['v'].sum()]}).take_all(), key=lambda r: r['k'])",
        [{"k": "a", "total": 2}, {"k": "b", "total": 4}],
    ),
    "union": (
        "result = sorted(r['id'] for r in ray.data.range(2).union(ray.data.range(2)).take_all())",
        [0, 0, 1, 1],
    ),
    "zip": (
        "result = ray.data.range(3).zip(ray.data.range(3)).take_all()",
        [{"id": i, "id_1": i} for i in range(3)],
    ),
    "split": ("result = [d.count() for d in ray.data.range(10).split(3)]", [4, 4, 2]),
    "split_equal": ("result = [d.count() for d in ray.data.range(10).split(3, equal=True)]", [3, 3, 3]),
    "train_test_split": ("result = [d.count() for d in ray.data.range(10).train_test_split(0.2)]", [8, 2]),
    "train_test_split_count": ("result = [d.count() for d in ray.data.range(10).train_test_split(3)]", [7, 3]),
    "random_sample_bounds": (
        "ds = ray.data.range(50); result = [ds.random_sample(0.0).count(), ds.random_sample(1.0).count()]",
        [0, 50],
    ),
    "unique": ("result = sorted(ray.data.from_items([{'k': k} for k in 'abcab']).unique('k'))", ["a", "b", "c"]),
    # ---- consumers
    "take": ("result = ray.data.range(10).take(2)", [{"id": 0}, {"id": 1}]),
    "take_batch": ("result = ray.data.range(5).take_batch(3)['id'].tolist()", [0, 1, 2]),
    "take_batch_pandas": (
        "result = ray.data.range(5).take_batch(2, batch_format='pandas').to_dict('records')",
        [{"id": 0}, {"id": 1}],
    ),
    "show": (
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    ray.data.from_items([{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'y'}]).show()\n"
        "result = buf.getvalue()",
        "{'a': 1, 'b': 'x'}\n{'a': 2, 'b': 'y'}\n",
    ),
    "count_columns": (
        "ds = ray.data.from_items([{'a': 1, 'b': 2}] * 4); result = [ds.count(), ds.columns()]",
        [4, ["a", "b"]],
    ),
    "iter_rows": (
        "result = sorted(ray.data.range(3).iter_rows(), key=lambda r: r['id'])",
        [{"id": 0}, {"id": 1}, {"id": 2}],
    ),
    "iter_batches": ("result = [len(b['id']) for b in ray.data.range(10).iter_batches(batch_size=4)]", [4, 4, 2]),
    "iter_batches_prefetch_drop_last": (
        "result = [len(b['id']) for b in ray.data.range(10, override_num_blocks=3).iter_batches(batch_size=4, "
        "prefetch_batches=2, drop_last=True)]",
        [4, 4],
    ),
    "iter_batches_local_shuffle": (
        "bs = list(ray.data.range(40).iter_batches(batch_size=8, local_shuffle_buffer_size=16, "
        "local_shuffle_seed=3)); ids = np.concatenate([b['id'] for b in bs]); "
        "result = [len(bs), sorted(ids.tolist()) == list(range(40)), ids.tolist() != list(range(40))]",
        [5, True, True],
    ),
    "to_pandas": (
        "result = ray.data.from_items([{'a': 1}, {'a': 2}]).to_pandas().to_dict('list')",
        {"a": [1, 2]},
    ),
    "to_arrow_refs": (
        "refs = ray.data.range(6, override_num_blocks=2).to_arrow_refs(); "
        "result = sum(ray.get(r).num_rows for r in refs)",
        6,
    ),
    "materialize": (
        "m = ray.data.range(4).map(lambda r: r).materialize(); result = [type(m).__name__, m.count()]",
        ["MaterializedDataset", 4],
    ),
    "aggregates": (
        "ds = ray.data.range(10); "
        "result = [ds.sum('id'), ds.min('id'), ds.max('id'), ds.mean('id'), round(ds.std('id'), 6)]",
        [45, 0, 9, 4.5, 3.02765],
    ),
    # ---- printing, as Ray 2.60 prints
    "print_range": (
        "result = repr(ray.data.range(10))",
        "shape: (10, 1)\n╭───────╮\n│ id    │\n│ ---   │\n│ int64 │\n╰───────╯\n(Dataset isn't materialized)",
    ),
    "print_plan": (
        "result = repr(ray.data.range(10).map_batches(lambda b: b).filter(lambda r: True))",
        "Filter(<lambda>)\n+- MapBatches(<lambda>)\n   +- Dataset(num_rows=10, schema={id: int64})",
    ),
    "print_materialized": (
        "result = repr(ray.data.from_items([{'a': 1, 'b': 'x'}]).materialize())",
        "shape: (1, 2)\n╭───────┬────────╮\n│ a     ┆ b      │\n│ ---   ┆ ---    │\n│ int64 ┆ string │\n"
        "╞═══════╪════════╡\n│ 1     ┆ x      │\n╰───────┴────────╯\n(Showing 1 of 1 rows)",
    ),
    # The first 5 rows, a gap, the last 5 (which rows those are depends on block order).
    "print_many_rows": (
        "lines = repr(ray.data.range(12, override_num_blocks=3).materialize()).splitlines(); "
        "result = [len(lines), lines[11], lines[-1]]",
        [19, "│ …     │", "(Showing 10 of 12 rows)"],
    ),
    "schema_tensor": (
        "result = repr(ray.data.read_images(f'{tmp}/imgs').schema())",
        "Column  Type\n------  ----\nimage   ArrowTensorTypeV2(shape=(8, 6, 3), dtype=uint8)",
    ),
    "print_groupby": (
        "result = repr(ray.data.range(3).groupby('id').count()).splitlines()[0:5]",
        ["shape: (?, 2)", "╭───────┬─────────╮", "│ id    ┆ count() │", "│ ---   ┆ ---     │", "│ int64 ┆ int64   │"],
    ),
    # ---- sinks (written, then read back)
    "write_parquet": (
        "ray.data.range(10, override_num_blocks=2).write_parquet(f'{tmp}/out_pq'); "
        "result = [sorted(r['id'] for r in ray.data.read_parquet(f'{tmp}/out_pq').take_all()) == list(range(10)), "
        "all(f.endswith('.parquet') for f in os.listdir(f'{tmp}/out_pq'))]",
        [True, True],
    ),
    "write_file_names": (
        "ray.data.range(10, override_num_blocks=2).write_parquet(f'{tmp}/names_pq'); "
        "ray.data.range(10, override_num_blocks=2).write_csv(f'{tmp}/names_csv'); "
        "result = [sorted(re.sub(r'^[0-9A-Za-z]{22}_[0-9a-f]{32}_', 'D_W_', f) for f in os.listdir(f'{tmp}/' + d)) "
        "for d in ('names_pq', 'names_csv')]",
        [["D_W_000000-0.parquet", "D_W_000001-0.parquet"], ["D_W_000000.csv", "D_W_000001.csv"]],
    ),
    "read_parquet_row_groups": (
        "import pyarrow.parquet as pq\n"
        "pq.write_table(pa.table({'v': list(range(100))}), f'{tmp}/rg.parquet', row_group_size=10)\n"
        "ds = ray.data.read_parquet(f'{tmp}/rg.parquet', override_num_blocks=5)\n"
        "result = [ds.count(), sorted(r['v'] for r in ds.take_all()) == list(range(100))]",
        [100, True],
    ),
    "write_csv_json": (
        "ray.data.from_items([{'a': 1}, {'a': 2}]).write_csv(f'{tmp}/out_csv'); "
        "ray.data.from_items([{'a': 1}, {'a': 2}]).write_json(f'{tmp}/out_json'); "
        "result = [sorted(r['a'] for r in ray.data.read_csv(f'{tmp}/out_csv').take_all()), "
        "sorted(r['a'] for r in ray.data.read_json(f'{tmp}/out_json').take_all())]",
        [[1, 2], [1, 2]],
    ),
    "write_numpy": (
        "ray.data.range_tensor(4, shape=(2,)).write_numpy(f'{tmp}/out_npy', column='data'); "
        "result = sorted(r['data'].tolist() for r in ray.data.read_numpy(f'{tmp}/out_npy').take_all())",
        [[0, 0], [1, 1], [2, 2], [3, 3]],
    ),
    "write_images": (
        "ray.data.read_images(f'{tmp}/imgs').write_images(f'{tmp}/out_img', column='image'); "
        "result = sorted(int(r['image'][0, 0, 0]) for r in ray.data.read_images(f'{tmp}/out_img').take_all())",
        [0, 10, 20],
    ),
    "tensor_through_parquet": (
        "ray.data.range_tensor(3, shape=(2, 2)).write_parquet(f'{tmp}/out_tensor'); "
        "t = ray.data.read_parquet(f'{tmp}/out_tensor').take(1)[0]['data']; "
        "result = [list(t.shape), str(t.dtype)]",
        [[2, 2], "int64"],
    ),
    # ---- bad input: Ray's exception types
    "error_missing_path": ("result = ray.data.read_parquet(f'{tmp}/nope').count()", {"error": "FileNotFoundError"}),
    "error_bad_image": (
        "result = ray.data.read_images(f'{tmp}/bad').take_all()",
        {"error": "RayTaskError(ValueError)"},
    ),
    "error_udf_raises": (
        "result = ray.data.range(3).map(lambda r: 1 / 0).take_all()",
        {"error": "RayTaskError(UserCodeException)"},
    ),
    "error_not_a_row": (
        "result = ray.data.range(3).map(lambda r: 5).take_all()",
        {"error": "RayTaskError(ValueError)"},
    ),
    "error_sort_missing_column": ("result = ray.data.range(3).sort('zz').take_all()", {"error": "ValueError"}),
    "error_unknown_option": (
        "result = ray.data.range(3).map(lambda r: r, bogus=1).take_all()",
        {"error": "ValueError"},
    ),
    "class_without_concurrency": (
        "class C:\n    def __call__(self, b):\n        return b\nresult = ray.data.range(3).map_batches(C).count()",
        3,
    ),
    "error_bad_batch_format": (
        "result = ray.data.range(3).map_batches(lambda b: b, batch_format='xml').count()",
        {"error": "ValueError"},
    ),
}
