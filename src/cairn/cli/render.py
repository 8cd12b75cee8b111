"""The one place results are printed: aligned tables, JSON, or plain text."""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

from cairn.cli.spec import Result, Table, Text

# A table row is one line of plain text: control characters inside a value are
# shown escaped (\n, \t, \x1b, ...) so they cannot break rows or drive the
# terminal (`report host attr` and output-format=json give values exactly).
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_ONE_LINE = str.maketrans(
    {c: f"\\x{c:02x}" for c in [*range(32), 127]} | {10: "\\n", 13: "\\r", 9: "\\t"}
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if value == "":
        return '""'  # an empty cell would shift the columns after it for awk
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
    if result.hide_owner and result.columns:
        result = Table(result.columns[1:], [row[1:] for row in result.rows])
    _render_table(result, out, header)


def _render_table(table: Table, out: TextIO, header: bool) -> None:
    # Column-wise, so that the common all-text column costs no Python call per cell.
    columns = [list(c) for c in zip(*table.rows, strict=True)] or [[] for _ in table.columns]
    for i, column in enumerate(columns):
        if set(map(type, column)) - {str} or "" in column:
            columns[i] = column = [_cell(v) for v in column]
        if _CONTROL.search("".join(column)):  # one C-speed scan, not a call per cell
            columns[i] = [v.translate(_ONE_LINE) for v in column]
    if header:
        for column, name in zip(columns, table.columns, strict=True):
            column.insert(0, name.upper())
    if not columns[0]:
        return
    widths = [max(map(len, column)) for column in columns]
    fmt = "  ".join([*(f"{{:<{w}}}" for w in widths[:-1]), "{}"])
    out.write("\n".join([fmt.format(*row).rstrip() for row in zip(*columns, strict=True)]))
    out.write("\n")
