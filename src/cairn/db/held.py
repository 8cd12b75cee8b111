"""Writes held back and sent together: batch mode's replay of a dump.

A replayed dump sets tens of thousands of attributes, one statement each, and
on a database server every statement waits for its round trip. While a batch
chunk holds writes (`hold`), such a statement is queued (`queue`) instead of
run, and the queue goes to the database as one executemany per statement
(psycopg pipelines it: one round trip) before any other statement the
session's connection executes, and when the chunk ends (`release`). A
savepoint or a commit is not such a statement: the batch releases what is
held before it takes either.

A queued statement must change exactly one row when it succeeds and none when
it refuses, so that the count of rows changed tells whether every one did.
When one did not, or the database refused one, `send` raises `NotSent`: the
line that queued it ran long ago, so the batch runs its lines again one by
one, holding nothing back, and the error names its own line
(cairn.cli.batch).

A statement that neither reads nor changes the tables writes are held for
(the attribute tables) says so with the execution option `APART`, and the
queue stays held across it: `add host` between the attributes of a dump.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

APART = "cairn_apart_from_held"  # execution option: touches no table writes are held for
_KEY = "cairn.held"  # session.info: the _Queue of the session's transaction
_COUNTED = {"preserve_rowcount": True}  # the sum over an executemany, kept past its cursor


class NotSent(Exception):
    """A held write was refused when sent; which line queued it is not known here."""


class _Queue:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.writes: dict[Any, list[dict[str, Any]]] = {}  # statement: rows, in order

    def before(self, conn: Connection, clause: Any, multi: Any, params: Any, options: Any) -> None:
        # `options` holds the statement's own execution options too.
        if self.writes and not options.get(APART):
            self.send()

    def send(self) -> None:
        writes, self.writes = self.writes, {}  # emptied first: the sending runs this hook too
        try:
            for statement, rows in writes.items():
                sent = self.conn.execute(statement, rows, execution_options=_COUNTED)
                done = sent.rowcount
                if done != len(rows):
                    raise NotSent(f"{len(rows) - done} of {len(rows)} held writes were refused")
        except NotSent:
            raise
        except Exception as exc:
            raise NotSent(f"a held write was refused: {exc}") from exc


def hold(session: Session) -> None:
    """From now until `release`, `queue` holds writes of this session's transaction."""
    if _KEY in session.info:
        return
    conn = session.connection()
    queue = _Queue(conn)
    event.listen(conn, "before_execute", queue.before)
    session.info[_KEY] = queue


def queue(session: Session, statement: Any, row: dict[str, Any]) -> bool:
    """Holds `statement` with `row` if this session holds writes (True), else
    leaves it to the caller to run now (False)."""
    held: _Queue | None = session.info.get(_KEY)
    if held is None:
        return False
    held.writes.setdefault(statement, []).append(row)
    return True


def release(session: Session) -> None:
    """Sends what is held, then holds no more (NotSent, and holds no more, if
    one was refused)."""
    held: _Queue | None = session.info.pop(_KEY, None)
    if held is None:
        return
    event.remove(held.conn, "before_execute", held.before)
    if held.writes:
        held.send()


def drop(session: Session) -> None:
    """Forgets what is held (the transaction is being rolled back)."""
    held: _Queue | None = session.info.pop(_KEY, None)
    if held is not None:
        event.remove(held.conn, "before_execute", held.before)
