"""Entry point: find the command, parse its words, run it, print, exit.

`execute` is the one way a command line runs, whoever asks: `main` (this
process, the streams of the terminal), the cairn service (the streams of a
client on its socket) and batch mode (one line after another). Nothing here
knows whether it runs in the service.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from cairn.cli import bugs, tree
from cairn.cli import help as helptext
from cairn.cli.parse import parse
from cairn.cli.render import render
from cairn.cli.spec import Command, Result, Table
from cairn.errors import CairnError, UsageError

if TYPE_CHECKING:
    from cairn.cli.batch import Shared
    from cairn.context import Context

_HELP_WORDS = frozenset({"help", "--help", "-h"})
# Set by the cairn service: it runs each command inside `wrap(command)`, a
# context manager (it serialises writers); None in a plain process.
Wrap = Callable[[type[Command]], Any]


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    return execute(words, sys.stdout, sys.stderr, progress=sys.stderr.isatty())


def execute(
    words: list[str],
    out: TextIO,
    err: TextIO,
    *,
    progress: bool = False,
    wrap: Wrap | None = None,
    where: str = "",
    shared: Shared | None = None,
) -> int:
    """Runs one command line; its output to `out`, warnings and errors to
    `err`; the exit status. `where` ("line 3: ") starts an error message;
    `shared`, batch mode's transaction across lines (cairn.cli.batch). Any
    exception but an interrupt ends here as one error line: a bug too
    (cairn.cli.bugs), so a process that serves many commands goes on."""
    try:
        _check_text(words)
        return run(words, out, err, progress=progress, wrap=wrap, shared=shared)
    except CairnError as exc:
        return _refused(exc, err, where, shared)
    except KeyboardInterrupt:
        print("error - interrupted", file=err)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: one line, the traceback kept (cairn.cli.bugs)
        return _refused(bugs.internal_error(exc, _title(words), err), err, where, shared)


def _refused(exc: CairnError, err: TextIO, where: str, shared: Shared | None) -> int:
    """Prints the error line for `exc` and gives its exit status."""
    if shared is not None:
        exc = shared.first_error(exc)
    message = one_line(str(exc)) or type(exc).__name__
    where = where if exc.line is None else f"line {exc.line}: "
    print(f"error - {where}{message}", file=err)
    return exc.exit_code


def _title(words: list[str]) -> str:
    """The command the words name, for an error that may come from anywhere."""
    try:
        n = tree.longest_command(words)
    except Exception:  # the tree itself failed: the words will do
        n = 0
    return " ".join(words[:n] if n else words[:3])


def _check_text(words: list[str]) -> None:
    """Refuse words that are not text (bytes that are not UTF-8 reach Python as
    lone surrogates, which no database, file or XML can hold) or hold a NUL
    (which PostgreSQL refuses, SQLite keeps and `sh` drops from a dump: refused
    here, the same on every backend)."""
    for word in words:
        if "\0" in word:
            shown = one_line(word.replace("\0", "\\0"))
            raise UsageError(f"the argument '{shown[:60]}' holds a NUL byte (\\0): leave it out")
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            shown = word.encode("utf-8", "backslashreplace").decode("ascii", "replace")
            raise UsageError(
                f"the argument '{shown[:60]}' is not UTF-8 text; give it in UTF-8"
            ) from None


def one_line(text: str) -> str:
    """The message on one line, other control characters shown escaped."""
    text = " ".join(text.split("\n")).strip()
    return "".join(c if c >= " " or c == "\t" else repr(c)[1:-1] for c in text)


def run(
    words: list[str],
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    progress: bool = False,
    wrap: Wrap | None = None,
    shared: Shared | None = None,
) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if not words or words[0] in _HELP_WORDS:
        _settle(shared)
        return _help(words[1:], out)
    if words == ["--version"]:
        from cairn import __version__

        _settle(shared)
        out.write(f"cairn {__version__}\n")
        return 0
    command, title, rest = find(words)
    if rest and rest[-1] in _HELP_WORDS and len(rest) == 1:
        _settle(shared)
        out.write(helptext.command_help(command, title))
        return 0
    a = parse(command, title, rest)
    streamed: list[Result] = []

    def show(result: Result) -> None:
        streamed.append(result)
        render(result, out, header=a["output_header"], fmt=a["output_format"])

    shown = _progress(err) if progress else None
    result, notes = perform(command, a, progress=shown, wrap=wrap, shared=shared, show=show)
    for note in notes:
        print(f"warning - {note}", file=err)
    if not streamed:
        render(result, out, header=a["output_header"], fmt=a["output_format"])
    return result.status if result is not None else 0


def _settle(shared: Shared | None) -> None:
    """Before a line prints help: in batch mode, what the lines before it
    held back is kept first, or refused (cairn.cli.batch)."""
    if shared is not None:
        shared.commit()


def find(words: Sequence[str]) -> tuple[type[Command], str, list[str]]:
    """The command the leading words name, its title, and the words after it."""
    n = tree.longest_command(words)
    if n == 0:
        raise _unknown(list(words))
    rest = list(words[n:])
    _refuse_half_command(list(words[:n]), rest)
    return tree.load(words[:n]), " ".join(words[:n]), rest


def _refuse_half_command(found: list[str], rest: list[str]) -> None:
    """`remove host vm X` once read as `remove host` of the hosts vm and X: when
    the word after a command starts a longer command, say so rather than guess."""
    if not rest or "=" in rest[0] or rest[0] in _HELP_WORDS:
        return
    longer = tree.starting_with([*found, rest[0]])
    if longer:
        title = " ".join(found)
        args = tree.load(found).args
        how = f"; to give '{rest[0]}' to '{title}', write {args[0].name}={rest[0]}" if args else ""
        raise UsageError(
            f"'{title} {rest[0]}' is not a whole command (and '{rest[0]}' would be read as an"
            f" argument of '{title}'); did you mean: {', '.join(longer[:4])}?{how}"
        )


def perform(
    command: type[Command],
    a: dict[str, Any],
    *,
    progress: Callable[[int, int, str], None] | None = None,
    wrap: Wrap | None = None,
    shared: Shared | None = None,
    show: Callable[[Result], None] | None = None,
) -> tuple[Result, list[str]]:
    """Runs a parsed command in one transaction (in batch mode, perhaps one
    it shares with the lines around it): its result and its warnings.

    A command may stream its table's rows (an iterator, read as they are
    shown): `show` prints such a result while the transaction is still open;
    without `show`, the rows are gathered into a list before it ends. Any
    other result is the caller's to print, once the transaction is over, so a
    reader that goes away (`| head`) cannot undo a change."""
    from contextlib import nullcontext

    from cairn.context import Context

    if wrap is not None and command.here_with and a.get(command.here_with):
        # The service (a batch, the JSON API) is not the user's cairn process,
        # where a tenant's request is signed with the user's key file.
        raise UsageError(
            f"{command.here_with}= makes this a request of the cairn client itself, which a"
            " batch or the JSON API is not: run it as a command line of its own"
        )
    if shared is not None:
        if shared.takes(command):
            return shared.run(command, a, progress)
        shared.commit()

    with wrap(command) if wrap else nullcontext():
        ctx: Context
        with Context(writes=command.writes, uses_db=command.uses_db) as ctx:
            if progress is not None:
                ctx.progress = progress
            result = command().run(ctx, a)
            if isinstance(result, Table) and not isinstance(result.rows, Sequence):
                if show is not None:
                    show(result)
                else:
                    result.rows = list(result.rows)
    return result, ctx.notes


def _progress(err: TextIO) -> Callable[[int, int, str], None]:
    def show(done: int, total: int, label: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        err.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:40s}{end}"
        )
        err.flush()

    return show


def _help(words: list[str], out: TextIO) -> int:
    if not words:
        out.write(helptext.OVERVIEW_HEAD + "\n")
        render(helptext.overview(), out)
        return 0
    if words == ["attrs"]:
        render(helptext.attributes(), out)
        return 0
    n = tree.longest_command(words)
    if n == len(words):
        out.write(helptext.command_help(tree.load(words), " ".join(words)))
        return 0
    below = tree.starting_with(words)
    if not below:
        raise _unknown(words)
    out.write("\n".join(f"cairn {c}" for c in below) + "\n")
    return 0


def _unknown(words: list[str]) -> UsageError:
    plain = [w for w in words if "=" not in w]
    below = tree.one_level_below(plain)
    if below:
        return UsageError(
            f"'{' '.join(plain)}' is not a complete command; try one of: " + ", ".join(below[:12])
        )
    # Name the words up to the first that no command has there, not the
    # arguments after it.
    known = 0
    while known < len(plain) and tree.starting_with(plain[: known + 1]):
        known += 1
    typed = " ".join(plain[: known + 1])
    below = tree.one_level_below(plain[:known]) if known else []
    # A misspelt word among the ones that may follow (set host atr), else the
    # list of those (report host vm NAME), else the nearest whole commands.
    near = tree.nearest_next(plain[known], below) if known < len(plain) else []
    if near:
        hint = f"; did you mean: {', '.join(near)}?"
    elif 0 < len(below) <= 12:
        hint = f"; the commands that start '{' '.join(plain[:known])}' are: {', '.join(below)}"
    elif near := tree.nearest(words):
        hint = f"; did you mean: {', '.join(near)}?"
    else:
        hint = "; see 'cairn help'"
    return UsageError(f"unknown command '{typed}'{hint}")
