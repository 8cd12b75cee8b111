"""The command tree: `cairn/commands/<verb>/<noun>...` IS the grammar.

A command is a module `commands/a/b.py` or a package `commands/a/b/__init__.py`
that defines `Command` (when `a b c` also exists). Commands are found by
importing their modules and looking for `Command`, never by reading their
source. Dispatch imports only the modules along the words typed; command
modules import what they need (SQLAlchemy, libvirt) inside `run`, so even
`cairn help`, which imports every one, loads neither.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Iterator, Sequence
from functools import cache
from types import ModuleType

from cairn.cli.spec import Command

_PKG = "cairn.commands"


def _word(word: str) -> bool:
    """Whether `word` may be part of a command's name (never a path's trouble:
    no '/', '..', over-long or non-UTF-8 names)."""
    return word.isidentifier() and not word.startswith("_") and len(word) <= 64


@cache
def _module(words: tuple[str, ...]) -> ModuleType | None:
    """The module of `cairn.commands` these words name, None if there is none."""
    if not words or not all(_word(w) for w in words):
        return None
    name = ".".join((_PKG, *words))
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            return None  # no such module (or no such package above it)
        raise


def _names_command(words: Sequence[str]) -> bool:
    module = _module(tuple(words))
    return module is not None and isinstance(getattr(module, "Command", None), type)


def longest_command(words: Sequence[str]) -> int:
    """How many leading words name a command (0: none)."""
    n = 0
    for i in range(1, len(words) + 1):
        if not _word(words[i - 1]):
            break
        module = _module(tuple(words[:i]))
        if module is None:
            break
        if isinstance(getattr(module, "Command", None), type):
            n = i
        elif not hasattr(module, "__path__"):  # a module, not a package, and no command
            break
    return n


def load(words: Sequence[str]) -> type[Command]:
    module = importlib.import_module(".".join((_PKG, *words)))
    command: type[Command] = module.Command
    return command


def _walk(prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    package = _module(prefix) if prefix else importlib.import_module(_PKG)
    assert package is not None
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        words = (*prefix, info.name)
        if info.name.startswith("_"):
            continue
        if _names_command(words):
            yield words
        if info.ispkg:
            yield from _walk(words)


@cache
def all_commands() -> tuple[tuple[str, ...], ...]:
    return tuple(_walk(()))


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
