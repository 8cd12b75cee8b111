"""Keeps the database at the schema this cairn expects, creating it on first use.

The fast path is one SELECT of the Alembic revision; Alembic itself is only
imported when the database is new or behind. Creation and upgrades run under
a lock, so many cairn processes started at once on a new database agree.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from cairn.db.head import HEAD
from cairn.db.url import redacted, unreachable
from cairn.errors import CairnError

_PG_UNDEFINED_TABLE = "42P01"
_PG_LOCK_NOT_AVAILABLE = "55P03"
_MYSQL_NO_SUCH_TABLE = 1146
_MYSQL_LOCK_WAIT_TIMEOUT = 1205
_LOCK_KEY = 0x43A1B2  # PostgreSQL advisory lock / MySQL GET_LOCK name for migrations
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def current_revision(conn: Connection) -> str | None:
    """The schema revision; None only when the database has no schema at all.

    Any other error (a lock held past the busy time-out, a refused connection)
    is raised: taking it for "new" would seed the defaults into a database that
    has them, or has the administrator's own.
    """
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError as exc:
        conn.rollback()
        if no_such_table(exc, conn.dialect.name):
            return None
        raise


def no_such_table(exc: DBAPIError, backend: str) -> bool:
    """Whether the error says the table queried does not exist, as each backend says it."""
    orig = exc.orig
    if backend == "sqlite":
        return str(orig).startswith("no such table:")
    if backend == "postgresql":
        return getattr(orig, "sqlstate", None) == _PG_UNDEFINED_TABLE
    return _mysql_code(orig) == _MYSQL_NO_SUCH_TABLE


def locked(exc: DBAPIError) -> bool:
    """Whether the error is a lock another connection holds (waited for in vain)."""
    orig = exc.orig
    if getattr(orig, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
        return True
    if getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    return _mysql_code(orig) == _MYSQL_LOCK_WAIT_TIMEOUT


def _mysql_code(orig: BaseException | None) -> object:
    """PyMySQL's error number, its first argument."""
    args: tuple[object, ...] = getattr(orig, "args", ())
    return args[0] if args else None


def ensure_current(engine: Engine, *, seed_defaults: bool = True) -> bool:
    """Create or upgrade the database if needed; True if it was created now."""
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
            conn.rollback()
    except DBAPIError as exc:
        raise _unreachable(engine, exc) from None
    if revision == HEAD:
        return False
    try:
        return upgrade(engine, seed_defaults=seed_defaults)
    except DBAPIError as exc:
        if locked(exc):  # taken between the two looks: still a lock, not a failed upgrade
            raise _unreachable(engine, exc) from None
        raise


def upgrade(engine: Engine, *, seed_defaults: bool = True) -> bool:
    from cairn.db import seed

    with _migration_lock(engine), engine.connect() as conn:
        revision = current_revision(conn)
        conn.rollback()
        if revision == HEAD:
            return False
        if revision is not None and not any((MIGRATIONS / "versions").glob(f"{revision}_*.py")):
            raise CairnError(f"the database is at schema {revision}, newer than this cairn")
        _alembic_upgrade(conn)
        created = revision is None
        if created and seed_defaults:
            seed.defaults(conn)
        conn.commit()
        return created


def _alembic_upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:":
            yield
            return
        with open(f"{path}.migrate-lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield
        return
    with engine.connect() as lock_conn:
        if backend == "postgresql":
            lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        else:
            lock_conn.execute(text("SELECT GET_LOCK(:k, 600)"), {"k": str(_LOCK_KEY)})
        try:
            yield
        finally:
            if backend == "postgresql":
                lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            else:
                lock_conn.execute(text("SELECT RELEASE_LOCK(:k)"), {"k": str(_LOCK_KEY)})
            lock_conn.commit()


def _unreachable(engine: Engine, exc: DBAPIError) -> CairnError:
    url = engine.url.render_as_string(hide_password=True)
    if locked(exc):
        return CairnError(
            f"the database {redacted(url)} is locked: another process has held it longer than"
            " the busy time-out; nothing was changed, run the command again once it finishes"
        )
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return unreachable(url, reason)
