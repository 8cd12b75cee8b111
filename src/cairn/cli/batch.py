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

In a chunk of replayable lines, the lines that set attributes (most of a
dump) hold their writes back, and they are sent together (cairn.db.held)
before any other line runs and before the chunk is committed. A held write
refused when it is sent (a name that differs from a stored one only in case)
is found by running the chunk again line by line, holding nothing back: the
error names its own line, and only the lines before it are kept, as if
nothing had been held.
"""

from __future__ import annotations

import io
import shlex
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, nullcontext
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, TextIO

from cairn.cli.spec import Command, Result
from cairn.errors import CairnError

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

    status, unclosed = 0, ""
    with Shared(wrap) as shared:
        for number, words in commands(lines):
            shared.line = number
            if words is None:
                status, unclosed = 2, f"error - line {number}: a quote is never closed"
                break
            where = f"line {number}: "
            status = execute(
                words, out, err, progress=progress, wrap=wrap, where=where, shared=shared
            )
            if status:
                break
        try:  # what the lines before are kept; a write one of them held back may fail now
            shared.commit()
        except CairnError as exc:
            where = "" if exc.line is None else f"line {exc.line}: "
            print(f"error - {where}{exc}", file=err)
            return exc.exit_code
        except KeyboardInterrupt:  # the lines that ran are kept all the same
            print("error - interrupted", file=err)
            return 130
    if unclosed:
        print(unclosed, file=err)
    return status


def lines_of(stream: BinaryIO) -> TextIO:
    """The lines of `stream` as `sh` reads them: only \\n ends a line, and
    every other character is kept as it is (\\r, \\f, U+2028 ... inside a
    quoted value; a byte that is not UTF-8 as a surrogate), so that a replayed
    dump stores the values it was made from."""
    return io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="\n")


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
    """The transaction that consecutive `in_batch` lines share (a chunk), and
    the attribute writes its lines hold back (cairn.db.held)."""

    def __init__(self, wrap: Wrap | None) -> None:
        from cairn.db import held

        self._wrap = wrap
        self._stack: ExitStack | None = None
        self._ctx: Context | None = None
        self._done: list[Ran] = []  # the chunk's lines
        self._held = held.Queue()  # what the last lines held back
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
        from cairn.db import held

        # Only while every line of the chunk may run again: a refused held
        # write is found by running them again (`_send`).
        holds = command.replayable and self._replayable and command.holds(a)
        if not holds:  # this line may read what the lines before held back
            self._send()
        ctx = self._open(command)
        ctx.notes = []
        if progress is not None:
            ctx.progress = progress
        session = ctx.session
        # A savepoint in SQL, not the session's begin_nested(), which costs
        # more than a whole `set host attr`: on a failure the batch stops, so
        # the session need only forget what the line left in it.
        savepoint = not (command.replayable and self._replayable)
        conn = session.connection()
        if savepoint:
            conn.exec_driver_sql("SAVEPOINT cairn_line")
        try:
            with held.holding(session, self._held) if holds else nullcontext():
                result = command().run(ctx, a)
            session.flush()
        except BaseException as exc:
            self._undo_line(savepoint)
            raise _refusal(exc) from None
        if savepoint:
            conn.exec_driver_sql("RELEASE SAVEPOINT cairn_line")
        self._replayable = self._replayable and command.replayable
        self._done.append(Ran(self.line, command, a))
        if len(self._done) >= CHUNK_LINES or time.monotonic() - self._opened > CHUNK_SECONDS:
            self.commit()
        return result, ctx.notes

    def _send(self) -> None:
        """Sends what the last lines held back. If a write is refused (or an
        interrupt comes meanwhile), the chunk's lines run again one by one,
        holding nothing back (`_undo_line`): the first that fails raises its
        own error and the ones before it are kept, as if nothing had been
        held; an interrupt is raised again once they have run."""
        from cairn.db import held

        sent, self._held = self._held, held.Queue()
        if not sent.writes:
            return
        assert self._ctx is not None
        try:
            sent.send(self._ctx.session.connection())
        except BaseException as exc:
            self._undo_line(savepoint=False)
            if not isinstance(exc, held.NotSent):
                raise

    def _undo_line(self, savepoint: bool) -> None:
        """Undoes the failed line and keeps the chunk's lines before it: back
        to its savepoint, if it took one and the transaction is still there (a
        failed flush ends it: SQLAlchemy rolls it back); else those lines run
        again, quietly, in a new transaction (`_rerun`)."""
        from sqlalchemy.exc import DBAPIError

        from cairn.db import held

        assert self._ctx is not None
        session = self._ctx.session
        if savepoint and session.is_active:
            session.expunge_all()
            try:
                session.connection().exec_driver_sql("ROLLBACK TO SAVEPOINT cairn_line")
                return
            except DBAPIError:
                pass
        self._held = held.Queue()  # what they held is written again by their running again
        session.rollback()
        done, self._done = self._done, []
        self.commit()
        self._rerun(done)

    def _rerun(self, lines: list[Ran]) -> None:
        """Runs `lines` again, one by one and holding nothing back, in the open
        transaction (a new one if none is open). They ran before, but a write
        one of them held back may have been refused when it was sent: if one
        fails now, the lines before it are kept and its error, naming its own
        line, is raised."""
        if not lines:
            return
        if self._ctx is None:
            self._open(lines[0].command)
            self._first = lines[0].line
        ctx = self._open(lines[0].command)
        for ran in lines:
            try:
                ran.command().run(ctx, ran.a)
                ctx.session.flush()
            except BaseException as exc:  # an interrupt too: the lines before it are kept
                self._undo_line(savepoint=False)
                error = _refusal(exc)
                if isinstance(error, CairnError):
                    error.line = ran.line
                raise error from None
            self._done.append(ran)

    def first_error(self, error: CairnError) -> CairnError:
        """A line failed with `error`: the error to report, which is an
        earlier line's if a write that line held back is refused when the
        chunk is kept now."""
        try:
            self.commit()
        except CairnError as earlier:
            return earlier
        return error

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
            self._ctx = None
            stack.close()
            raise
        self._stack, self._opened, self._first = stack, time.monotonic(), self.line
        self._replayable = True  # so far: no line in it that must not run again
        return self._ctx

    def commit(self) -> None:
        """Commits the open chunk: before a command that runs on its own, every
        so often, and at the end."""
        if self._ctx is not None:
            self._send()
        stack, self._stack, self._ctx, self._done = self._stack, None, None, []
        self._replayable = True  # the next chunk has no line yet
        if stack is None:
            return
        try:
            stack.close()
        except CairnError as exc:
            raise CairnError(
                f"the lines from line {self._first} up to line {self.line} could not be kept: {exc}"
            ) from None


class Ran(NamedTuple):
    """A line of the open chunk that ran: what it takes to run it again."""

    line: int
    command: type[Command]
    a: dict[str, Any]


def _refusal(exc: BaseException) -> BaseException:
    """The error to show for what a line raised: the database's refusals in words."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    from cairn.db.session import first_line
    from cairn.errors import Conflict

    if isinstance(exc, IntegrityError):
        return Conflict(f"the change conflicts with what is stored: {first_line(exc)}")
    if isinstance(exc, DBAPIError):
        return CairnError(f"the database refused the change: {first_line(exc)}")
    return exc
