"""The one place results are printed: aligned tables, JSON, or plain text.

A table whose rows are a list is printed whole, each column as wide as its
widest cell. A table whose rows are an iterator (a command streaming rows as
the database yields them) is printed a chunk of CHUNK rows at a time: the
first chunk sets the column widths, and a later cell wider than its column
pushes the rest of its line right, two spaces still apart. A table shorter
than CHUNK rows prints the same either way. Grouped rows (rows sharing their
first cell) print the same as their whole rows, a chunk being whole groups;
each distinct rest of a row is made text once. JSON is streamed too, as the
same array `json.dumps(rows, indent=1)` would print.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any, TextIO

from cairn.cli.spec import Grouped, Result, Table, Text

# A table row is one line of plain text: control characters inside a value are
# shown escaped (\n, \t, \x1b, ...) so they cannot break rows or drive the
# terminal (`report host attr` and output-format=json give values exactly).
_CONTROL = re.compile("[\x00-\x1f\x7f]")
_ONE_LINE = str.maketrans(
    {c: f"\\x{c:02x}" for c in [*range(32), 127]} | {10: "\\n", 13: "\\r", 9: "\\t"}
)
CHUNK = 10_000  # rows of a streamed table formatted at once
_UNPADDED = object()  # `_plain`: and no cell ends in a blank


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
    if isinstance(rows, Grouped) and len(names) > 1 and not result.hide_owner:
        _render_groups(names, rows, out, header)
        return
    if result.hide_owner and names:
        names, rows = names[1:], _without_owner(rows)
    chunks = [rows] if isinstance(rows, Sequence) else _chunks(rows)
    widths: list[int] | None = None
    for chunk in chunks:
        text, widths = _lines(names, chunk, header and widths is None, widths)
        out.write(text)
    if widths is None and header:  # no rows: the header alone
        out.write(_lines(names, [], header, None)[0])


def _render_groups(names: Sequence[str], rows: Grouped, out: TextIO, header: bool) -> None:
    """`render` of grouped rows: a group's lines are its first cell, padded, before
    the text of each rest of a row, made once per distinct rest."""
    tails: _Tails | None = None
    first_width = 0
    for chunk in _group_chunks(rows):
        if tails is None:
            widths = _group_widths(names, chunk, header)
            first_width = widths[0]
            tails = _Tails(widths[1:])
            if header:
                out.write(_lines(names, [], True, widths)[0])
        parts = []
        for first, rests in chunk:
            if rests:
                head = f"{_show(first):{first_width}}  "
                parts.append(head + ("\n" + head).join(map(tails.__getitem__, rests)))
        parts.append("")  # the last line's newline, without copying the text again
        text = "\n".join(parts)
        if tails.blank:  # a rest all blanks: its line loses the first cell's padding too
            text = "\n".join(map(str.rstrip, text.split("\n")))
        out.write(text)
    if tails is None and header:  # no rows: the header alone
        out.write(_lines(names, [], header, None)[0])


class _Tails(dict[tuple[Any, ...], str]):
    """{the cells of a row after the first: their text, padded to the widths}."""

    def __init__(self, widths: Sequence[int]) -> None:
        super().__init__()
        self.line = "  ".join([*(f"%-{w}s" for w in widths), "%s"])
        self.blank = False

    def __missing__(self, rest: tuple[Any, ...]) -> str:
        text = (self.line % tuple(map(_show, rest))).rstrip()
        # Only text is kept: 0 == False, and 1 == 1.0 == True, show apart.
        if all(type(cell) is str for cell in rest):
            self[rest] = text
        self.blank = self.blank or not text
        return text


_Group = tuple[Any, Sequence[tuple[Any, ...]]]  # (first cell, the rest of each row)


def _group_chunks(rows: Grouped) -> Iterator[list[_Group]]:
    """Whole groups, at least CHUNK rows a chunk but the last; none without rows."""
    chunk: list[_Group] = []
    size = 0
    for group in rows.groups:
        chunk.append(group)
        size += len(group[1])
        if size >= CHUNK:
            yield chunk
            chunk, size = [], 0
    if size:
        yield chunk


def _group_widths(names: Sequence[str], chunk: list[_Group], header: bool) -> list[int]:
    """The column widths of the header (if shown) and the chunk's rows (the last
    column unpadded)."""
    widths = [len(n) if header else 0 for n in names[:-1]]
    shown = {_show(first) for first, rests in chunk if rests}
    widths[0] = max([widths[0], *map(len, shown)])
    rows = [r for _, rests in chunk for r in rests]
    # Rows of text once each; others all (0 == False, yet they show apart).
    texts = {r for r in rows if all(type(cell) is str for cell in r)}
    for rest in chain(texts, (r for r in rows if r not in texts)):
        for i, cell in enumerate(rest[:-1], start=1):
            widths[i] = max(widths[i], len(_show(cell)))
    return widths


def _show(value: Any) -> str:
    """One cell as a table shows it: see `_cell`, control characters escaped."""
    text = _cell(value)
    return text.translate(_ONE_LINE) if _CONTROL.search(text) else text


def _without_owner(rows: Iterable[Sequence[Any]]) -> Iterable[Sequence[Any]]:
    if isinstance(rows, Sequence):
        return [row[1:] for row in rows]
    return (row[1:] for row in rows)


def _chunks(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _lines(
    names: Sequence[str], rows: Sequence[Sequence[Any]], header: bool, widths: list[int] | None
) -> tuple[str, list[int] | None]:
    """The text of these rows (and the header), and the column widths they used:
    the ones given, else the widths of these cells."""
    cells: list[Sequence[str]] = [tuple(n.upper() for n in names)] if header else []
    plain = _plain(rows)
    cells += rows if plain else _shown(rows, len(names))
    if not cells:
        return "", widths
    if widths is None:
        widths = [max(map(len, column)) for column in list(zip(*cells, strict=True))[:-1]]
    # One C-level % per line: a million cells in a fraction of a second. Lines
    # lose trailing blanks, which only a value ending in blanks can leave.
    line = "  ".join([*(f"%-{w}s" for w in widths), "%s"])
    lines = map(line.__mod__, cells)
    if plain is not _UNPADDED:
        lines = map(str.rstrip, lines)
    return "\n".join(lines) + "\n", widths


def _plain(rows: Sequence[Sequence[Any]]) -> bool | object:
    """Whether every cell already shows as itself: tuples of non-empty text
    with no control characters (`_UNPADDED` if none ends in a blank either).
    Checked on the distinct values, which repeat."""
    if set(map(type, rows)) - {tuple}:
        return False
    try:
        distinct = set(chain.from_iterable(rows))
    except TypeError:  # an unhashable cell: not text
        return False
    # A value of another type never equals a str, so one of each such value
    # stays in the set and shows here.
    if set(map(type, distinct)) - {str}:
        return False
    joined = "".join(distinct)
    if "" in distinct or not (joined.isprintable() or not _CONTROL.search(joined)):
        return False
    return True if any(map(str.isspace, {v[-1] for v in distinct})) else _UNPADDED


def _shown(rows: Sequence[Sequence[Any]], width: int) -> list[tuple[str, ...]]:
    """The rows as the text each cell shows, column by column (see `_cell`)."""
    columns = [list(c) for c in zip(*rows, strict=True)] or [[] for _ in range(width)]
    for i, column in enumerate(columns):
        if set(map(type, column)) - {str} or "" in column:
            columns[i] = column = [_cell(v) for v in column]
        if _CONTROL.search("".join(column)):  # one C-speed scan, not a call per cell
            columns[i] = [v.translate(_ONE_LINE) for v in column]
    return list(zip(*columns, strict=True))


def _render_json(table: Table, out: TextIO) -> None:
    """The rows as one JSON array of objects, written an object at a time."""
    keys = [c.lower() for c in table.columns]
    first = True
    for row in table.rows:
        item = json.dumps(dict(zip(keys, row, strict=True)), indent=1).replace("\n", "\n ")
        out.write(f"[\n {item}" if first else f",\n {item}")
        first = False
    out.write("[]\n" if first else "\n]\n")
