"""Ray Data (first slice): lazy datasets of Arrow blocks, run as Ray tasks that stream through
the cluster. Built so far: ``range``, ``from_items``, ``read_images`` and ``read_parquet`` (local
paths), ``map`` (also with an ``@ray.remote`` function, as the tutorial writes it),
``map_batches``, ``filter``, ``flat_map``, the consumers, and ``write_parquet``. See README for
what is not built yet."""

from ray.data.context import DataContext
from ray.data.dataset import Dataset, MaterializedDataset, Schema
from ray.data.read_api import (  # noqa: A004
    from_arrow,
    from_items,
    from_numpy,
    from_pandas,
    range,
    range_tensor,
    read_binary_files,
    read_csv,
    read_images,
    read_json,
    read_numpy,
    read_parquet,
    read_text,
)

__all__ = [
    "DataContext",
    "Dataset",
    "MaterializedDataset",
    "Schema",
    "from_arrow",
    "from_items",
    "from_numpy",
    "from_pandas",
    "read_binary_files",
    "read_csv",
    "read_json",
    "read_numpy",
    "read_text",
    "range",
    "range_tensor",
    "read_images",
    "read_parquet",
]
