"""Attribute writes held back and sent together: batch mode's replay of a dump.

A replayed dump sets tens of thousands of attributes, one statement each, and
on a database server every statement waits for its round trip. A batch line
whose command says it may (`Command.holds`: it sets attributes and reads none
after) runs `holding` a `Queue`: `queue` puts each attribute upsert there
instead of running it. The batch sends the queue (`Queue.send`: one
executemany per statement, which psycopg pipelines into one round trip)
before any line that does not hold, and before it commits. So no statement of
another line runs between a held write and its sending, and none can miss it.

A queued statement must change exactly one row when it succeeds and none when
it refuses (a name that differs from a stored one only in case), so that the
count of rows changed tells whether every one did. When one did not, or the
database refused one, `send` raises `NotSent`; which line queued it is found by
running the lines again without holding (cairn.cli.batch).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

_KEY = "cairn.held"  # session.info: the Queue of the line running now, if it holds
_COUNTED = {"preserve_rowcount": True}  # the sum over an executemany, kept past its cursor


class NotSent(Exception):
    """A held write was refused when sent; which line queued it is not known here."""


class Queue:
    """The writes that consecutive lines held back."""

    def __init__(self) -> None:
        self.writes: dict[Any, list[dict[str, Any]]] = {}  # statement: rows, in order

    def send(self, conn: Connection) -> None:
        """Runs what is held on `conn` (NotSent if any write was refused)."""
        try:
            for statement, rows in self.writes.items():
                done = conn.execute(statement, rows, execution_options=_COUNTED).rowcount
                if done != len(rows):
                    raise NotSent(f"{len(rows) - done} of {len(rows)} held writes were refused")
        except NotSent:
            raise
        except Exception as exc:
            raise NotSent(f"a held write was refused: {exc}") from exc


@contextmanager
def holding(session: Session, held: Queue) -> Iterator[None]:
    """While it lasts, `queue` holds this session's attribute writes in `held`."""
    session.info[_KEY] = held
    try:
        yield
    finally:
        session.info.pop(_KEY, None)


def queue(session: Session, statement: Any, row: dict[str, Any]) -> bool:
    """Holds `statement` with `row` if this session holds writes (True), else
    leaves it to the caller to run now (False)."""
    held: Queue | None = session.info.get(_KEY)
    if held is None:
        return False
    held.writes.setdefault(statement, []).append(row)
    return True
