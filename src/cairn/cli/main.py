"""Entry point: find the command, parse its words, run it, print, exit."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cairn.cli import help as helptext
from cairn.cli import tree
from cairn.cli.parse import parse
from cairn.cli.render import render
from cairn.errors import CairnError, UsageError

_HELP_WORDS = frozenset({"help", "--help", "-h"})


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(words)
    except CairnError as exc:
        message = one_line(str(exc)) or type(exc).__name__
        print(f"error - {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error - interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def one_line(text: str) -> str:
    """The message on one line, other control characters shown escaped."""
    text = " ".join(text.split("\n")).strip()
    return "".join(c if c >= " " or c == "\t" else repr(c)[1:-1] for c in text)


def run(words: list[str]) -> int:
    if not words or words[0] in _HELP_WORDS:
        return _help(words[1:])
    if words == ["--version"]:
        from importlib.metadata import version

        sys.stdout.write(f"cairn {version('cairn')}\n")
        return 0
    n = tree.longest_command(words)
    if n == 0:
        raise _unknown(words)
    title = " ".join(words[:n])
    rest = words[n:]
    _refuse_half_command(words[:n], rest)
    command = tree.load(words[:n])
    if rest and rest[-1] in _HELP_WORDS and len(rest) == 1:
        sys.stdout.write(helptext.command_help(command, title))
        return 0
    a = parse(command, title, rest)
    from cairn.context import Context

    with Context(writes=command.writes, uses_db=command.uses_db) as ctx:
        if sys.stderr.isatty():
            ctx.progress = _progress
        result = command().run(ctx, a)
    for note in ctx.notes:
        print(f"warning - {note}", file=sys.stderr)
    render(result, sys.stdout, header=a["output_header"], fmt=a["output_format"])
    return result.status if result is not None else 0


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


def _progress(done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:40s}{end}"
    )
    sys.stderr.flush()


def _help(words: list[str]) -> int:
    if not words:
        sys.stdout.write(helptext.OVERVIEW_HEAD + "\n")
        render(helptext.overview(), sys.stdout)
        return 0
    n = tree.longest_command(words)
    if n == len(words):
        sys.stdout.write(helptext.command_help(tree.load(words), " ".join(words)))
        return 0
    below = tree.starting_with(words)
    if not below:
        raise _unknown(words)
    sys.stdout.write("\n".join(f"cairn {c}" for c in below) + "\n")
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
