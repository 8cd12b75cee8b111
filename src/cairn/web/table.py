"""The VM table's one page: filtered, sorted and cut on the server from the rows `views.vms` joins.

The browser asks for one page at a time (`GET /api/vms?page=&size=&sort=&dir=
&q=&state=&container=&cluster=`) and gets those rows, how many match and how
many there are, and the facets (every state, container and cluster of the
session's VMs) for the filter menus: 10,000 VMs never cross the wire or the
browser's sort. The query is read here and checked (a bad one is a 400 with
what to fix); the filtering happens in Python on the compact rows, so no user
value ever reaches SQL. A tenant's rows are already cut to its cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cairn.web.commands import Failed
from cairn.web.vmrows import KEYS

Row = dict[str, Any]

FACETS = ("state", "container", "cluster")
SEARCHED = ("name", "state", "container", "cluster", "macs", "ips", "boot")
PAGE = 100
MAX_PAGE = 1000
MAX_TEXT = 200
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Query:
    page: int = 0
    size: int = PAGE
    sort: str = "name"
    descending: bool = False
    words: tuple[str, ...] = ()
    wanted: tuple[tuple[str, str], ...] = ()  # (facet, value): rows whose facet is value


def query(given: Mapping[str, str]) -> Query:
    """The Query a request's parameters ask for; Failed(400) says what is wrong."""
    unknown = sorted(set(given) - {"page", "size", "sort", "dir", "q", *FACETS})
    if unknown:
        raise Failed(400, f"unknown parameter {unknown[0]!r}: use page, size, sort, dir, q, "
                     + ", ".join(FACETS))  # fmt: skip
    page = _number(given, "page", 0, 0, 10**6)
    size = _number(given, "size", PAGE, 1, MAX_PAGE)
    sort = given.get("sort", "name")
    if sort not in KEYS:
        raise Failed(400, f"sort={sort!r}: sort by one of {', '.join(KEYS)}")
    direction = given.get("dir", "asc")
    if direction not in ("asc", "desc"):
        raise Failed(400, f"dir={direction!r}: use asc or desc")
    text = given.get("q", "")
    for key, value in given.items():
        if len(value) > MAX_TEXT:
            raise Failed(400, f"{key} is longer than {MAX_TEXT} characters")
    wanted = tuple((key, given[key]) for key in FACETS if given.get(key))
    return Query(page, size, sort, direction == "desc", tuple(text.lower().split()), wanted)


def _number(given: Mapping[str, str], key: str, default: int, low: int, high: int) -> int:
    value = given.get(key)
    if value is None or value == "":
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise Failed(400, f"{key}={value!r}: give a whole number from {low} to {high}")
    return int(value)


def page(rows: Sequence[Row], q: Query) -> Row:
    """The answer for one page: its rows, `matched`, `total`, the page number
    (moved back to the last page when past it), `pages` and the `facets`."""
    matching = [r for r in rows if _wanted(r, q)]
    # None and text sort after numbers either way round, as a table reads best.
    matching.sort(key=lambda r: _key(r.get(q.sort)), reverse=q.descending)
    pages = max(1, -(-len(matching) // q.size))
    number = min(q.page, pages - 1)
    return {
        "vms": matching[number * q.size : (number + 1) * q.size],
        "matched": len(matching),
        "total": len(rows),
        "page": number,
        "pages": pages,
        "size": q.size,
        "facets": {f: sorted({str(r[f]) for r in rows if r.get(f) is not None}) for f in FACETS},
    }


def _wanted(row: Row, q: Query) -> bool:
    for key, value in q.wanted:
        if str(row.get(key) if row.get(key) is not None else "") != value:
            return False
    if not q.words:
        return True
    hay = " ".join(_text(row.get(k)) for k in SEARCHED).lower()
    return all(w in hay for w in q.words)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


def _key(value: Any) -> tuple[Any, ...]:
    """Numbers by value; text naturally (vm-2 before vm-10), without regard to case."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, value)
    return (1, _natural(_text(value).lower()))


# Every request sorts every VM: a name's key is worked out once, not each time.
@lru_cache(maxsize=1 << 15)
def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    parts = _DIGITS.split(text)
    return tuple((1, int(p), "") if i % 2 else (0, 0, p) for i, p in enumerate(parts))
