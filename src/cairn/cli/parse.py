"""Turns the words after the command name into typed arguments.

A word is a parameter when it starts with `name=`; it splits at the first `=`
only, so XML values keep their own `=` signs. Positional arguments may also be
given as parameters of the same name.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import Any

from cairn import values
from cairn.cli.spec import Arg, Command, Param
from cairn.errors import UsageError

PARAM_WORD = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*)=(.*)\Z", re.S)

# Understood by every command; they shape how a table result is printed.
OUTPUT_PARAMS: tuple[Param, ...] = (
    Param("output-header", "print the header line of tables", True, values.boolean, metavar="BOOL"),
    Param(
        "output-format",
        "text (aligned columns) or json",
        "text",
        values.choice("text", "json"),
        metavar="text|json",
    ),
)


def key(name: str) -> str:
    return name.replace("-", "_").replace(".", "_")


def _convert(spec: Arg | Param, word: str, name: str) -> Any:
    try:
        return spec.convert(word)
    except ValueError as exc:
        raise UsageError(f"bad value for {name}: {exc}") from None


def parse(command: type[Command], title: str, words: Sequence[str]) -> dict[str, Any]:
    """Map words to {key: value} for every declared argument and parameter."""
    params = {p.name: p for p in (*command.params, *OUTPUT_PARAMS)}
    args = {a.name: a for a in command.args}
    given: dict[str, Any] = {}
    positional: list[str] = []
    for word in words:
        m = PARAM_WORD.match(word)
        if not m:
            positional.append(word)
            continue
        name, raw = m.group(1), m.group(2)
        spec: Arg | Param | None = params.get(name) or args.get(name)
        if spec is None:
            known = ", ".join(sorted({*params, *args} - {p.name for p in OUTPUT_PARAMS}))
            # A value that holds '=' reads as a parameter: say how to give it.
            hint = f"; to give {word!r} as the value, write value={shlex.quote(word)}"
            raise UsageError(
                f"'{title}' has no parameter '{name}'"
                + (f"; it takes: {known}" if known else "")
                + (hint if "value" in args and "value" not in given else "")
                + f" (see: cairn {title} help)"
            )
        if isinstance(spec, Param) and spec.spaced:
            given.setdefault(key(name), []).extend(
                _convert(spec, w, f"{name}=") for w in raw.split()
            )
            continue
        value = _convert(spec, raw, f"{name}=")
        if spec.many:
            given.setdefault(key(name), []).append(value)
        elif key(name) in given:
            raise UsageError(f"{name}= is given twice to '{title}'")
        else:
            given[key(name)] = value
    _place_positional(command, title, positional, given)
    declared: list[Arg | Param] = [*command.args, *params.values()]
    for decl in declared:
        k = key(decl.name)
        if k in given:
            continue
        if decl.required:
            shown = decl.shown if isinstance(decl, Param) else decl.name.upper()
            raise UsageError(f"'{title}' needs {shown} (see: cairn {title} help)")
        default = decl.default if isinstance(decl, Param) else None
        given[k] = [] if decl.many and default is None else default
    return given


def _place_positional(
    command: type[Command], title: str, words: list[str], given: dict[str, Any]
) -> None:
    free = [a for a in command.args if key(a.name) not in given]
    for arg in free:
        if not words:
            return
        if arg.many:
            given[key(arg.name)] = [_convert(arg, w, arg.name.upper()) for w in words]
            words.clear()
            return
        given[key(arg.name)] = _convert(arg, words.pop(0), arg.name.upper())
    if words:
        as_params = [f"{a.name}=" for a in command.args if a not in free]
        if as_params and not free:  # every arg was a name=: e.g. HOST as a word and host=
            raise UsageError(
                f"'{title}' does not take {words[0]!r} here: {', '.join(as_params)} already"
                f" gives what that word would; give each once (see: cairn {title} help)"
            )
        raise UsageError(
            f"'{title}' does not take {words[0]!r} here; a parameter is written name=value,"
            " and a value with spaces needs quotes"
            f" (see: cairn {title} help)"
        )
