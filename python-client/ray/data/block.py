"""Blocks: the unit Ray Data moves between tasks, a pyarrow Table. NumPy arrays per row of one
shape and dtype become a tensor column (Arrow's fixed-shape tensor extension type), so images
keep their shape and dtype through every step and through Parquet."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import numpy as np
import pyarrow as pa


def _tensor_column(values: List[np.ndarray]) -> pa.Array:
    first = values[0]
    if any(not isinstance(v, np.ndarray) or v.shape != first.shape or v.dtype != first.dtype for v in values):
        raise NotImplementedError(
            "Columns of NumPy arrays of different shapes or dtypes (variable-shaped tensors) are not supported by "
            "this Ray Data yet"
        )
    return pa.FixedShapeTensorArray.from_numpy_ndarray(np.ascontiguousarray(np.stack(values)))


def _column(values: List[Any]) -> pa.Array:
    first = next((v for v in values if v is not None), None)
    if isinstance(first, np.ndarray) and first.ndim >= 1:
        return _tensor_column(values)
    return pa.array(values)


def from_rows(rows: List[Dict[str, Any]]) -> pa.Table:
    """A block of rows (dicts)."""
    names: Dict[str, None] = {}
    for r in rows:
        if not isinstance(r, dict):
            raise TypeError(f"Rows must be dicts, got {type(r).__name__}: {r!r}")
        names.update(dict.fromkeys(r))
    return pa.table({n: _column([r.get(n) for r in rows]) for n in names})


def from_batch(batch: Any) -> pa.Table:
    """A block from a batch: a dict of NumPy arrays (or lists), a pandas DataFrame, or a Table."""
    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, dict):
        columns = {}
        for name, values in batch.items():
            arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
            if arr.ndim > 1:
                columns[name] = pa.FixedShapeTensorArray.from_numpy_ndarray(np.ascontiguousarray(arr))
            elif arr.dtype == object:
                columns[name] = _column(list(arr))
            else:
                columns[name] = pa.array(arr)
        return pa.table(columns)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency of ray[data]
        pd = None
    if pd is not None and isinstance(batch, pd.DataFrame):
        return (
            from_rows(batch.to_dict("records"))
            if _has_arrays(batch)
            else pa.Table.from_pandas(batch, preserve_index=False)
        )
    raise TypeError(
        f"A batch must be a dict of NumPy arrays, a pandas DataFrame or a pyarrow Table, got {type(batch).__name__}"
    )


def _has_arrays(df) -> bool:
    return any(df[c].dtype == object and len(df) and isinstance(df[c].iloc[0], np.ndarray) for c in df.columns)


def column_numpy(table: pa.Table, name: str) -> np.ndarray:
    col = table[name]
    if isinstance(col.type, pa.FixedShapeTensorType):
        return col.combine_chunks().to_numpy_ndarray()
    return col.to_numpy(zero_copy_only=False)


def to_batch(table: pa.Table, batch_format: str) -> Any:
    if batch_format in ("default", "numpy"):
        return {n: column_numpy(table, n) for n in table.column_names}
    if batch_format == "pandas":
        import pandas as pd

        return pd.DataFrame({n: list(v) if v.ndim > 1 else v for n, v in to_batch(table, "numpy").items()})
    if batch_format == "pyarrow":
        return table
    raise ValueError(f"batch_format must be one of 'default', 'numpy', 'pandas', 'pyarrow', got {batch_format!r}")


def _item(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def iter_rows(table: pa.Table) -> Iterator[Dict[str, Any]]:
    columns = {n: column_numpy(table, n) for n in table.column_names}
    for i in range(table.num_rows):
        yield {n: _item(c[i]) for n, c in columns.items()}


def type_str(t: pa.DataType) -> str:
    """A column type as Ray prints it."""
    if isinstance(t, pa.FixedShapeTensorType):
        return f"ArrowTensorTypeV2(shape={tuple(t.shape)}, dtype={t.value_type})"
    return str(t)
