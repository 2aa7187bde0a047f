"""Where datasets are read from and written to: local paths, and ``s3://`` through pyarrow.fs
(endpoint and credentials from the standard AWS environment variables, or a ``filesystem=``).

What travels to the read and write tasks is a ``Location``: the path, and the filesystem only
when the user gave one; otherwise each task resolves ``s3://`` from its own environment, so the
driver's credentials are never pickled into tasks."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple, Union


@dataclass(frozen=True)
class Location:
    uri: str  # as the user wrote it (s3://bucket/key, or a local path)
    filesystem: Any = None  # the user's pyarrow filesystem, if any

    def resolve(self) -> Tuple[Any, str]:
        """(pyarrow filesystem, path in it)."""
        import pyarrow.fs as pafs

        if self.filesystem is not None:
            return self.filesystem, _strip_scheme(self.uri)
        if "://" in self.uri and not self.uri.startswith("local://"):
            try:
                return pafs.FileSystem.from_uri(self.uri)
            except Exception as e:  # noqa: BLE001 - named for the user
                raise OSError(f"Cannot open {self.uri}: {type(e).__name__}: {e}") from e
        return pafs.LocalFileSystem(), os.path.abspath(_strip_scheme(self.uri))

    def child(self, name: str) -> Location:
        return Location(self.uri.rstrip("/") + "/" + name, self.filesystem)


def _strip_scheme(uri: str) -> str:
    return uri.split("://", 1)[1] if "://" in uri else uri


def expand(paths: Union[str, List[str]], extensions: Optional[tuple], filesystem=None) -> List[Location]:
    """The files under ``paths`` (files, directories searched recursively, local globs), sorted,
    keeping those with one of ``extensions``. Raises FileNotFoundError naming a missing path."""
    import pyarrow.fs as pafs

    if isinstance(paths, str):
        paths = [paths]
    out: List[Location] = []
    for p in paths:
        loc = Location(p, filesystem)
        fs, path = loc.resolve()
        remote = "://" in p and not p.startswith("local://")
        prefix = p.split("://", 1)[0] + "://" if remote else ""
        if not remote and any(c in path for c in "*?["):
            out += [Location(f, filesystem) for f in sorted(glob.glob(path, recursive=True)) if os.path.isfile(f)]
            continue
        try:
            info = fs.get_file_info(path)
            if info.type == pafs.FileType.Directory:
                infos = fs.get_file_info(pafs.FileSelector(path, recursive=True))
                names = sorted(i.path for i in infos if i.type == pafs.FileType.File)
                out += [Location(prefix + n, filesystem) for n in names if not os.path.basename(n).startswith(".")]
            elif info.type == pafs.FileType.File:
                out.append(Location(prefix + path if remote else path, filesystem))
            else:
                raise FileNotFoundError(f"No such file or directory: '{p}'")
        except FileNotFoundError:
            raise
        except Exception as e:  # noqa: BLE001 - an unreachable endpoint, missing credentials, ...
            raise OSError(f"Cannot list {p}: {type(e).__name__}: {e}") from e
    if extensions:
        out = [loc for loc in out if loc.uri.lower().endswith(extensions)]
    if not out:
        raise ValueError(f"No input files found to read under {paths} (looked for {', '.join(extensions or ())})")
    return out


def read_bytes(loc: Location) -> bytes:
    fs, path = loc.resolve()
    with fs.open_input_file(path) as f:
        return f.read()


def write_table(table, loc: Location, fmt: str = "parquet", column: Optional[str] = None) -> str:
    """Writes a block as one file: Parquet, CSV, JSON lines, or one column as a .npy array."""
    fs, path = loc.resolve()
    parent = path.rsplit("/", 1)[0]
    try:
        fs.create_dir(parent, recursive=True)
    except Exception:  # noqa: BLE001 - object stores have no directories to make
        pass
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path, filesystem=fs)
        return loc.uri
    if fmt == "images":  # one file per row: <loc>_<row>.<ext>; column = (name, file format)
        import io

        from PIL import Image

        from ray.data import block as blocks

        name, file_format = column
        for i, arr in enumerate(blocks.column_numpy(table, name)):
            buf = io.BytesIO()
            Image.fromarray(arr).save(buf, format=file_format.upper().replace("JPG", "JPEG"))
            with fs.open_output_stream(f"{path}_{i:06d}.{file_format}") as out:
                out.write(buf.getvalue())
        return loc.uri
    with fs.open_output_stream(path) as out:
        if fmt == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, out)
        elif fmt == "json":
            import json

            from ray.data import block as blocks

            for row in blocks.iter_rows(table):
                out.write((json.dumps({k: _jsonable(v) for k, v in row.items()}) + "\n").encode())
        elif fmt == "numpy":
            import io

            import numpy as np

            from ray.data import block as blocks

            buf = io.BytesIO()
            np.save(buf, blocks.column_numpy(table, column))
            out.write(buf.getvalue())
        else:
            raise ValueError(f"unknown output format {fmt}")
    return loc.uri


def _jsonable(v):
    import numpy as np

    return v.tolist() if isinstance(v, np.ndarray) else v
