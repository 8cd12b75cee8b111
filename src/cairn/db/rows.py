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
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote

from cairn.db.head import HEAD
from cairn.db.url import unreachable
from cairn.errors import CairnError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Rows = Callable[[str, Sequence[object]], list[tuple[Any, ...]]]
BUSY_TIMEOUT_S = 60
MANY = 500  # more bound values than this: read them all and filter (SQLite caps at 999+)
# The plain PostgreSQL URLs this module reads itself: parts of unreserved
# characters or %XX escapes, a host name or IPv4 address. Anything else (IPv6,
# raw delimiters in a password) is left to SQLAlchemy, which may read it differently.
_PART = r"(?:[^:/@?#\[\]%\s]|%[0-9A-Fa-f]{2})*"
_PG_URL = re.compile(
    rf"postgresql(?:\+psycopg)?://(?:(?P<user>{_PART})(?::(?P<password>{_PART}))?@)?"
    rf"(?P<host>[A-Za-z0-9._-]*)(?::(?P<port>\d+))?(?:/(?P<dbname>{_PART}))?"
    r"(?:\?(?P<query>[^#@/\s]*))?"
)
_statements = [0]


def placeholders(n: int) -> str:
    """`?, ?, ?` for an IN list of n bound values."""
    return ", ".join("?" * n)


def tick() -> None:
    """Count one SQL statement (see CAIRN_SQL_COUNT)."""
    _statements[0] += 1


if os.environ.get("CAIRN_SQL_COUNT"):
    atexit.register(lambda: print(f"sql-statements: {_statements[0]}", file=sys.stderr))


def _driver_sql(sql: str, fmt: bool) -> str:
    """`?` placeholders as the driver wants them (psycopg and PyMySQL: %s)."""
    if "%" in sql:
        raise ValueError("shared SQL must not contain %: drivers read it differently")
    return sql.replace("?", "%s") if fmt else sql


def over_session(session: Session) -> Rows:
    """Reads in the session's own transaction, seeing what it has not committed yet."""
    session.flush()
    conn = session.connection()
    fmt = conn.dialect.paramstyle in ("format", "pyformat")

    def rows(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in conn.exec_driver_sql(_driver_sql(sql, fmt), tuple(params)).all()]

    return rows


class Direct:
    """A read-only connection straight through the DB-API driver, in one snapshot."""

    def __init__(self, conn: Any, error: type[Exception], *, fmt: bool) -> None:
        self._conn = conn
        self._error = error  # the driver's base exception
        self._fmt = fmt

    def __call__(self, sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        tick()
        try:
            cursor = self._conn.execute(_driver_sql(sql, self._fmt), tuple(params))
            if cursor.description is None:  # a statement that returns no rows
                return []
            return [tuple(r) for r in cursor.fetchall()]
        except self._error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CairnError(f"the database refused the read: {reason}") from None

    def check(self) -> bool:
        """True if the database is at this cairn's schema."""
        try:
            return self("SELECT version_num FROM alembic_version", ()) == [(HEAD,)]
        except CairnError:
            return False

    def close(self) -> None:
        self._conn.close()


def open_direct(url: str) -> Direct | None:
    """Direct reads when `url` is SQLite or PostgreSQL at this cairn's schema, else None.

    None sends the caller to the SQLAlchemy path, which creates or upgrades
    the database, or explains why it cannot be opened; so does a URL this
    module would read differently from SQLAlchemy. A PostgreSQL server that
    cannot be reached is reported here, so it is not tried twice.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "sqlite":
        return _sqlite(rest[1:]) if rest.startswith("/") else None
    parts = _PG_URL.fullmatch(url)
    return _postgresql(parts, url) if parts else None


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
    return _at_head(Direct(conn, sqlite3.Error, fmt=False), setup)


def _postgresql(parts: re.Match[str], url: str) -> Direct | None:
    """Connects with the URL's parts decoded as SQLAlchemy decodes them."""
    import psycopg

    given: dict[str, Any] = {
        k: unquote(v) for k, v in parts.groupdict().items() if v and k != "query"
    }
    given.update(parse_qsl(parts["query"] or "", keep_blank_values=True))
    try:
        conn = psycopg.connect(**given)
    except psycopg.OperationalError as exc:
        raise unreachable(url, str(exc).strip().splitlines()[0]) from None
    except psycopg.Error:
        return None  # e.g. an option libpq does not know: SQLAlchemy says so better
    setup = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",)
    return _at_head(Direct(conn, psycopg.Error, fmt=True), setup)


def _at_head(direct: Direct, setup: Sequence[str]) -> Direct | None:
    """`direct` after its set-up, if the database is at this cairn's schema; else None."""
    try:
        for sql in setup:
            direct(sql, ())
        if direct.check():
            return direct
    except CairnError:
        pass
    direct.close()
    return None
