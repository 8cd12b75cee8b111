"""Long lists of ids, read in pieces of at most MANY bound values.

An IN list is always bound values, never pasted ids; SQLite refuses more
than 999 (older builds) or 32,766 bound values, and the servers slow down
long before their own limits. So a long list is read piece by piece.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

MANY = 500  # the most bound values in one IN list
T = TypeVar("T")


def pieces(items: Sequence[T], size: int = MANY) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def where_in(
    session: Session, query: Select[*tuple[Any, ...]], column: Any, ids: Sequence[Any]
) -> list[Any]:
    """The rows of `query` whose `column` is one of `ids`, a piece of ids per statement."""
    found: list[Any] = []
    for piece in pieces(ids):
        found.extend(session.execute(query.where(column.in_(piece))).all())
    return found
