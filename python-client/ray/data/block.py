"""Blocks: the unit Ray Data moves between tasks, a pyarrow Table. NumPy arrays per row of one
shape and dtype become a tensor column (Arrow's fixed-shape tensor extension type); arrays of
different shapes (images of different sizes) a variable-shaped tensor column (our extension
type, each row's values and shape). Either way images keep their shape and dtype through every
step and through Parquet."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import numpy as np
import pyarrow as pa


class VariableShapedTensorType(pa.ExtensionType):
    """A column of NumPy arrays of one dtype and number of dimensions, each of its own shape:
    stored as each row's values (flattened) and its shape. Ray calls its type
    ArrowVariableShapedTensorType."""

    def __init__(self, value_type: pa.DataType, ndim: int):
        self.ndim = ndim
        storage = pa.struct([("data", pa.large_list(value_type)), ("shape", pa.list_(pa.int64()))])
        super().__init__(storage, "ray_jvm.variable_shaped_tensor")

    def __arrow_ext_serialize__(self) -> bytes:
        return str(self.ndim).encode()

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type, serialized):
        return cls(storage_type.field("data").type.value_type, int(serialized.decode()))

    @property
    def value_type(self) -> pa.DataType:
        return self.storage_type.field("data").type.value_type

    def __reduce__(self):
        return VariableShapedTensorType, (self.value_type, self.ndim)


try:
    pa.register_extension_type(VariableShapedTensorType(pa.uint8(), 1))
except pa.ArrowKeyError:  # registered already (this module imported again)
    pass


def _variable_tensor_column(values: List[np.ndarray]) -> pa.Array:
    dtype, ndim = values[0].dtype, values[0].ndim
    if any(v.dtype != dtype or v.ndim != ndim for v in values):
        raise ValueError(
            "A column of NumPy arrays must have one dtype and one number of dimensions, got "
            f"{sorted({(str(v.dtype), v.ndim) for v in values})}"
        )
    value_type = pa.from_numpy_dtype(dtype)
    data = pa.LargeListArray.from_arrays(
        pa.array(np.cumsum([0] + [v.size for v in values]), pa.int64()),
        pa.array(np.concatenate([v.ravel() for v in values]) if values else np.array([], dtype), value_type),
    )
    shapes = pa.array([list(v.shape) for v in values], pa.list_(pa.int64()))
    storage = pa.StructArray.from_arrays([data, shapes], names=["data", "shape"])
    return pa.ExtensionArray.from_storage(VariableShapedTensorType(value_type, ndim), storage)


def _variable_tensor_numpy(col) -> np.ndarray:
    """An object array holding each row's array (as Ray gives ragged tensors)."""
    storage = col.storage if isinstance(col, pa.ExtensionArray) else col
    flat = storage.field("data")
    values = flat.values.to_numpy(zero_copy_only=False)
    offsets = flat.offsets.to_numpy()
    shapes = storage.field("shape").to_pylist()
    out = np.empty(len(shapes), dtype=object)
    for i, shape in enumerate(shapes):
        out[i] = values[offsets[i] : offsets[i + 1]].reshape(shape)
    return out


def _tensor_column(values: List[np.ndarray]) -> pa.Array:
    first = values[0]
    if any(not isinstance(v, np.ndarray) for v in values):
        raise ValueError("A column mixes NumPy arrays with other values")
    if any(v.shape != first.shape or v.dtype != first.dtype for v in values):
        return _variable_tensor_column(values)
    return pa.FixedShapeTensorArray.from_numpy_ndarray(np.ascontiguousarray(np.stack(values)))


def _as_variable(col: pa.ChunkedArray) -> pa.Array:
    if isinstance(col.type, VariableShapedTensorType):
        return col.combine_chunks()
    return _variable_tensor_column(list(column_numpy(pa.table({"c": col}), "c")))


def concat(tables: List[pa.Table]) -> pa.Table:
    """Blocks one after another; tensor columns whose shapes differ between blocks become one
    variable-shaped tensor column (as Ray unifies them)."""
    if len(tables) == 1:
        return tables[0]
    first = tables[0].schema
    if all(t.schema == first for t in tables[1:]):
        return pa.concat_tables(tables)
    tensor = (pa.FixedShapeTensorType, VariableShapedTensorType)
    names = [n for n in first.names if all(n in t.column_names and isinstance(t[n].type, tensor) for t in tables)]
    mixed = [n for n in names if len({str(t.schema.field(n).type) for t in tables}) > 1]
    if mixed:
        tables = [_with_variable(t, mixed) for t in tables]
    return pa.concat_tables(tables, promote_options="default")


def unify_schemas(schemas: List[pa.Schema]) -> pa.Schema:
    """The schema of blocks one after another (as ``concat`` makes it): a tensor column whose
    type differs between blocks is variable-shaped."""
    first = schemas[0]
    if all(s == first for s in schemas[1:]):
        return first
    tensor = (pa.FixedShapeTensorType, VariableShapedTensorType)
    fields = []
    for f in first:
        types = {str(s.field(f.name).type) for s in schemas if f.name in s.names}
        if len(types) > 1 and all(isinstance(s.field(f.name).type, tensor) for s in schemas if f.name in s.names):
            value_type = f.type.value_type
            ndim = len(f.type.shape) if isinstance(f.type, pa.FixedShapeTensorType) else f.type.ndim
            f = pa.field(f.name, VariableShapedTensorType(value_type, ndim))
        fields.append(f)
    try:
        return pa.unify_schemas([pa.schema(fields)] + [s for s in schemas if s.names != first.names])
    except pa.ArrowInvalid:
        return pa.schema(fields)


def _with_variable(table: pa.Table, names: List[str]) -> pa.Table:
    for n in names:
        table = table.set_column(table.column_names.index(n), n, _as_variable(table[n]))
    return table


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
            elif arr.dtype == object and len(arr) and isinstance(arr[0], np.ndarray):
                columns[name] = _tensor_column(list(arr))
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
    if isinstance(col.type, VariableShapedTensorType):
        return _variable_tensor_numpy(col.combine_chunks())
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
    if isinstance(t, VariableShapedTensorType):
        return f"ArrowVariableShapedTensorType(ndim={t.ndim}, dtype={t.value_type})"
    return str(t)
