"""Batch mode: command lines from a stream (`cairn dump | cairn`), run in order.

Lines are split as `sh` reads them. Consecutive lines whose commands only
change the database (`Command.in_batch`) share one transaction, committed
every `CHUNK_LINES` lines or `CHUNK_SECONDS` seconds and before any other
command: a failing line is undone alone, its number goes in the error, and
the lines before it are committed. A line is undone by its savepoint, or, for
a chunk of replayable lines (`Command.replayable`, most of a dump), which take
none, by rolling the chunk back and running its lines before it again. Sharing the
session is what makes a long replay fast: no transaction, engine checkout and
fresh ORM state per line, and what one line loaded the next one finds in the
session. Every other command runs as it would alone, in its own transaction.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, TextIO

from cairn.cli.spec import Command, Result

if TYPE_CHECKING:
    from cairn.cli.main import Wrap
    from cairn.context import Context

CHUNK_LINES = 2000
# With none of these and only ASCII, a line is words between blanks for sh.
_SPECIAL = frozenset("'\"\\#\x0b\x0c\x1c\x1d\x1e\x1f")
# Other writers wait while a chunk is open (the service runs writers one at a
# time, and a database has one writer anyway): keep each wait short.
CHUNK_SECONDS = 0.5


def run_lines(
    lines: Iterable[str],
    out: TextIO,
    err: TextIO,
    *,
    progress: bool = False,
    wrap: Wrap | None = None,
) -> int:
    """Runs each command of `lines` (a leading `cairn` is optional, `#` starts a
    comment, a quoted value may span lines); the first that fails stops the
    batch, its line number in the error, the ones before it kept. The status
    of the last command run."""
    from cairn.cli.main import execute
    from cairn.errors import CairnError

    with Shared(wrap) as shared:
        for number, words in commands(lines):
            shared.line = number
            if words is None:
                print(f"error - line {number}: a quote is never closed", file=err)
                return 2
            where = f"line {number}: "
            status = execute(
                words, out, err, progress=progress, wrap=wrap, where=where, shared=shared
            )
            if status:
                return status
        try:
            shared.commit()
        except CairnError as exc:
            print(f"error - {exc}", file=err)
            return exc.exit_code
    return 0


def commands(lines: Iterable[str]) -> Iterator[tuple[int, list[str] | None]]:
    """(first line number, words) of each command; words None for an
    unclosed quote at the end."""
    pending, first = "", 0
    for number, line in enumerate(lines, 1):
        if not pending:
            first = number
        pending += line if line.endswith("\n") else line + "\n"
        if pending.isascii() and _SPECIAL.isdisjoint(pending):
            words = pending.split()
        else:
            try:
                words = shlex.split(pending, comments=True)
            except ValueError:  # a quote still open: the value goes on on the next line
                continue
        pending = ""
        if words[:1] == ["cairn"]:
            words = words[1:]
        if words:
            yield first, words
    if pending:
        yield first, None


class Shared:
    """The transaction that consecutive `in_batch` lines share (a chunk)."""

    def __init__(self, wrap: Wrap | None) -> None:
        self._wrap = wrap
        self._stack: ExitStack | None = None
        self._ctx: Context | None = None
        self._done: list[tuple[type[Command], dict[str, Any]]] = []  # the chunk's lines
        self._opened = 0.0
        self._first = 0  # the line that opened the chunk
        self._replayable = True  # every line of the chunk is replayable
        self.line = 0  # the line running now

    def __enter__(self) -> Shared:
        return self

    def __exit__(self, *_: object) -> None:
        # A line that failed was undone alone; the ones before it are kept,
        # as they are when the batch is interrupted between lines.
        self.commit()

    @staticmethod
    def takes(command: type[Command]) -> bool:
        return command.in_batch and command.writes and command.uses_db

    def run(
        self,
        command: type[Command],
        a: dict[str, Any],
        progress: Callable[[int, int, str], None] | None = None,
    ) -> tuple[Result, list[str]]:
        """Runs one line in the shared transaction (see the module for how it is undone)."""
        from sqlalchemy.exc import DBAPIError, IntegrityError

        from cairn.db.session import first_line
        from cairn.errors import CairnError, Conflict

        ctx = self._open(command)
        ctx.notes = []
        if progress is not None:
            ctx.progress = progress
        session = ctx.session
        # A savepoint in SQL, not the session's begin_nested(), which costs
        # more than a whole `set host attr`: on a failure the batch stops, so
        # the session need only forget what the line left in it.
        conn = session.connection()
        savepoint = not (command.replayable and self._replayable)
        if savepoint:
            conn.exec_driver_sql("SAVEPOINT cairn_line")
        try:
            result = command().run(ctx, a)
            session.flush()
        except BaseException as exc:
            self._undo_line(savepoint)
            if isinstance(exc, IntegrityError):
                raise Conflict(
                    f"the change conflicts with what is stored: {first_line(exc)}"
                ) from None
            if isinstance(exc, DBAPIError):
                raise CairnError(f"the database refused the change: {first_line(exc)}") from None
            raise
        if savepoint:
            conn.exec_driver_sql("RELEASE SAVEPOINT cairn_line")
        self._replayable = self._replayable and command.replayable
        self._done.append((command, a))
        if len(self._done) >= CHUNK_LINES or time.monotonic() - self._opened > CHUNK_SECONDS:
            self.commit()
        return result, ctx.notes

    def _undo_line(self, savepoint: bool) -> None:
        """Undoes the failed line and keeps the chunk's lines before it: back
        to its savepoint, if it took one and the transaction is still there (a
        failed flush ends it: SQLAlchemy rolls it back); else those lines run
        again, quietly, in a new transaction."""
        from sqlalchemy.exc import DBAPIError

        assert self._ctx is not None
        session = self._ctx.session
        if savepoint and session.is_active:
            session.expunge_all()
            try:
                session.connection().exec_driver_sql("ROLLBACK TO SAVEPOINT cairn_line")
                return
            except DBAPIError:
                pass
        session.rollback()
        done, self._done = self._done, []
        self.commit()
        if not done:
            return
        ctx = self._open(done[0][0])
        for command, a in done:
            command().run(ctx, a)
        self._done = done

    def _open(self, command: type[Command]) -> Context:
        if self._ctx is not None:
            return self._ctx
        from cairn.context import Context

        stack = ExitStack()
        if self._wrap is not None:
            stack.enter_context(self._wrap(command))
        try:
            self._ctx = stack.enter_context(Context(writes=True))
        except BaseException:
            stack.close()
            raise
        self._stack, self._opened, self._first = stack, time.monotonic(), self.line
        self._replayable = True  # so far: no line in it that must not run again
        return self._ctx

    def commit(self) -> None:
        """Commits the open chunk: before a command that runs on its own, every
        so often, and at the end."""
        from cairn.errors import CairnError

        stack, self._stack, self._ctx, self._done = self._stack, None, None, []
        if stack is None:
            return
        try:
            stack.close()
        except CairnError as exc:
            raise CairnError(
                f"the lines from line {self._first} up to line {self.line} could not be kept: {exc}"
            ) from None
