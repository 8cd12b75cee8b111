"""The command tree: `cairn/commands/<verb>/<noun>...` IS the grammar.

A command is a module `commands/a/b.py` or a package `commands/a/b/__init__.py`
that defines `Command` (when `a b c` also exists). Dispatch finds the longest
run of leading words that names a command by looking at files, and imports
only that one module.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path

from cairn.cli.spec import Command

_ROOT = Path(__file__).resolve().parent.parent / "commands"
_PKG = "cairn.commands"


def _is_command_package(directory: Path) -> bool:
    init = directory / "__init__.py"
    if not init.is_file():
        return False
    body = init.read_text(encoding="utf-8")
    return "\nclass Command(" in body or "\nCommand = " in body


def _word(word: str) -> bool:
    """Whether `word` may be part of a command's name (never a path's trouble:
    no '/', '..', over-long or non-UTF-8 names)."""
    return word.isidentifier() and not word.startswith("_") and len(word) <= 64


def _names_command(words: Sequence[str]) -> bool:
    if not words or not all(_word(w) for w in words):
        return False
    base = _ROOT.joinpath(*words)
    if base.is_dir() and _is_command_package(base):
        return True
    return base.with_suffix(".py").is_file()


def longest_command(words: Sequence[str]) -> int:
    """How many leading words name a command (0: none)."""
    n = 0
    for i in range(1, len(words) + 1):
        if not _word(words[i - 1]):
            break
        if _names_command(words[:i]):
            n = i
        elif not _ROOT.joinpath(*words[:i]).is_dir():
            break
    return n


def load(words: Sequence[str]) -> type[Command]:
    module = importlib.import_module(".".join((_PKG, *words)))
    command: type[Command] = module.Command
    return command


def _walk(directory: Path, prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        if entry.name.startswith(("_", ".")):
            continue
        path = Path(entry.path)
        if entry.is_dir():
            if _is_command_package(path):
                yield (*prefix, entry.name)
            yield from _walk(path, (*prefix, entry.name))
        elif entry.name.endswith(".py"):
            yield (*prefix, entry.name[:-3])


@cache
def all_commands() -> tuple[tuple[str, ...], ...]:
    return tuple(_walk(_ROOT, ()))


def starting_with(words: Sequence[str]) -> list[str]:
    n = len(words)
    return [" ".join(c) for c in all_commands() if list(c[:n]) == list(words)]


def one_level_below(words: Sequence[str]) -> list[str]:
    """The commands or groups one word longer than `words` (`set host` ->
    `set host attr`, `set host interface`, ...), without their own subcommands."""
    n = len(words) + 1
    seen: dict[str, None] = {}
    for cmd in all_commands():
        if len(cmd) >= n and list(cmd[: n - 1]) == list(words):
            seen[" ".join(cmd[:n])] = None
    return list(seen)


def nearest_next(word: str, below: Sequence[str], how_many: int = 3) -> list[str]:
    """Those of `below` whose last word looks like `word` (a misspelt noun)."""
    scored = [
        (difflib.SequenceMatcher(None, word, cmd.rsplit(" ", 1)[-1]).ratio(), cmd) for cmd in below
    ]
    scored = [s for s in scored if s[0] >= 0.6]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [name for _, name in scored[:how_many]]


def nearest(words: Sequence[str], how_many: int = 3) -> list[str]:
    """The commands whose words look most like the typed ones."""
    scored = []
    for cmd in all_commands():
        typed = " ".join(words[: len(cmd)])
        ratio = difflib.SequenceMatcher(None, typed, " ".join(cmd)).ratio()
        if ratio >= 0.6:
            scored.append((ratio, " ".join(cmd)))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [name for _, name in scored[:how_many]]
