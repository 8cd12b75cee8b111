"""Opening a `Direct` read-only connection without SQLAlchemy (see `cairn.db.rows`).

SQLite through sqlite3, PostgreSQL through psycopg, MariaDB/MySQL through
PyMySQL: each connection is read-only (SQLite `query_only`, a READ ONLY
transaction on the servers), holds one snapshot, and is used only when the
database is at this cairn's schema. A server URL is read here only when it is
plain enough that SQLAlchemy would read it the same way; anything else goes
the SQLAlchemy way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from cairn.db.rows import BUSY_TIMEOUT_S, Direct
from cairn.db.url import unreachable
from cairn.errors import CairnError

# Parts of unreserved characters or %XX escapes, a host name or IPv4 address.
# IPv6, raw delimiters in a password and the like are left to SQLAlchemy.
_PART = r"(?:[^:/@?#\[\]%\s]|%[0-9A-Fa-f]{2})*"
_SERVER_URL = re.compile(
    r"(?P<scheme>postgresql(?:\+psycopg)?|(?:mysql|mariadb)(?:\+pymysql)?)://"
    rf"(?:(?P<user>{_PART})(?::(?P<password>{_PART}))?@)?"
    rf"(?P<host>[A-Za-z0-9._-]*)(?::(?P<port>[1-9]\d*))?(?:/(?P<dbname>{_PART}))?"
    r"(?:\?(?P<query>[^#@/\s]*))?"
)
_MYSQL_OPTIONS = frozenset({"charset"})  # what SQLAlchemy hands PyMySQL unchanged


def open_direct(url: str) -> Direct | None:
    """Direct reads when `url` is a database at this cairn's schema, else None.

    None sends the caller to the SQLAlchemy path, which creates or upgrades
    the database, or explains why it cannot be opened. A server that cannot
    be reached is reported here, so it is not tried twice.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "sqlite":
        return _sqlite(rest[1:]) if rest.startswith("/") else None
    parts = _SERVER_URL.fullmatch(url)
    if parts is None:
        return None
    given = {
        k: unquote(v) for k, v in parts.groupdict().items() if v and k not in ("scheme", "query")
    }
    pairs = parse_qsl(parts["query"] or "")  # blank values dropped, as SQLAlchemy does
    options = dict(pairs)
    if len(options) != len(pairs):
        return None  # a repeated key (multi-host): SQLAlchemy's business
    if parts["scheme"].startswith("postgresql"):
        return _postgresql({**given, **options}, url)
    return _mysql(given, options, url) if set(options) <= _MYSQL_OPTIONS else None


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


def _postgresql(given: dict[str, Any], url: str) -> Direct | None:
    import psycopg

    try:
        conn = psycopg.connect(**given)
    except psycopg.OperationalError as exc:
        raise unreachable(url, _first_line(exc)) from None
    except psycopg.Error:
        return None  # e.g. an option libpq does not know: SQLAlchemy says so better
    setup = ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",)
    return _at_head(Direct(conn, psycopg.Error, fmt=True), setup)


def _mysql(given: dict[str, Any], options: dict[str, str], url: str) -> Direct | None:
    import pymysql

    try:
        conn = pymysql.connect(
            host=given.get("host") or "localhost",
            port=int(given.get("port", 3306)),
            user=given.get("user"),
            password=given.get("password", ""),
            database=given.get("dbname"),
            charset=options.get("charset", "utf8mb4"),
        )
    except pymysql.err.OperationalError as exc:
        raise unreachable(url, _first_line(exc)) from None
    except pymysql.err.MySQLError:
        return None
    setup = (
        # The session too: DDL would commit the transaction and run outside it.
        "SET SESSION TRANSACTION READ ONLY",
        "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        "START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT",
    )
    return _at_head(Direct(conn, pymysql.err.MySQLError, fmt=True), setup)


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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
