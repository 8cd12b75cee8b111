"""Plain SQL reads that run with or without SQLAlchemy.

Importing SQLAlchemy and mapping the models costs about 200 ms, more than
everything else a one-host read does. So the reads behind the commands run
most often (host lookup and attribute resolution) are written once, as SQL
with `?` placeholders, and run through a `Rows` function: over a command's
session when it has one (same transaction, pending changes flushed first),
or, for a read-only command, straight over the DB-API driver (`Direct`,
opened by `cairn.db.direct`). Values are always bound, never pasted: only
placeholders are generated.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cairn.db.head import HEAD
from cairn.errors import CairnError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

Rows = Callable[[str, Sequence[object]], list[tuple[Any, ...]]]
BUSY_TIMEOUT_S = 60  # SQLite: how long a reader or writer waits for a lock
MANY = 500  # more bound values than this: read them all and filter (SQLite caps at 999+)
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
        cursor = None
        try:
            cursor = self._conn.cursor()
            cursor.execute(_driver_sql(sql, self._fmt), tuple(params))
            if cursor.description is None:  # a statement that returns no rows
                return []
            return [tuple(r) for r in cursor.fetchall()]
        except self._error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CairnError(f"the database refused the read: {reason}") from None
        finally:
            if cursor is not None:
                with contextlib.suppress(self._error):
                    cursor.close()

    def check(self) -> bool:
        """True if the database is at this cairn's schema."""
        try:
            return self("SELECT version_num FROM alembic_version", ()) == [(HEAD,)]
        except CairnError:
            return False

    def close(self) -> None:
        self._conn.close()
