"""What a running command gets: its database session and a place for notes.

The session is opened on first use, in one transaction that is committed when
the command returns and rolled back when it raises, so a failed command leaves
the database exactly as it was.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from cairn.errors import CairnError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cairn.db.rows import Direct, Rows


def _quiet(_done: int, _total: int, _label: str) -> None:
    pass


def _engines_kept() -> bool:
    """Whether this process keeps its engines open (the cairn service): then
    reads go over them rather than a new driver connection each. Asked without
    importing SQLAlchemy: if cairn.db.session is not loaded, nothing kept any."""
    session = sys.modules.get("cairn.db.session")
    return session is not None and bool(session.engines_kept())


class Context:
    def __init__(self, *, writes: bool = False, uses_db: bool = True, url: str | None = None):
        self.writes = writes
        self.uses_db = uses_db
        self._url = url
        self._session: Session | None = None
        self._direct: Direct | None = None
        self.notes: list[str] = []  # warnings printed after the command
        self.progress: Callable[[int, int, str], None] = _quiet  # set by the CLI on a terminal

    def note(self, message: str) -> None:
        self.notes.append(message)

    @property
    def url(self) -> str:
        if self._url is None:
            from cairn.db.url import database_url

            self._url = database_url()
        return self._url

    @property
    def session(self) -> Session:
        if self._session is None:
            if not self.uses_db:
                raise CairnError("this command does not use the database")
            from cairn.db.session import open_session

            self._session = open_session(self.url, writes=self.writes)
        return self._session

    @property
    def rows(self) -> Rows:
        """Plain SQL reads (`cairn.db.rows`): straight through the driver for a
        read-only command, without SQLAlchemy; else over the session."""
        from cairn.db.direct import open_direct
        from cairn.db.rows import over_session

        if self._session is None and not self.writes and self.uses_db and not _engines_kept():
            if self._direct is None:
                self._direct = open_direct(self.url)
            if self._direct is not None:
                return self._direct
        return over_session(self.session)

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._direct is not None:
            self._direct.close()
            self._direct = None
        if self._session is None:
            return
        from sqlalchemy.exc import DBAPIError

        from cairn.db.session import finish, first_line

        session, self._session = self._session, None
        finish(session, ok=exc_type is None)
        if isinstance(exc, DBAPIError):
            raise CairnError(f"the database refused the change: {first_line(exc)}") from exc
