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
    assert "image: numpy.ndarray(shape=(16, 12, 3), dtype=uint8)" in repr(ds)

    @ray.remote(num_cpus=1)
    def process_image(row: dict) -> dict:
        return {"processed_image": 255 - row["image"], "original_id": row.get("id", None)}

    processed = ds.map(process_image)
    assert repr(processed).startswith("Map(process_image)\n+- Dataset(num_rows=10")
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
    with pytest.raises(ValueError, match="broken.png"):
        ray.data.read_images(str(folder), override_num_blocks=1).take_all()

    def boom(row):
        raise RuntimeError("map failed")

    with pytest.raises(RuntimeError, match="map failed"):
        ray.data.range(3).map(boom).take_all()
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
