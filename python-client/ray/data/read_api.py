"""Sources: in-memory data, ranges, and files (images, Parquet) split into read tasks."""

from __future__ import annotations

import builtins
from typing import Any, List, Optional, Sequence, Union

import numpy as np

from ray.data import block as blocks
from ray.data.dataset import Dataset
from ray.data.filesystem import expand, read_bytes
from ray.data.stages import _ref_reader, _Source

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif")


def _parallelism(n_items: int, override_num_blocks: Optional[int], size_bytes: Optional[int] = None) -> int:
    """How many read tasks (blocks): enough for the CPUs, and enough that a block stays under
    the target block size (DataContext.target_max_block_size, or an eighth of the smallest
    object store if that is less)."""
    if override_num_blocks is not None:
        if override_num_blocks <= 0:
            raise ValueError(f"override_num_blocks must be positive, got {override_num_blocks}")
        return min(override_num_blocks, max(n_items, 1))
    import ray
    from ray.data.context import DataContext
    from ray.data.stages import smallest_store

    cpus = int(ray.cluster_resources().get("CPU", 1))
    blocks_wanted = max(2 * cpus, 8)
    if size_bytes:
        target = min(DataContext.get_current().target_max_block_size, smallest_store() // 8)
        blocks_wanted = max(blocks_wanted, -(-size_bytes // max(target, 1)))
    return max(1, min(n_items, blocks_wanted))


def _split(items: Sequence[Any], parts: int) -> List[Sequence[Any]]:
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in builtins.range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def _items_reader(items):
    return lambda: blocks.from_rows([i if isinstance(i, dict) else {"item": i} for i in items])


def from_items(items: List[Any], *, override_num_blocks: Optional[int] = None) -> Dataset:
    """A dataset of ``items``: dicts are rows; other values become ``{"item": value}``."""
    if not isinstance(items, list):
        raise TypeError(f"from_items expects a list, got {type(items).__name__}")
    parts = _split(items, _parallelism(len(items), override_num_blocks)) if items else [[]]
    schema = blocks.from_rows([i if isinstance(i, dict) else {"item": i} for i in items[:1]]).schema if items else None
    return Dataset(_Source("FromItems", tuple(_items_reader(p) for p in parts), len(items), schema))


def _range_reader(start: int, end: int):
    def read():
        import numpy as np
        import pyarrow as pa

        return pa.table({"id": pa.array(np.arange(start, end, dtype=np.int64))})

    return read


def range(n: int, *, override_num_blocks: Optional[int] = None) -> Dataset:  # noqa: A001 - Ray's name
    """Rows ``{"id": 0}`` ... ``{"id": n - 1}``."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"range expects a non-negative int, got {n!r}")
    import pyarrow as pa

    parts = _parallelism(n, override_num_blocks, 8 * n)
    bounds = [(i * n // parts, (i + 1) * n // parts) for i in builtins.range(parts)]
    reads = tuple(_range_reader(a, b) for a, b in bounds)
    return Dataset(_Source("ReadRange", reads, n, pa.schema([("id", pa.int64())]), 8 * n))


def _tensor_range_reader(start: int, end: int, shape: tuple):
    def read():
        import numpy as np

        values = np.arange(start, end, dtype=np.int64).reshape((-1,) + (1,) * len(shape))
        return blocks.from_batch({"data": np.ascontiguousarray(np.broadcast_to(values, (end - start, *shape)))})

    return read


def range_tensor(n: int, *, shape: tuple = (1,), override_num_blocks: Optional[int] = None) -> Dataset:
    """Rows ``{"data": np.full(shape, i)}`` for i in 0 ... n - 1 (int64), as Ray."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"range_tensor expects a non-negative int, got {n!r}")
    shape = tuple(shape)
    if not shape or any(not isinstance(d, int) or d <= 0 for d in shape):
        raise ValueError(f"shape must be a tuple of positive ints, got {shape!r}")
    import pyarrow as pa

    row_bytes = 8 * int(np.prod(shape))
    parts = _parallelism(n, override_num_blocks, row_bytes * n)
    bounds = [(i * n // parts, (i + 1) * n // parts) for i in builtins.range(parts)]
    schema = pa.schema([("data", pa.fixed_shape_tensor(pa.int64(), list(shape)))])
    reads = tuple(_tensor_range_reader(a, b, shape) for a, b in bounds)
    return Dataset(_Source("ReadRange", reads, n, schema, row_bytes * n))


def _image_reader(files, size, mode, include_paths):
    def read():
        import io

        import numpy as np
        from PIL import Image

        rows = []
        for f in files:
            data = read_bytes(f)
            try:
                with Image.open(io.BytesIO(data)) as img:
                    if mode is not None:
                        img = img.convert(mode)
                    if size is not None:
                        img = img.resize((size[1], size[0]))
                    arr = np.asarray(img)
            except Exception as e:  # noqa: BLE001 - names the file
                raise ValueError(f"PIL couldn't load image file at path '{f.uri}'.") from e
            rows.append({"image": arr, "path": f.uri} if include_paths else {"image": arr})
        return blocks.from_rows(rows)

    return read


def read_images(
    paths: Union[str, List[str]],
    *,
    size: Optional[tuple] = None,
    mode: Optional[str] = None,
    include_paths: bool = False,
    filesystem=None,
    override_num_blocks: Optional[int] = None,
    file_extensions: Optional[List[str]] = None,
) -> Dataset:
    """Images (Pillow) as rows ``{"image": ndarray}`` (and ``"path"`` with include_paths), from
    local paths or ``s3://`` (or the given pyarrow ``filesystem``)."""
    if size is not None and (len(size) != 2 or any(not isinstance(s, int) or s <= 0 for s in size)):
        raise ValueError(f"size must be a pair of positive ints (height, width), got {size!r}")
    extensions = (
        tuple(e if e.startswith(".") else "." + e for e in file_extensions) if file_extensions else IMAGE_EXTENSIONS
    )
    files = expand(paths, extensions, filesystem)
    try:  # the first image tells the schema and, if the images are alike, the size decoded
        first = _image_reader(files[:1], size, mode, include_paths)()
    except ValueError:  # not an image: its read task raises, when the dataset runs (as in Ray)
        first = None
    size_bytes = first.nbytes * len(files) if first is not None else None
    parts = _split(files, _parallelism(len(files), override_num_blocks, size_bytes))
    reads = tuple(_image_reader(p, size, mode, include_paths) for p in parts)
    schema = first.schema if first is not None else None
    return Dataset(_Source("ReadImage", reads, len(files), schema, size_bytes, inferred=True))


def _parquet_reader(units, columns):
    def read():
        import pyarrow.parquet as pq

        tables = []
        for f, row_groups in units:
            fs, path = f.resolve()
            if row_groups is None:
                tables.append(pq.read_table(path, columns=columns, filesystem=fs))
            else:
                with fs.open_input_file(path) as fh:
                    tables.append(pq.ParquetFile(fh).read_row_groups(list(row_groups), columns=columns))
        return blocks.concat(tables)

    return read


def read_parquet(
    paths: Union[str, List[str]],
    *,
    columns: Optional[List[str]] = None,
    filesystem=None,
    override_num_blocks: Optional[int] = None,
) -> Dataset:
    """Parquet files (a file, a directory, a glob, or a list of them; local or ``s3://``), read
    by tasks that each take whole files or, for files of several row groups, row groups."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = expand(paths, (".parquet",), filesystem)
    rows = 0
    size_bytes = 0
    units = []  # (file, row groups or None for the whole file)
    for f in files:
        fs, path = f.resolve()
        with fs.open_input_file(path) as fh:
            meta = pq.ParquetFile(fh).metadata
        rows += meta.num_rows
        size_bytes += sum(meta.row_group(i).total_byte_size for i in builtins.range(meta.num_row_groups))
        if meta.num_row_groups > 1:
            units += [(f, (i,)) for i in builtins.range(meta.num_row_groups)]
        else:
            units.append((f, None))
    parts = _split(units, _parallelism(len(units), override_num_blocks, size_bytes))
    fs, path = files[0].resolve()
    schema = pq.read_schema(path, filesystem=fs)
    if columns is not None:
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise ValueError(f"Columns {missing} are not in {files[0].uri} (its columns: {schema.names})")
        schema = pa.schema([schema.field(c) for c in columns])
    return Dataset(_Source("ReadParquet", tuple(_parquet_reader(p, columns) for p in parts), rows, schema, size_bytes))


def _from_tables(tables, name: str) -> Dataset:
    import ray

    refs = [ray.put(t) for t in tables]
    rows = sum(t.num_rows for t in tables)
    return Dataset(_Source(name, tuple(_ref_reader(r) for r in refs), rows, tables[0].schema if tables else None))


def from_numpy(ndarrays) -> Dataset:
    """One block per array; each row holds ``{"data": array[i]}``."""
    import numpy as np

    arrays = ndarrays if isinstance(ndarrays, list) else [ndarrays]
    if not all(isinstance(a, np.ndarray) for a in arrays):
        raise TypeError("from_numpy expects a NumPy array or a list of them")
    return _from_tables([blocks.from_batch({"data": a}) for a in arrays], "FromNumpy")


def from_pandas(dfs) -> Dataset:
    """One block per DataFrame."""
    import pandas as pd

    frames = dfs if isinstance(dfs, list) else [dfs]
    if not all(isinstance(f, pd.DataFrame) for f in frames):
        raise TypeError("from_pandas expects a pandas DataFrame or a list of them")
    return _from_tables([blocks.from_batch(f) for f in frames], "FromPandas")


def from_arrow(tables) -> Dataset:
    """One block per pyarrow Table."""
    import pyarrow as pa

    ts = tables if isinstance(tables, list) else [tables]
    if not all(isinstance(t, pa.Table) for t in ts):
        raise TypeError("from_arrow expects a pyarrow Table or a list of them")
    return _from_tables(ts, "FromArrow")


def _file_reader(files, parse, include_paths: bool):
    def read():
        import pyarrow as pa

        tables = []
        for f in files:
            t = parse(read_bytes(f), f.uri)
            if include_paths:
                t = t.append_column("path", pa.array([f.uri] * t.num_rows))
            tables.append(t)
        return blocks.concat(tables)

    return read


def _read_files(name, paths, extensions, parse, filesystem, include_paths, override_num_blocks) -> Dataset:
    files = expand(paths, extensions, filesystem)
    parts = _split(files, _parallelism(len(files), override_num_blocks))
    return Dataset(_Source(name, tuple(_file_reader(p, parse, include_paths) for p in parts)))


def _parse_csv(data: bytes, uri: str):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        return pacsv.read_csv(pa.py_buffer(data))
    except Exception as e:  # noqa: BLE001 - names the file
        raise ValueError(f"Could not read CSV file {uri}: {e}") from e


def _parse_json(data: bytes, uri: str):
    import json

    text = data.decode()
    try:
        stripped = text.lstrip()
        if stripped.startswith("["):
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except Exception as e:  # noqa: BLE001 - names the file
        raise ValueError(f"Could not read JSON file {uri}: {e}") from e
    return blocks.from_rows(rows)


def _parse_text(data: bytes, uri: str):
    import pyarrow as pa

    return pa.table({"text": pa.array(data.decode().splitlines(), pa.string())})


def _parse_binary(data: bytes, uri: str):
    import pyarrow as pa

    return pa.table({"bytes": pa.array([data], pa.binary())})


def _parse_numpy(data: bytes, uri: str):
    import io

    import numpy as np

    return blocks.from_batch({"data": np.load(io.BytesIO(data), allow_pickle=False)})


def read_csv(paths, *, filesystem=None, include_paths: bool = False, override_num_blocks=None) -> Dataset:
    return _read_files("ReadCSV", paths, (".csv",), _parse_csv, filesystem, include_paths, override_num_blocks)


def read_json(paths, *, filesystem=None, include_paths: bool = False, override_num_blocks=None) -> Dataset:
    """JSON lines, or a JSON array of objects, per file."""
    return _read_files(
        "ReadJSON", paths, (".json", ".jsonl"), _parse_json, filesystem, include_paths, override_num_blocks
    )


def read_text(paths, *, filesystem=None, include_paths: bool = False, override_num_blocks=None) -> Dataset:
    """One row ``{"text": line}`` per line."""
    return _read_files("ReadText", paths, None, _parse_text, filesystem, include_paths, override_num_blocks)


def read_binary_files(paths, *, filesystem=None, include_paths: bool = False, override_num_blocks=None) -> Dataset:
    """One row ``{"bytes": contents}`` per file."""
    return _read_files("ReadBinary", paths, None, _parse_binary, filesystem, include_paths, override_num_blocks)


def read_numpy(paths, *, filesystem=None, include_paths: bool = False, override_num_blocks=None) -> Dataset:
    """``.npy`` files; each row ``{"data": array[i]}``."""
    return _read_files("ReadNumpy", paths, (".npy",), _parse_numpy, filesystem, include_paths, override_num_blocks)
