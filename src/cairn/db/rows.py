"""Plain SQL reads that run with or without SQLAlchemy.

Importing SQLAlchemy and mapping the models costs about 200 ms, more than
everything else a one-host read does. So the reads behind the commands run
most often (host lookup and attribute resolution) are written once, as SQL
with `?` placeholders, and run through a `Rows` function: over a command's
session when it has one (same transaction, pending changes flushed first),
or, for a read-only command, straight over the DB-API driver (sqlite3 for
the embedded database, psycopg for PostgreSQL). Values are always bound,
never pasted: only placeholders are generated.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cairn.db.head import HEAD
from cairn.db.url import unreachable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Rows = Callable[[str, Sequence[object]], list[tuple[Any, ...]]]
BUSY_TIMEOUT_S = 60


def placeholders(n: int) -> str:
    """`?, ?, ?` for an IN list of n bound values."""
    return ", ".join("?" * n)


def statement_counter() -> Callable[[], None]:
    """A tick per SQL statement; with CAIRN_SQL_COUNT set, the total is printed at exit."""
    count = [0]

    def tick() -> None:
        count[0] += 1

    if os.environ.get("CAIRN_SQL_COUNT"):
        atexit.register(lambda: print(f"sql-statements: {count[0]}", file=sys.stderr))
    return tick


def over_session(session: Session) -> Rows:
    """Reads in the session's own transaction, seeing what it has not committed yet."""
    session.flush()
    conn = session.connection()
    fmt = conn.dialect.paramstyle in ("format", "pyformat")  # psycopg, PyMySQL

    def rows(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        assert "%" not in sql, "no % in shared SQL: drivers read it differently"
        if fmt:
            sql = sql.replace("?", "%s")
        return [tuple(r) for r in conn.exec_driver_sql(sql, tuple(params)).all()]

    return rows


class Direct:
    """A read-only connection straight through the DB-API driver, in one snapshot."""

    def __init__(self, conn: Any, *, fmt: bool) -> None:
        self._conn = conn
        self._fmt = fmt  # the driver wants %s, not ?
        self._tick = statement_counter()

    def __call__(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        self._tick()
        if self._fmt:
            sql = sql.replace("?", "%s")
        return [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]

    def check(self) -> bool:
        """True if the database is at this cairn's schema."""
        return self("SELECT version_num FROM alembic_version", ()) == [(HEAD,)]

    def close(self) -> None:
        self._conn.close()


def open_direct(url: str) -> Direct | None:
    """Direct reads when `url` is SQLite or PostgreSQL at this cairn's schema, else None.

    None sends the caller to the SQLAlchemy path, which creates or upgrades
    the database, or explains why it cannot be opened. A PostgreSQL server
    that cannot be reached is reported here, so it is not tried twice.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "sqlite":
        return _sqlite(rest[1:]) if rest.startswith("/") else None
    if sep and scheme in ("postgresql", "postgresql+psycopg", "postgres"):
        return _postgresql(f"postgresql://{rest}", url)
    return None


def _sqlite(path: str) -> Direct | None:
    if not path or path == ":memory:" or "?" in path:
        return None
    import sqlite3

    try:
        # mode=rw: never create a file here; query_only: never write through it.
        conn = sqlite3.connect(
            f"file:{quote(path)}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
        )
    except sqlite3.Error:
        return None
    setup = (f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}", "PRAGMA query_only=ON", "BEGIN")
    return _at_head(conn, sqlite3.Error, setup, fmt=False)


def _postgresql(conninfo: str, url: str) -> Direct | None:
    import psycopg

    try:
        conn = psycopg.connect(conninfo)
    except psycopg.OperationalError as exc:
        raise unreachable(url, str(exc).strip().splitlines()[0]) from None
    except psycopg.Error:
        return None  # e.g. an option libpq does not know: SQLAlchemy may
    setup = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",)
    return _at_head(conn, psycopg.Error, setup, fmt=True)


def _at_head(
    conn: Any, error: type[Exception], setup: Sequence[str], *, fmt: bool
) -> Direct | None:
    """Direct reads over `conn` after its set-up, if the schema is this cairn's; else None."""
    try:
        for sql in setup:
            conn.execute(sql)
        direct = Direct(conn, fmt=fmt)
        if direct.check():
            return direct
    except error:
        pass
    conn.close()
    return None
