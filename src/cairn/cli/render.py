"""The one place results are printed: aligned tables, JSON, or plain text.

A table whose rows are a list is printed whole, each column as wide as its
widest cell. A table whose rows are an iterator (a command streaming rows as
the database yields them) is printed a chunk of CHUNK rows at a time: the
first chunk sets the column widths, and a later cell wider than its column
pushes the rest of its line right, two spaces still apart. A table shorter
than CHUNK rows prints the same either way. JSON is streamed too, as the
same array `json.dumps(rows, indent=1)` would print.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TextIO

from cairn.cli.spec import Result, Table, Text

# A table row is one line of plain text: control characters inside a value are
# shown escaped (\n, \t, \x1b, ...) so they cannot break rows or drive the
# terminal (`report host attr` and output-format=json give values exactly).
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_ONE_LINE = str.maketrans(
    {c: f"\\x{c:02x}" for c in [*range(32), 127]} | {10: "\\n", 13: "\\r", 9: "\\t"}
)
CHUNK = 10_000  # rows of a streamed table formatted at once


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
        _render_json(result, out)
        return
    names, rows = result.columns, result.rows
    if result.hide_owner and names:
        names, rows = names[1:], _without_owner(rows)
    chunks = [rows] if isinstance(rows, Sequence) else _chunks(rows)
    line_format: str | None = None
    for chunk in chunks:
        text, line_format = _lines(names, chunk, header and line_format is None, line_format)
        out.write(text)
    if line_format is None and header:  # no rows: the header alone
        out.write(_lines(names, [], header, None)[0])


def _without_owner(rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    if isinstance(rows, Sequence):
        return [row[1:] for row in rows]
    return (row[1:] for row in rows)


def _chunks(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _lines(
    names: Sequence[str], rows: Sequence[Sequence[Any]], header: bool, line_format: str | None
) -> tuple[str, str | None]:
    """The text of these rows (and the header), and the line format they used:
    the one given, else one from the widths of these cells."""
    # Column-wise, so that the common all-text column costs no Python call per cell.
    columns = [list(c) for c in zip(*rows, strict=True)] or [[] for _ in names]
    for i, column in enumerate(columns):
        if set(map(type, column)) - {str} or "" in column:
            columns[i] = column = [_cell(v) for v in column]
        if _CONTROL.search("".join(column)):  # one C-speed scan, not a call per cell
            columns[i] = [v.translate(_ONE_LINE) for v in column]
    if header:
        for column, name in zip(columns, names, strict=True):
            column.insert(0, name.upper())
    if not columns or not columns[0]:
        return "", line_format
    if line_format is None:
        widths = [max(map(len, column)) for column in columns]
        line_format = "  ".join([*(f"{{:<{w}}}" for w in widths[:-1]), "{}"])
    fmt = line_format.format
    return "\n".join([fmt(*row).rstrip() for row in zip(*columns, strict=True)]) + "\n", line_format


def _render_json(table: Table, out: TextIO) -> None:
    """The rows as one JSON array of objects, written an object at a time."""
    keys = [c.lower() for c in table.columns]
    first = True
    for row in table.rows:
        item = json.dumps(dict(zip(keys, row, strict=True)), indent=1).replace("\n", "\n ")
        out.write(f"[\n {item}" if first else f",\n {item}")
        first = False
    out.write("[]\n" if first else "\n]\n")
