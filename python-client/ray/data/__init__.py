"""Ray Data: lazy datasets of Arrow blocks, run as Ray tasks and actor pools that stream through
the cluster. README lists what is built and what is not yet."""

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
