"""Help text generated from what a command declares; nothing is written twice."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from cairn.cli import tree
from cairn.cli.parse import OUTPUT_PARAMS
from cairn.cli.spec import Command, Param, Table


def summary(command: type[Command]) -> str:
    doc = (command.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


def usage(command: type[Command], title: str) -> str:
    words = [f"cairn {title}", *(a.shown for a in command.args)]
    words += [p.shown for p in command.params]
    return " ".join(words)


def _block(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(left) for left, _ in rows)
    return [f"  {left.ljust(width)}  {right}" for left, right in rows]


def _wrapped(doc: str, width: int = 79) -> str:
    """Paragraphs filled to `width`; indented ones (examples, lists) kept as written."""
    import textwrap

    paragraphs = doc.split("\n\n")
    return "\n\n".join(
        p
        if any(line[:1].isspace() or line[:2] in ("- ", "* ") for line in p.splitlines())
        else textwrap.fill(p, width)
        for p in paragraphs
    )


def command_help(command: type[Command], title: str) -> str:
    doc = _wrapped(inspect.cleandoc(command.__doc__ or ""))
    lines = [usage(command, title), "", doc, ""]
    if command.args:
        lines.append("Arguments:")
        lines += _block(
            [
                (a.shown, f"{a.help} (also {a.name}=)" if not a.many else a.help)
                for a in command.args
            ]
        )
        lines.append("")
    if command.params:
        lines.append("Parameters:")
        lines += _block([(p.shown, _param_help(p)) for p in command.params])
        lines.append("")
    if command.examples:
        lines.append("Examples:")
        for ex in command.examples:
            lines += [f"  $ {ex.command}", f"      {ex.says}"]
        lines.append("")
    if _returns_table(command):
        outs = ", ".join(p.shown for p in OUTPUT_PARAMS)
        lines += [f"Output: {outs}", ""]
    if command.related:
        lines += ["Related: " + ", ".join(command.related), ""]
    return "\n".join(lines).rstrip() + "\n"


def _param_help(p: Param) -> str:
    if p.default not in (None, [], ()) and not p.required:
        return f"{p.help} (default: {_shown_default(p.default)})"
    return p.help


def _shown_default(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _returns_table(command: type[Command]) -> bool:
    return command.lists


def overview() -> Table:
    rows: list[Sequence[Any]] = []
    for words in tree.all_commands():
        rows.append((" ".join(words), summary(tree.load(words))))
    return Table(("COMMAND", "SUMMARY"), rows)


def attributes() -> Table:
    """The attributes cairn reads, from their declarations (cairn help attrs)."""
    from cairn.attrs.wellknown import KNOBS, RENAMED

    rows: list[Sequence[Any]] = [(k.name, k.kind, k.default or "-", k.scope, k.help) for k in KNOBS]
    rows += [(old, "Rocks' name", "-", "-", f"refused: set {new}") for old, new in RENAMED.items()]
    return Table(("ATTRIBUTE", "TYPE", "DEFAULT", "SET AT", "MEANING"), rows)


OVERVIEW_HEAD = (
    "usage: cairn <verb> <noun>... [ARG...] [name=value...]\n"
    "       cairn <command words> help    (usage, parameters and examples)\n"
    "       cairn help attrs              (the attributes cairn reads)\n"
    "       cairn --version\n"
)
