"""Ray Data's first slice: sources, transforms (with an @ray.remote function as the tutorial
writes it), consumers and Parquet, against the real engine."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

import ray


@pytest.fixture(scope="module", autouse=True)
def cluster(ray_cluster):
    yield


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "raw-images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    arrays = []
    for i in range(10):
        arr = rng.integers(0, 255, (16, 12, 3), dtype=np.uint8)
        Image.fromarray(arr).save(folder / f"img_{i:02d}.png")
        arrays.append(arr)
    return folder, arrays


def test_range_and_from_items_count_take_and_schema():
    ds = ray.data.range(100)
    assert ds.count() == 100
    assert ds.take(3) == [{"id": 0}, {"id": 1}, {"id": 2}]
    assert ds.columns() == ["id"]
    items = ray.data.from_items([{"a": i, "b": str(i)} for i in range(7)])
    assert [r["b"] for r in items.take_all()] == [str(i) for i in range(7)]
    assert ray.data.from_items([1, 2]).take_all() == [{"item": 1}, {"item": 2}]


def test_map_filter_flat_map_and_map_batches_formats():
    ds = ray.data.range(20).map(lambda r: {"id": r["id"], "sq": r["id"] ** 2})
    ds = ds.filter(lambda r: r["id"] % 2 == 0).flat_map(lambda r: [r, {"id": -r["id"], "sq": 0}])
    rows = ds.take_all()
    assert len(rows) == 20 and rows[:2] == [{"id": 0, "sq": 0}, {"id": 0, "sq": 0}] and {"id": 4, "sq": 16} in rows
    doubled = ray.data.range(10).map_batches(lambda b: {"id": b["id"] * 2}, batch_size=3)
    assert sorted(r["id"] for r in doubled.take_all()) == list(range(0, 20, 2))
    as_pandas = ray.data.range(6).map_batches(lambda df: df.assign(x=df["id"] + 1), batch_format="pandas")
    assert as_pandas.to_pandas()["x"].tolist() == [1, 2, 3, 4, 5, 6]
    as_arrow = ray.data.range(4).map_batches(lambda t: t.append_column("y", t["id"]), batch_format="pyarrow")
    assert [r["y"] for r in as_arrow.take_all()] == [0, 1, 2, 3]
    batches = list(ray.data.range(10).iter_batches(batch_size=4))
    assert [len(b["id"]) for b in batches] == [4, 4, 2]


def test_read_images_map_with_a_remote_function_and_write_parquet(images, tmp_path):
    folder, arrays = images
    ds = ray.data.read_images(str(folder))
    assert ds.count() == 10
    # As Ray prints a dataset whose schema it learns by reading (broken over lines past 80 characters).
    assert repr(ds) == (
        "Dataset(\n   num_rows=10,\n   schema={image: ArrowTensorTypeV2(shape=(16, 12, 3), dtype=uint8)}\n)"
    )

    @ray.remote(num_cpus=1)
    def process_image(row: dict) -> dict:
        return {"processed_image": 255 - row["image"], "original_id": row.get("id", None)}

    processed = ds.map(process_image)
    assert repr(processed) == (
        "Map(process_image)\n+- Dataset(\n      num_rows=10,\n"
        "      schema={image: ArrowTensorTypeV2(shape=(16, 12, 3), dtype=uint8)}\n   )"
    )
    out = tmp_path / "processed-images"
    processed.write_parquet(str(out))
    table = pq.read_table(out)
    got = table["processed_image"].combine_chunks().to_numpy_ndarray()
    assert got.shape == (10, 16, 12, 3) and got.dtype == np.uint8
    assert np.array_equal(got, 255 - np.stack(arrays))
    assert table["original_id"].to_pylist() == [None] * 10
    back = ray.data.read_parquet(str(out))
    assert back.count() == 10 and np.array_equal(back.take(1)[0]["processed_image"], 255 - arrays[0])
    again = tmp_path / "again"
    materialized = back.materialize()
    materialized.write_parquet(str(again))
    assert materialized.count() == 10 and pq.read_table(again).num_rows == 10


def test_an_unreachable_s3_endpoint_is_a_clear_error_not_a_hang(monkeypatch):
    for key, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(OSError, match="s3://bucket/raw/"):
        ray.data.read_images("s3://bucket/raw/")


def test_read_images_options_and_bad_input(images, tmp_path):
    folder, _ = images
    rows = ray.data.read_images(str(folder), size=(8, 6), mode="L", include_paths=True).take(2)
    assert rows[0]["image"].shape == (8, 6) and rows[0]["path"].endswith("img_00.png")
    with pytest.raises(FileNotFoundError, match="nope"):
        ray.data.read_images(str(tmp_path / "nope"))
    (folder / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="PIL couldn't load image file at path '.*broken.png'"):
        ray.data.read_images(str(folder), override_num_blocks=1).take_all()

    def boom(row):
        raise RuntimeError("map failed")

    # As Ray: RayTaskError(UserCodeException), the user's exception its cause (in its traceback).
    with pytest.raises(ray.exceptions.UserCodeException, match="(?s)RuntimeError: map failed") as info:
        ray.data.range(3).map(boom).take_all()
    assert isinstance(info.value, ray.exceptions.RayTaskError) and "Map(boom)" in str(info.value)
    with pytest.raises(FileNotFoundError, match="nope"):
        ray.data.read_parquet(str(tmp_path / "nope"))
    # The cluster keeps working after those.
    assert ray.data.range(5).count() == 5


def test_a_dataset_streams_with_a_bounded_window():
    ctx = ray.data.DataContext.get_current()
    ctx.max_tasks_in_flight = 2
    try:
        ds = ray.data.range(1000, override_num_blocks=50).map_batches(lambda b: {"id": b["id"] + 1})
        assert sum(r["id"] for r in ds.iter_rows()) == sum(range(1, 1001))
    finally:
        ctx.max_tasks_in_flight = None


def test_column_operations_union_and_limit():
    ds = ray.data.from_items([{"a": i, "b": i * 2} for i in range(6)])
    added = ds.add_column("c", lambda df: df["a"] + df["b"])
    assert [r["c"] for r in added.take_all()] == [0, 3, 6, 9, 12, 15]
    assert added.drop_columns(["b"]).columns() == ["a", "c"]
    assert ds.select_columns(["b"]).take(2) == [{"b": 0}, {"b": 2}]
    assert ds.rename_columns({"a": "x"}).columns() == ["x", "b"]
    with pytest.raises(ValueError, match="nope"):
        ds.select_columns(["nope"]).take_all()
    both = ray.data.range(3).union(ray.data.range(2).map(lambda r: {"id": r["id"] + 10}))
    assert [r["id"] for r in both.take_all()] == [0, 1, 2, 10, 11]
    limited = ray.data.range(1000, override_num_blocks=10).limit(15)
    assert limited.count() == 15 and limited.take_all()[-1] == {"id": 14}
    assert [r["id"] for r in limited.map(lambda r: {"id": -r["id"]}).take(2)] == [0, -1]


def test_aggregates_and_unique():
    ds = ray.data.range(10, override_num_blocks=3)
    assert ds.sum("id") == 45 and ds.min("id") == 0 and ds.max("id") == 9
    assert ds.mean("id") == 4.5
    assert abs(ds.std("id") - float(np.std(np.arange(10), ddof=1))) < 1e-9
    assert sorted(ray.data.from_items([{"k": k} for k in "abcab"]).unique("k")) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="nope"):
        ds.sum("nope")


def test_more_sources_and_sinks(tmp_path):
    arr = np.arange(12).reshape(4, 3)
    from_np = ray.data.from_numpy(arr)
    assert np.array_equal(np.stack([r["data"] for r in from_np.take_all()]), arr)
    import pandas as pd
    import pyarrow as pa

    assert ray.data.from_pandas(pd.DataFrame({"x": [1, 2]})).take_all() == [{"x": 1}, {"x": 2}]
    assert ray.data.from_arrow(pa.table({"y": [3]})).take_all() == [{"y": 3}]

    ds = ray.data.from_items([{"a": i, "s": f"v{i}"} for i in range(5)])
    ds.write_csv(str(tmp_path / "csv"))
    ds.write_json(str(tmp_path / "json"))
    assert sorted(r["a"] for r in ray.data.read_csv(str(tmp_path / "csv")).take_all()) == list(range(5))
    assert sorted(r["s"] for r in ray.data.read_json(str(tmp_path / "json")).take_all()) == [f"v{i}" for i in range(5)]
    from_np.write_numpy(str(tmp_path / "npy"), column="data")
    assert np.array_equal(np.stack([r["data"] for r in ray.data.read_numpy(str(tmp_path / "npy")).take_all()]), arr)
    (tmp_path / "t.txt").write_text("one\ntwo\n")
    assert ray.data.read_text(str(tmp_path / "t.txt")).take_all() == [{"text": "one"}, {"text": "two"}]
    got = ray.data.read_binary_files(str(tmp_path / "t.txt"), include_paths=True).take_all()
    assert got[0]["bytes"] == b"one\ntwo\n" and got[0]["path"].endswith("t.txt")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        ray.data.read_json(str(tmp_path / "bad.json")).take_all()


def test_repartition_shuffle_sort_and_groupby():
    ds = ray.data.range(100, override_num_blocks=7)
    parts = ds.repartition(4)
    assert [r["id"] for r in parts.take_all()] == list(range(100))
    assert parts.materialize().num_blocks() == 4
    shuffled = ds.random_shuffle(seed=3)
    ids = [r["id"] for r in shuffled.take_all()]
    assert sorted(ids) == list(range(100)) and ids != list(range(100))
    assert [r["id"] for r in ds.random_shuffle(seed=3).take_all()] == ids
    assert [r["id"] for r in shuffled.sort("id").take_all()] == list(range(100))
    assert [r["id"] for r in shuffled.sort("id", descending=True).take(3)] == [99, 98, 97]

    rows = ray.data.from_items([{"k": k, "v": v} for k, v in zip("abcabca", range(7))])
    assert rows.groupby("k").count().take_all() == [
        {"k": "a", "count()": 3},
        {"k": "b", "count()": 2},
        {"k": "c", "count()": 2},
    ]
    assert rows.groupby("k").sum("v").take_all() == [
        {"k": "a", "sum(v)": 9},
        {"k": "b", "sum(v)": 5},
        {"k": "c", "sum(v)": 7},
    ]
    assert rows.groupby("k").max("v").take_all()[0] == {"k": "a", "max(v)": 6}
    assert rows.groupby("k").mean("v").take_all()[1] == {"k": "b", "mean(v)": 2.5}
    firsts = rows.groupby("k").map_groups(lambda g: {"k": g["k"][:1], "n": np.array([len(g["v"])])}).take_all()
    assert firsts == [{"k": "a", "n": 3}, {"k": "b", "n": 2}, {"k": "c", "n": 2}]


def test_split_train_test_split_random_sample_and_arrow_refs():
    ds = ray.data.range(10, override_num_blocks=3)
    pieces = ds.split(3)
    assert [[r["id"] for r in p.take_all()] for p in pieces] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.count() for p in ds.split(3, equal=True)] == [3, 3, 3]
    train, test = ds.train_test_split(0.3)
    assert [r["id"] for r in test.take_all()] == [7, 8, 9] and train.count() == 7
    with pytest.raises(ValueError, match="test_size"):
        ds.train_test_split(1.5)
    sampled = ray.data.range(2000).random_sample(0.5, seed=1)
    n = sampled.count()
    assert 800 < n < 1200 and n == ray.data.range(2000).random_sample(0.5, seed=1).count()
    refs = ray.data.range(5).to_arrow_refs()
    assert sum(ray.get(r).num_rows for r in refs) == 5


def test_a_callable_class_runs_as_a_pool_of_actors():
    class AddOffset:
        def __init__(self, offset):
            import os

            self.offset, self.pid, self.calls = offset, os.getpid(), 0

        def __call__(self, batch):
            self.calls += 1
            return {"id": batch["id"] + self.offset, "pid": np.full(len(batch["id"]), self.pid)}

    ds = ray.data.range(40, override_num_blocks=8).map_batches(AddOffset, concurrency=2, fn_constructor_args=(100,))
    rows = ds.take_all()
    assert [r["id"] for r in rows] == list(range(100, 140))
    assert len({r["pid"] for r in rows}) == 2  # two actors, each built once
    with pytest.raises(ValueError, match="concurrency"):
        ray.data.range(3).map_batches(AddOffset, concurrency=(2, 1))


def test_pools_grow_chain_and_functions_take_a_concurrency_cap():
    class Tag:
        def __init__(self, column):
            import os

            self.column, self.pid = column, os.getpid()

        def __call__(self, batch):
            return {**batch, self.column: np.full(len(batch["id"]), self.pid)}

    # (1, 2): starts with one actor and adds the second once a third block waits; a second
    # callable class gets its own pool, fed by the first.
    ds = ray.data.range(40, override_num_blocks=8).map_batches(Tag, fn_constructor_args=("first",), concurrency=(1, 2))

    class TagRow:
        def __init__(self):
            import os

            self.pid = os.getpid()

        def __call__(self, row):
            return {**row, "second": self.pid}

    rows = ds.map(TagRow, concurrency=1).take_all()
    assert sorted(r["id"] for r in rows) == list(range(40))
    assert len({r["first"] for r in rows}) == 2 and len({r["second"] for r in rows}) == 1
    assert not {r["first"] for r in rows} & {r["second"] for r in rows}

    def timed(batch):
        import time

        start = time.time()
        time.sleep(0.1)
        return {"start": [start], "end": [time.time()]}

    spans = sorted(
        (r["start"], r["end"])
        for r in ray.data.range(4, override_num_blocks=4).map_batches(timed, concurrency=1).take_all()
    )
    assert len(spans) == 4 and all(b[0] >= a[1] for a, b in zip(spans, spans[1:]))  # one task at a time


def test_images_of_different_sizes_are_a_variable_shaped_tensor_column(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shapes = [(4, 6, 3), (8, 3, 3), (5, 5, 3)]
    for i, shape in enumerate(shapes):
        Image.fromarray(np.full(shape, i * 40, np.uint8)).save(folder / f"{i}.png")
    ds = ray.data.read_images(str(folder), override_num_blocks=3).map(lambda r: {"image": 255 - r["image"]})
    materialized = ds.materialize()
    assert repr(materialized.schema()).endswith("image   ArrowVariableShapedTensorType(ndim=3, dtype=uint8)")
    out = tmp_path / "out"
    materialized.repartition(1).write_parquet(str(out))
    back = sorted(ray.data.read_parquet(str(out)).take_all(), key=lambda r: int(r["image"][0, 0, 0]))
    assert [r["image"].shape for r in back] == list(reversed(shapes))
    assert [int(r["image"][0, 0, 0]) for r in back] == [175, 215, 255]


def test_progress_bars_on_a_terminal_only_and_stats(monkeypatch, capsys):
    import sys

    ds = ray.data.range(30, override_num_blocks=3).map(lambda r: {"id": r["id"] + 1})
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert ds.count() == 30
    assert "ReadRange->Map(<lambda>)" in capsys.readouterr().err
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        ds.count()
        assert "ReadRange->Map" not in capsys.readouterr().err
    finally:
        ray.data.DataContext.get_current().enable_progress_bars = True
    stats = ds.stats()
    assert "Operator ReadRange->Map(<lambda>): 3 blocks, 30 rows" in stats, stats


def test_zip_and_write_images(images, tmp_path):
    left = ray.data.range(10, override_num_blocks=3)
    right = ray.data.range(10, override_num_blocks=2).map(lambda r: {"id": r["id"] * 10, "x": -r["id"]})
    rows = left.zip(right).take_all()
    assert rows[3] == {"id": 3, "id_1": 30, "x": -3} and len(rows) == 10
    with pytest.raises(ValueError, match="different number of rows"):
        left.zip(ray.data.range(4))  # known when zip is called
    with pytest.raises(ValueError, match="different number of rows"):
        left.zip(ray.data.range(8).filter(lambda r: r["id"] < 4)).take_all()  # found when it runs
    folder, arrays = images
    out = tmp_path / "written"
    ray.data.read_images(str(folder)).write_images(str(out), column="image")
    files = sorted(out.iterdir())
    assert len(files) == 10 and all(f.suffix == ".png" for f in files)
    back = sorted(np.asarray(Image.open(f)).tobytes() for f in files)
    assert back == sorted(a.tobytes() for a in arrays)


def test_a_parquet_file_of_several_row_groups_is_read_by_several_tasks(tmp_path):
    """Beyond Ray (which reads a file in one task): a big file's row groups spread over tasks."""
    import pyarrow as pa

    pq.write_table(pa.table({"v": list(range(100))}), tmp_path / "rg.parquet", row_group_size=10)
    ds = ray.data.read_parquet(str(tmp_path / "rg.parquet"), override_num_blocks=5).materialize()
    assert ds.num_blocks() == 5 and [r["v"] for r in ds.take_all()] == list(range(100))
