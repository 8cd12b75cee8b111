"""Running code against the database read-only, enforced by the database itself.

Used for plugin_preboot: inside `read_only(session)` any write fails (SQLite's
query_only pragma, PostgreSQL's read-only transaction mode, both inside a
savepoint), and everything is rolled back to the savepoint afterwards, so
nothing a plugin did can be stored even by accident. A write attempt surfaces
as ReadOnlyViolation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cairn.errors import CairnError

_READ_ONLY_SQLSTATE = "25006"


class ReadOnlyViolation(CairnError):
    pass


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
