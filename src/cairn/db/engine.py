"""Engines for SQLite (embedded default), PostgreSQL and MariaDB/MySQL.

SQLite runs in WAL mode with a busy timeout (BUSY_TIMEOUT_S, or the URL's
`?timeout=SECONDS`), and a command that writes takes
the write lock when its transaction begins (BEGIN IMMEDIATE), so concurrent
writers queue instead of failing half way. A SQLite file cairn creates is
0600 (SQLite gives its -wal and -shm files the same mode); one that exists
opens whatever its mode.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from cairn.db.url import redacted
from cairn.errors import CairnError

BUSY_TIMEOUT_S = 60  # SQLite: how long a reader or writer waits for a lock

_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def normalise(url: str) -> str:
    """Pick the drivers cairn ships with when the URL names none."""
    scheme, sep, rest = url.partition("://")
    return f"{_DRIVERS.get(scheme, scheme)}{sep}{rest}"


_BACKENDS = frozenset({"sqlite", "postgresql", "mysql", "mariadb"})


def make_engine(url: str, *, writes: bool) -> Engine:
    try:
        parsed = make_url(normalise(url))
        if parsed.get_backend_name() not in _BACKENDS:
            raise CairnError(
                f"the database URL {redacted(url)!r} names {parsed.get_backend_name()}, which"
                " cairn does not support: use sqlite, postgresql, mysql or mariadb"
            )
        parsed.get_dialect()  # an unknown scheme fails here, not half way through
    except (ArgumentError, NoSuchModuleError, ValueError, ImportError):
        raise CairnError(
            f"the database URL {redacted(url)!r} is not valid: use e.g."
            " sqlite:////var/lib/cairn/cairn.db or postgresql://user:pw@host/db"
        ) from None
    if "@" in (parsed.host or ""):
        raise CairnError(
            f"the database URL {redacted(url)!r} has '@' in its user name or password:"
            " write each '@' there as %40"
        )
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite(parsed.database, parsed, writes)
    else:
        engine = create_engine(parsed, pool_pre_ping=False, isolation_level="READ COMMITTED")
    if os.environ.get("CAIRN_SQL_COUNT"):
        _count_statements(engine)
    return engine


def _busy_timeout(parsed: URL) -> float:
    """BUSY_TIMEOUT_S, or the URL's own `?timeout=SECONDS` (as Python's sqlite3 names it)."""
    given = parsed.query.get("timeout")
    if given is None:
        return BUSY_TIMEOUT_S
    try:
        seconds = float(given if isinstance(given, str) else given[-1])
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86_400:
        raise CairnError(
            f"the database URL's timeout={given!r} is not a number of seconds from 0 to 86400"
        )
    return seconds


def _sqlite(path: str | None, parsed: URL, writes: bool) -> Engine:
    if path and path != ":memory:" and not writes and not Path(path).parent.is_dir():
        from cairn.db.url import default_url

        if f"sqlite:///{path}" != default_url():  # a named database that is not there
            raise CairnError(
                f"there is no database at {path}: its directory does not exist; check"
                " CAIRN_DB_URL or db_url in the config file ('cairn init' creates one)"
            )
    if path and path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CairnError(f"cannot create the database directory for {path}: {exc}") from None
        _create_private(path)
    busy = _busy_timeout(parsed)
    engine: Engine = create_engine(parsed, connect_args={"timeout": busy})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _create_private(path: str) -> None:
    """An empty file at `path` (an empty database to SQLite) that only its
    owner can read, unless one is there; SQLite would create it 0644."""
    # There already, or not creatable: SQLite opens it, or says what is wrong.
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


_statements = [0]  # SQL statements this process ran (CAIRN_SQL_COUNT=1 prints it at exit)
if os.environ.get("CAIRN_SQL_COUNT"):
    atexit.register(lambda: print(f"sql-statements: {_statements[0]}", file=sys.stderr))


def _count_statements(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args):  # type: ignore[no-untyped-def]
        _statements[0] += 1
