"""Plain SQL reads that run with or without SQLAlchemy.

Importing SQLAlchemy and mapping the models costs about 200 ms, more than
everything else a one-host read does. So the reads behind the commands run
most often (host lookup and attribute resolution) are written once, as SQL
with `?` placeholders, and run through a `Rows` function: over a command's
session when it has one (same transaction, pending changes flushed first),
or, for a read-only command on the embedded SQLite database, straight over
the standard library's sqlite3. Values are always bound, never pasted: only
placeholders are generated.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cairn.db.head import HEAD

if TYPE_CHECKING:
    import sqlite3

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


class Embedded:
    """A read-only sqlite3 connection to the embedded database, in one snapshot."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._tick = statement_counter()

    def __call__(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        self._tick()
        return self._conn.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        self._conn.close()


def open_embedded(url: str) -> Embedded | None:
    """Embedded when `url` is an SQLite file already at this cairn's schema, else None.

    None sends the caller to the SQLAlchemy path, which creates or upgrades
    the database, or says clearly why it cannot be opened.
    """
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :]
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
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        conn.execute("PRAGMA query_only=ON")
        conn.execute("BEGIN")
        embedded = Embedded(conn)
        found = embedded("SELECT version_num FROM alembic_version", ())
    except sqlite3.Error:
        conn.close()
        return None
    if found != [(HEAD,)]:
        conn.close()
        return None
    return embedded
