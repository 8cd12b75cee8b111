"""The one place results are printed: aligned tables, JSON, or plain text."""

from __future__ import annotations

import json
from typing import Any, TextIO

from cairn.cli.spec import Result, Table, Text


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render(result: Result, out: TextIO, *, header: bool = True, fmt: str = "text") -> None:
    if result is None:
        return
    if isinstance(result, Text):
        out.write(result.body)
        return
    if fmt == "json":
        keys = [c.lower() for c in result.columns]
        out.write(json.dumps([dict(zip(keys, row, strict=True)) for row in result.rows], indent=1))
        out.write("\n")
        return
    _render_table(result, out, header)


def _render_table(table: Table, out: TextIO, header: bool) -> None:
    rows = [[_cell(v) for v in row] for row in table.rows]
    heads = [c.upper() for c in table.columns]
    widths = [len(h) if header else 0 for h in heads]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    last = len(heads) - 1
    lines = []
    if header:
        lines.append(_line(heads, widths, last))
    lines.extend(_line(row, widths, last) for row in rows)
    if lines:
        out.write("\n".join(lines))
        out.write("\n")


def _line(cells: list[str], widths: list[int], last: int) -> str:
    return "  ".join(c if i == last else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()
