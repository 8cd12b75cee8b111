"""Running code against the database read-only, enforced by the database itself.

Used for plugin_preboot: inside `read_only(session)` any write fails (SQLite's
query_only pragma, PostgreSQL's read-only transaction mode, both inside a
savepoint), and everything is rolled back to the savepoint afterwards, so
nothing a plugin did can be stored even by accident. A write attempt surfaces
as ReadOnlyViolation.

MariaDB and MySQL cannot make a transaction read-only once it has begun, so
there every statement the block sends is checked before it is sent: only
reads (SELECT, SHOW, DESCRIBE) and savepoints pass. That also keeps out DDL,
which MariaDB would otherwise let commit the whole transaction.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cairn.errors import CairnError

_READ_ONLY_SQLSTATE = "25006"


class ReadOnlyViolation(CairnError):
    pass


# Leading whitespace, comments and parentheses before a statement's first word.
# MariaDB runs the text of /*! ... */ and /*M! ... */ comments, so those are
# not skipped: such a statement starts with "/" and is refused.
_LEAD = re.compile(r"(?:\s+|\(|/\*(?![!Mm])[\s\S]*?\*/|(?:--\s|#)[^\n]*(?:\n|$))*")
_READ_WORDS = frozenset({"select", "show", "describe", "desc", "savepoint", "release"})
# Reads that still change something: files on the server, and sequences
# (MariaDB keeps a sequence's change even when the transaction rolls back).
_SIDE_EFFECTS = re.compile(
    r"\b(?:outfile|dumpfile|nextval|setval|lastval)\b|\bnext\s+value\s+for\b", re.IGNORECASE
)


def is_read_statement(sql: str) -> bool:
    """True if `sql` is a read (or a savepoint) that cannot change anything.

    A statement-level check, for servers that cannot be switched read-only in
    the middle of a transaction: conservative, so anything unusual is refused.
    """
    rest = sql[_LEAD.match(sql).end() :]  # type: ignore[union-attr]
    word = re.match(r"[A-Za-z]+", rest)
    first = word.group(0).lower() if word else ""
    if first == "rollback":  # ROLLBACK TO [SAVEPOINT] x, never a whole ROLLBACK
        return bool(re.match(r"rollback\s+(?:work\s+)?to\b", rest, re.IGNORECASE))
    several = ";" in rest.rstrip().rstrip(";")  # a second statement after the first
    return first in _READ_WORDS and not several and not _SIDE_EFFECTS.search(rest)


def _refuse_writes(
    _conn: object, _cursor: object, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    if not is_read_statement(statement):
        raise ReadOnlyViolation("a write to the database was refused: it is read-only here")


def _refuse_flush(session: Session, _context: object, _instances: object) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyViolation("the database is read-only here: nothing may be changed")


def _refuse_commit(_session: Session) -> None:
    raise ReadOnlyViolation("the database is read-only here: nothing may be committed")


@contextlib.contextmanager
def read_only(session: Session) -> Iterator[None]:
    session.flush()
    dialect = session.get_bind().dialect.name
    savepoint = session.begin_nested()
    conn = session.connection()
    if dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = 1")
    elif dialect == "postgresql":
        conn.execute(text("SET TRANSACTION READ ONLY"))
    else:  # MariaDB, MySQL
        event.listen(conn, "before_cursor_execute", _refuse_writes)
    event.listen(session, "before_flush", _refuse_flush)
    event.listen(session, "before_commit", _refuse_commit)
    try:
        yield
    except DBAPIError as exc:
        if is_read_only_error(exc):
            raise ReadOnlyViolation(
                "a write to the database was refused: it is read-only here"
            ) from None
        raise
    finally:
        if event.contains(conn, "before_cursor_execute", _refuse_writes):
            event.remove(conn, "before_cursor_execute", _refuse_writes)
        event.remove(session, "before_flush", _refuse_flush)
        event.remove(session, "before_commit", _refuse_commit)
        savepoint.rollback()
        if dialect == "sqlite":
            session.connection().exec_driver_sql("PRAGMA query_only = 0")


def is_read_only_error(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) == _READ_ONLY_SQLSTATE:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    import sqlite3

    return code == sqlite3.SQLITE_READONLY
