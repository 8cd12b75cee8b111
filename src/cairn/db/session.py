"""Opening the one session a command uses, and ending it cleanly.

A resident process (the cairn service) keeps one engine per database open
(`keep_engines`); a one-command process makes one and disposes of it. A kept
SQLite engine is made again when the file at its path is no longer the one
it opened (deleted, or replaced by another), as a new process would.
"""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from cairn.db.engine import make_engine
from cairn.db.head import HEAD
from cairn.db.presence import identity, sqlite_path
from cairn.db.schema import current_revision, ensure_current
from cairn.errors import CairnError, Conflict


class Database:
    """One engine for a long-running process (the watcher), and a session per unit of work."""

    def __init__(self, url: str, *, writes: bool = True, ensure: bool = True) -> None:
        """`ensure`: create or upgrade the database to this cairn's schema (off
        for a second engine on a database the first one made current)."""
        self.engine = make_engine(url, writes=writes)
        if ensure:
            ensure_current(self.engine)

    def session(self) -> Session:
        return Session(self.engine, autoflush=True, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()


# Engines kept open for the life of the process, by (URL, writes), with the
# identity of the SQLite file each opened: the cairn service turns this on; a
# one-command process makes and disposes its own.
_kept: dict[tuple[str, bool], tuple[Engine, tuple[int, int] | None]] | None = None
_kept_lock = threading.Lock()


def keep_engines() -> None:
    """From now on, sessions share one engine per URL that stays open."""
    global _kept
    with _kept_lock:
        if _kept is None:
            _kept = {}


def release_engines() -> None:
    """Dispose of the engines `keep_engines` kept (a service that stops); later
    sessions make and dispose of their own again."""
    global _kept
    with _kept_lock:
        kept, _kept = _kept, None
    for engine, _opened in (kept or {}).values():
        engine.dispose()


def engines_kept() -> bool:
    return _kept is not None


def kept_for(url: str) -> bool:
    """Whether a kept engine opened `url`: that database was there then."""
    return _kept is not None and any(kept_url == url for kept_url, _ in list(_kept))


def open_session(url: str, *, writes: bool) -> Session:
    if _kept is None:
        engine = make_engine(url, writes=writes)
        ensure_current(engine)
        return Session(engine, autoflush=True, expire_on_commit=False)
    for _attempt in range(2):
        with _kept_lock:
            engine = _kept_engine(_kept, url, writes)
        session = Session(engine, autoflush=True, expire_on_commit=False)
        if _still_current(session):
            return session
        # Changed under a kept engine (another cairn upgraded it, or it was
        # made anew): looked at again as a new process would, which upgrades
        # it or refuses one newer than this cairn.
        session.close()
        _forget(url, writes)
    raise CairnError(f"the schema of {url} keeps changing under this cairn service")


def _still_current(session: Session) -> bool:
    """Whether the database is still at this cairn's schema: read in the
    command's own transaction, so the command sees the schema it checked."""
    try:
        return current_revision(session.connection()) == HEAD
    except DBAPIError:  # gone or unreachable: said by a fresh look
        return False


def _forget(url: str, writes: bool) -> None:
    with _kept_lock:
        engine, _opened = (_kept or {}).pop((url, writes), (None, None))
    if engine is not None:
        engine.dispose()


def _kept_engine(
    kept: dict[tuple[str, bool], tuple[Engine, tuple[int, int] | None]], url: str, writes: bool
) -> Engine:
    """The kept engine for `url`, made again if its SQLite file was replaced:
    the old one's connections hold the old file open, and what they wrote
    would go where no one can read it."""
    path = sqlite_path(url)
    engine, opened = kept.get((url, writes), (None, None))
    if engine is not None and path is not None and identity(path) != opened:
        del kept[url, writes]
        engine.dispose()  # a command still using it keeps its connection to its end
        engine = None
    if engine is None:
        engine = make_engine(url, writes=writes)
        ensure_current(engine)
        kept[url, writes] = (engine, identity(path) if path is not None else None)
    return engine


def finish(session: Session, *, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"the change conflicts with what is stored: {first_line(exc)}") from None
    except DBAPIError as exc:
        session.rollback()
        raise CairnError(f"the database refused the change: {first_line(exc)}") from None
    finally:
        bind = session.get_bind()
        session.close()
        if isinstance(bind, Engine) and _kept is None:
            bind.dispose()


def first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
