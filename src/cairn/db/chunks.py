"""Long lists of ids, read in pieces of at most MANY bound values.

An IN list is always bound values, never pasted ids; SQLite refuses more
than 999 (older builds) or 32,766 bound values, and the servers slow down
long before their own limits. So a long list is read piece by piece.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Select
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
    conn = connection(session)
    for piece in pieces(ids):
        found.extend(conn.execute(query.where(one_of(session, column, piece))).all())
    return found


def connection(session: Session) -> Connection:
    """The session's connection, flushed first as the session's own queries
    are (unless autoflush is off): a select of columns run on it skips the
    ORM's loading of rows, which costs more than the query on big answers."""
    if session.autoflush:
        session.flush()
    return session.connection()


def one_of(session: Session, column: Any, ids: Sequence[Any]) -> Any:
    """`column IN (ids)`; on PostgreSQL `column = ANY(array)`: one bound array,
    where an IN list is a bound value per id that psycopg parses out of the
    query text each time (a tenth of the cost of listing 10,000 hosts)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(None, list(ids), type_=ARRAY(column.type)))
    return column.in_(ids)
