"""The attribute commands of all four scopes, made from one description each.

`add|set|remove|list|dump [os|appliance|host] attr` differ only in the scope and
in the argument that names the owner, so each module under commands/ is one
line: `Command = make_set(Scope.HOST)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.attrs.scopes import Scope
from cairn.cli.spec import Arg, Command, Example, Param, Table, Text
from cairn.commands._words import command_line, lines

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cairn.attrs.store import Owner
    from cairn.context import Context

OWNER_ARG = {
    Scope.OS: Arg("os", "an operating system name (linux)", convert=values.label),
    Scope.APPLIANCE: Arg("appliance", "an appliance name", convert=values.label),
    Scope.HOST: Arg("host", "a host name, appliance name, glob or localhost"),
}
OWNERS_ARG = {
    Scope.OS: Arg("os", "operating system names", required=False, many=True),
    Scope.APPLIANCE: Arg("appliance", "appliance names", required=False, many=True),
    Scope.HOST: Arg(
        "host", "host names, appliance names, globs or localhost", required=False, many=True
    ),
}
SAMPLE_OWNER = {
    Scope.GLOBAL: "",
    Scope.OS: "linux",
    Scope.APPLIANCE: "compute",
    Scope.HOST: "compute-0-0",
}
ATTR = Arg("attr", "the attribute name", convert=values.attr_name)
VALUE = Arg("value", "the value (quote it for the shell; XML is fine)")


def _noun(scope: Scope) -> str:
    return "attr" if scope is Scope.GLOBAL else f"{scope.value} attr"


def _title(verb: str, scope: Scope) -> str:
    return f"{verb} {_noun(scope)}"


def _example(verb: str, scope: Scope, *rest: str) -> str:
    owner = SAMPLE_OWNER[scope]
    return " ".join(w for w in ("cairn", _title(verb, scope), owner, *rest) if w)


def owners(session: Session, scope: Scope, words: list[str], *, all_if_empty: bool) -> list[Owner]:
    from cairn.attrs.store import Owner
    from cairn.db.models import OS, Appliance
    from cairn.inventory import lookup

    if scope is Scope.GLOBAL:
        return [Owner(scope)]
    if scope is Scope.HOST:
        found = lookup.hosts(session, words, all_if_empty=all_if_empty)
        return [Owner(scope, h.id, h.name) for h in found]
    model: Any = OS if scope is Scope.OS else Appliance
    if not words:
        from sqlalchemy import select

        rows = session.execute(select(model).order_by(model.name)).scalars().all()
    else:
        rows = [lookup.one(session, model, w) for w in words]
    return [Owner(scope, r.id, r.name) for r in rows]


def make_put(scope: Scope, *, replace: bool) -> type[Command]:
    verb = "set" if replace else "add"
    owner_args = () if scope is Scope.GLOBAL else (OWNER_ARG[scope],)

    class Put(Command):
        args = (*owner_args, ATTR, VALUE)
        writes = True
        examples = (
            Example(
                _example(verb, scope, "kvm_autostart", "true"),
                "Makes VMs come back when their container restarts"
                + ("" if scope is Scope.GLOBAL else f" ({scope.value} scope)."),
            ),
            Example(
                _example(verb, scope, "kvm_device_0", "value=\"<serial type='pty'/>\""),
                "Adds a serial device to the VMs' <devices> (XML is checked now).",
            ),
        )
        related = (_title("list", scope), _title("remove", scope), "report host attr")

        def run(self, ctx: Context, a: dict[str, Any]) -> None:
            from cairn.attrs import store

            for owner in owners(ctx.session, scope, _given(scope, a), all_if_empty=False):
                store.put(ctx.session, owner, a["attr"], a["value"], replace=replace)

    Put.__doc__ = (
        f"{'Sets' if replace else 'Adds'} an attribute at {scope.value} scope.\n\n"
        + (
            "Creates the attribute or replaces its value."
            if replace
            else "Refuses an attribute that exists; 'set' replaces."
        )
        + " The value is stored XML-escaped (only & < >), as in Rocks;"
        " 'report host attr' prints it back exactly."
    )
    return Put


def _given(scope: Scope, a: dict[str, Any]) -> list[str]:
    if scope is Scope.GLOBAL:
        return []
    value = a[scope.value]
    return value if isinstance(value, list) else [value]


def make_remove(scope: Scope) -> type[Command]:
    owner_args = () if scope is Scope.GLOBAL else (OWNER_ARG[scope],)

    class Remove(Command):
        args = (*owner_args, ATTR)
        writes = True
        examples = (Example(_example("remove", scope, "kvm_autostart"), "Removes the attribute."),)
        related = (_title("list", scope), _title("set", scope))

        def run(self, ctx: Context, a: dict[str, Any]) -> None:
            from cairn.attrs import store

            for owner in owners(ctx.session, scope, _given(scope, a), all_if_empty=False):
                store.remove(ctx.session, owner, a["attr"])

    Remove.__doc__ = f"Removes an attribute at {scope.value} scope."
    return Remove


def make_list(scope: Scope) -> type[Command]:
    owner_args = () if scope is Scope.GLOBAL else (OWNERS_ARG[scope],)
    head = () if scope is Scope.GLOBAL else (scope.value.upper(),)

    class List(Command):
        args = owner_args
        params = (Param("attr", "show only this attribute", metavar="NAME"),)
        lists = True
        examples = (Example(_example("list", scope), "Lists the attributes, escaped as stored."),)
        related = (_title("set", scope), _title("dump", scope))

        def run(self, ctx: Context, a: dict[str, Any]) -> Table:
            from cairn.attrs import store

            rows: list[tuple[Any, ...]] = []
            for owner in owners(ctx.session, scope, _given(scope, a), all_if_empty=True):
                ids = None if owner.id is None else [owner.id]
                for _, name, value in store.rows(ctx.session, scope, ids):
                    if a["attr"] in (None, name):
                        rows.append((*((owner.name,) if head else ()), name, value))
            return Table((*head, "ATTR", "VALUE"), rows)

    List.__doc__ = f"Lists the attributes set at {scope.value} scope (values shown escaped)."
    return List


def make_dump(scope: Scope) -> type[Command]:
    owner_args = () if scope is Scope.GLOBAL else (OWNERS_ARG[scope],)

    class Dump(Command):
        args = owner_args
        examples = (
            Example(_example("dump", scope), "Prints 'cairn set ...' lines; pipe them to sh."),
        )
        related = (_title("list", scope),)

        def run(self, ctx: Context, a: dict[str, Any]) -> Text:
            return Text(lines(dump_lines(ctx.session, scope, _given(scope, a))))

    Dump.__doc__ = (
        f"Prints the commands that recreate the {scope.value}-scope attributes exactly.\n\n"
        "Every word is quoted for sh, so any value (quotes, $, newlines, XML) round-trips."
    )
    return Dump


def dump_lines(session: Session, scope: Scope, words: list[str]) -> list[str]:
    from cairn.attrs import store
    from cairn.attrs.escape import unescape

    found = owners(session, scope, words, all_if_empty=True)
    ids = None if scope is Scope.GLOBAL or not words else [o.id for o in found if o.id is not None]
    by_owner: dict[int, list[tuple[str, str]]] = {}
    for owner_id, name, value in store.rows(session, scope, ids):
        by_owner.setdefault(owner_id, []).append((name, value))
    words_ = _title("set", scope).split()
    out = []
    for owner in found:
        who = () if scope is Scope.GLOBAL else (owner.name,)
        for name, value in by_owner.get(owner.id or 0, []):
            out.append(command_line(*words_, *who, name, value=unescape(value)))
    return out
