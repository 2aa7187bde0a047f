"""How a dataset prints, as Ray Data 2.60 prints it.

Two forms. When the schema is known without running anything (an in-memory source, a range, a
Parquet file's footer, or an operator that keeps its input's columns), a table of the columns
with a ``shape: (rows, columns)`` line; a materialized dataset also shows its first (and last)
rows. Otherwise the plan: one operator per line, its input nested below with ``+-``, down to
``Dataset(num_rows=..., schema={...})`` of the source."""

from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from ray.data import block as blocks

_ELLIPSIS = "…"
_MAX_ROWS = 10  # rows a materialized dataset previews
_HEAD_ROWS = 5  # of which from the start, when it has more
_CELL = 40  # widest cell
_LINE = 80  # widest summary line before it breaks
_INDENT = "   "


def _cell(text: str) -> str:
    return text if len(text) <= _CELL else text[: _CELL - 1] + _ELLIPSIS


def _value(v: Any) -> str:
    if isinstance(v, np.generic):
        v = v.item()
    return str(v).replace("\n", " ").replace("\r", " ")


def table(schema, num_rows: Optional[int], rows: Optional[List[List[dict]]]) -> str:
    """The table form. ``rows`` is None when not materialized, else [head rows, tail rows]."""
    names = list(schema.names)
    header = [_cell(n) for n in names]
    types = [_cell(blocks.type_str(t)) for t in schema.types]
    body: List[List[str]] = []
    if rows is not None:
        head, tail = rows
        body = [[_cell(_value(r.get(n))) for n in names] for r in head]
        if head and tail:
            body.append([_ELLIPSIS] * len(names))
        body += [[_cell(_value(r.get(n))) for n in names] for r in tail]
    widths = [max(len(x) for x in col) for col in zip(header, types, ["---"] * len(names), *body)]

    def line(cells):
        return "│" + "┆".join(f" {c.ljust(w)} " for c, w in zip(cells, widths)) + "│"

    def border(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    out = [
        f"shape: ({'?' if num_rows is None else num_rows}, {len(names)})",
        border("╭", "┬", "╮", "─"),
        line(header),
        line(["---"] * len(names)),
        line(types),
    ]
    if body:
        out.append(border("╞", "╪", "╡", "═"))
        out += [line(r) for r in body]
    out.append(border("╰", "┴", "╯", "─"))
    if rows is None:
        out.append("(Dataset isn't materialized)")
    else:
        shown = len(rows[0]) + len(rows[1])
        out.append(f"(Showing {shown} of {'?' if num_rows is None else num_rows} rows)")
    return "\n".join(out)


def preview_rows(tables, num_rows: int):
    """[head rows, tail rows] of a materialized dataset: all when it has at most 10 rows, else
    the first 5 and the last 5. ``tables`` is a function giving its blocks in order."""
    want_head = num_rows if num_rows <= _MAX_ROWS else _HEAD_ROWS
    want_tail = 0 if num_rows <= _MAX_ROWS else _MAX_ROWS - _HEAD_ROWS
    head: List[dict] = []
    for t in tables():
        if len(head) >= want_head:
            break
        head += list(blocks.iter_rows(t.slice(0, want_head - len(head))))
    tail: List[dict] = []
    if want_tail:
        for t in reversed(list(tables())):
            take = min(want_tail - len(tail), t.num_rows)
            tail = list(blocks.iter_rows(t.slice(t.num_rows - take, take))) + tail
            if len(tail) >= want_tail:
                break
    return [head, tail]


def summary(class_name: str, ops: List[str], num_rows: Optional[int], schema, num_blocks=None) -> str:
    """The plan form: ``ops`` from the last operator down, then the source's summary."""
    depth = len(ops)
    lines = [op if i == 0 else _INDENT * (i - 1) + "+- " + op for i, op in enumerate(ops)]
    fields = None if schema is None else [f"{n}: {blocks.type_str(t)}" for n, t in zip(schema.names, schema.types)]
    schema_text = "Unknown schema" if fields is None else "{" + ", ".join(fields) + "}"
    count = "?" if num_rows is None else num_rows
    blocks_text = f"num_blocks={num_blocks}, " if num_blocks else ""
    base = f"{class_name}({blocks_text}num_rows={count}, schema={schema_text})"
    if len(base) > _LINE:
        pad = _INDENT * depth
        if fields is not None and len(f"{pad}{_INDENT}schema={schema_text}") > _LINE:
            schema_text = "{\n" + ",\n".join(f"{pad}{_INDENT * 2}{f}" for f in fields) + f"\n{pad}{_INDENT}}}"
        blocks_line = f"\n{pad}{_INDENT}num_blocks={num_blocks}," if num_blocks else ""
        base = (
            f"{class_name}({blocks_line}\n{pad}{_INDENT}num_rows={count},\n{pad}{_INDENT}schema={schema_text}\n{pad})"
        )
    if depth:
        base = _INDENT * (depth - 1) + "+- " + base
    return "\n".join(lines + [base])
