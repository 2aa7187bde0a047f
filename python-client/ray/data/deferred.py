"""Operators that need their whole input before they give a row (sort, shuffles, groupby, zip,
limit, union's resolution): planned lazily like every other operator, and run when the dataset
is consumed, each time it is consumed (as Ray does for a dataset that is not materialized).

A pure plan object: it holds a ``build`` function that runs the operator's input and returns a
plain dataset over the operator's output blocks; the stages added after it (``map`` and the
like) are fused onto that dataset's blocks as usual."""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Optional, Tuple

from ray.data.dataset import Dataset
from ray.data.stages import _Source


class DeferredDataset(Dataset):
    def __init__(
        self,
        name: str,
        build: Callable[[], Dataset],
        parent: Dataset,
        num_rows: Optional[int] = None,
        schema=None,
        stages: tuple = (),
    ):
        super().__init__(_Source(name, (), num_rows, schema), stages)
        self._build, self._parent = build, parent

    def _with(self, stage) -> Dataset:
        src = self._source
        return DeferredDataset(src.name, self._build, self._parent, src.num_rows, src.schema, self._stages + (stage,))

    def _resolved(self) -> Dataset:
        built = self._build()
        return Dataset(built._source, built._stages + self._stages)

    def _bundles(self, sink=None) -> Iterator[Tuple[Any, dict]]:
        inner = self._resolved()
        try:
            yield from inner._bundles(sink)
        finally:
            self._runs = getattr(inner, "_runs", None)

    def _plan_ops(self) -> List[str]:
        return [s.name for s in reversed(self._stages)] + [self._source.name] + self._parent._plan_ops()

    def _plan_base(self):
        return self._parent._plan_base()

    def _static_schema(self):
        return None if self._stages else self._source.schema


def deferred(
    name: str, build: Callable[[], Dataset], parent: Dataset, num_rows=None, same_schema: bool = True, schema=None
):
    """``parent`` followed by the operator ``name``; it keeps the parent's columns when
    ``same_schema`` (else has ``schema``, when known), and has ``num_rows`` rows when known."""
    return DeferredDataset(name, build, parent, num_rows, parent._static_schema() if same_schema else schema)
