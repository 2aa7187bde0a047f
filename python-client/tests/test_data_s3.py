"""Ray Data against a real S3 endpoint (s3proxy): the tutorial's data_pipeline.py, unchanged, on
a two-node `ray start` cluster, with the endpoint and keys given only through the standard AWS
environment variables."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from conftest import run_script, tutorial_dir
from PIL import Image

RAY = str(Path(sys.executable).parent / "ray")
BUCKET = "your-bucket-name"


def _ray(args, env):
    result = subprocess.run([RAY, *args], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr


def test_data_pipeline_unchanged_on_two_nodes_reads_and_writes_s3(s3_server, tmp_path):
    fs = s3_server.filesystem()
    fs.create_dir(BUCKET)
    rng = np.random.default_rng(7)
    originals = []
    for i in range(64):
        arr = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        with fs.open_output_stream(f"{BUCKET}/raw-images/img_{i:03d}.png") as out:
            out.write(buf.getvalue())
        originals.append(arr)

    env = {**os.environ, "RAY_TMPDIR": str(tmp_path), **s3_server.env}
    _ray(["start", "--head", "--port", "0", "--num-cpus", "2", "--node-ip-address", "127.0.0.1"], env)
    try:
        address = (tmp_path / "ray_current_cluster").read_text().strip()
        _ray(["start", "--address", address, "--num-cpus", "2", "--node-ip-address", "127.0.0.2"], env)
        result = run_script(tutorial_dir() / "data_pipeline.py", env=env, timeout=240)
    finally:
        subprocess.run([RAY, "stop"], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = [line for line in result.stdout.splitlines() if not line.startswith("20")]
    assert printed == [
        "Creating dataset reference...",
        "Defining map transformation...",
        "Executing pipeline and writing results...",
        "Pipeline complete!",
    ], result.stdout

    files = [
        i.path
        for i in fs.get_file_info(pafs.FileSelector(f"{BUCKET}/processed-images", recursive=True))
        if i.path.endswith(".parquet")
    ]
    assert files
    table = pa.concat_tables([pq.read_table(f, filesystem=fs) for f in files])
    assert table.num_rows == 64 and set(table.column_names) == {"processed_image", "original_id"}
    processed = table["processed_image"].combine_chunks().to_numpy_ndarray()
    assert processed.shape == (64, 32, 32, 3) and processed.dtype == np.uint8
    expected = sorted((255 - a).tobytes() for a in originals)
    assert sorted(p.tobytes() for p in processed) == expected


def test_wrong_or_missing_s3_credentials_are_a_clear_error_fast(s3_server, monkeypatch, ray_fresh):
    """Against the real endpoint: a wrong secret, then no keys at all, each an OSError naming
    the path, in seconds; the cluster works after them."""
    import time

    import ray

    fs = s3_server.filesystem()
    fs.create_dir("creds-bucket")
    with fs.open_output_stream("creds-bucket/data/x.parquet") as out:
        pq.write_table(pa.table({"a": [1]}), out)
    ray_fresh(num_cpus=1)
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    assert ray.data.read_parquet("s3://creds-bucket/data/").count() == 1
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    started = time.monotonic()
    with pytest.raises(OSError, match="s3://creds-bucket/data/"):
        ray.data.read_parquet("s3://creds-bucket/data/")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    with pytest.raises(OSError, match="s3://creds-bucket/data/"):
        ray.data.read_parquet("s3://creds-bucket/data/")
    assert time.monotonic() - started < 30
    assert ray.data.range(3).count() == 3
