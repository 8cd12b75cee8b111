"""What a running command gets: its database session and a place for notes.

The session is opened on first use, in one transaction that is committed when
the command returns and rolled back when it raises, so a failed command leaves
the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from cairn.errors import CairnError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _quiet(_done: int, _total: int, _label: str) -> None:
    pass


class Context:
    def __init__(self, *, writes: bool = False, uses_db: bool = True, url: str | None = None):
        self.writes = writes
        self.uses_db = uses_db
        self._url = url
        self._session: Session | None = None
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

    def __enter__(self) -> Context:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is None:
            return
        from sqlalchemy.exc import DBAPIError

        from cairn.db.session import finish, first_line

        session, self._session = self._session, None
        finish(session, ok=exc_type is None)
        if isinstance(exc, DBAPIError):
            raise CairnError(f"the database refused the change: {first_line(exc)}") from exc
