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

if TYPE_CHECKING:
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
# Attributes the example cluster of the tests holds, for the `remove` examples.
REMOVABLE = {
    Scope.GLOBAL: "kvm_connection",
    Scope.OS: "ssh_port",
    Scope.APPLIANCE: "kvm_autostart",
    Scope.HOST: "kvm_autostart",
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


def _keep_holders(ctx: Context, name: str) -> None:
    """`kvm` decides which hosts may hold VMs: none that holds some may lose it."""
    if name == "kvm":
        from cairn.inventory.containers import check_holders

        check_holders(ctx.session)


def make_put(scope: Scope, *, replace: bool) -> type[Command]:
    verb = "set" if replace else "add"
    owner_args = () if scope is Scope.GLOBAL else (OWNER_ARG[scope],)

    class Put(Command):
        args = (*owner_args, ATTR, VALUE)
        writes = True
        in_batch = True
        replayable = True
        first = (
            Example(
                _example(verb, scope, "kvm_autostart", "true"),
                "Makes VMs come back when their container restarts"
                + ("." if scope is Scope.GLOBAL else f" ({scope.value} scope)."),
            )
            if replace
            else Example(
                _example(verb, scope, "kvm_machine_type", "q35"),
                "Gives VMs the q35 machine type, if no value is there yet.",
            )
        )
        examples = (
            first,
            Example(
                _example(verb, scope, "kvm_device_0", "value=\"<serial type='pty'/>\""),
                "Adds a serial device to the VMs' <devices> (XML is checked now).",
            ),
        )
        related = (_title("list", scope), _title("remove", scope), "report host attr")

        @classmethod
        def holds(cls, a: dict[str, Any]) -> bool:
            # `add` reads what is there first; `kvm` is read back (_keep_holders).
            return replace and a["attr"] != "kvm"

        def run(self, ctx: Context, a: dict[str, Any]) -> None:
            from cairn import attrcheck
            from cairn.inventory.owners import owners

            for owner in owners(ctx.session, scope, _given(scope, a), all_if_empty=False):
                attrcheck.put(ctx.session, owner, a["attr"], a["value"], replace=replace)
            _keep_holders(ctx, a["attr"])

    Put.__doc__ = (
        f"{'Sets' if replace else 'Adds'} an attribute at {scope.value} scope.\n\n"
        + (
            "Creates the attribute or replaces its value."
            if replace
            else "Refuses an attribute that exists; 'set' replaces."
        )
        + " The value is stored XML-escaped (only & < >), as in Rocks;"
        " 'report host attr' prints it back exactly. An attribute cairn reads is"
        " checked now, from its declaration: 'cairn help attrs' lists them, with"
        " their types and defaults. Names are case-sensitive; a name that differs"
        " from one the owner has, or one cairn reads, only in case is refused."
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
        in_batch = True
        replayable = True
        examples = (Example(_example("remove", scope, REMOVABLE[scope]), "Removes the attribute."),)
        related = (_title("list", scope), _title("set", scope))

        def run(self, ctx: Context, a: dict[str, Any]) -> None:
            from cairn import attrcheck
            from cairn.inventory.owners import owners

            for owner in owners(ctx.session, scope, _given(scope, a), all_if_empty=False):
                attrcheck.remove(ctx.session, owner, a["attr"])
            _keep_holders(ctx, a["attr"])

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
            from cairn.attrs import read
            from cairn.inventory.owners import owners

            found = owners(ctx.session, scope, _given(scope, a), all_if_empty=True)
            ids = None if scope is Scope.GLOBAL else [o.id for o in found if o.id is not None]
            held = read.by_owner(ctx.session, scope, ids)
            rows: list[tuple[Any, ...]] = [
                (*((owner.name,) if head else ()), name, value)
                for owner in found
                for name, value in held.get(owner.id or 0, [])
                if a["attr"] in (None, name)
            ]
            return Table((*head, "ATTR", "VALUE"), rows)

    List.__doc__ = (
        f"Lists the attributes set at {scope.value} scope (values shown escaped).\n\n"
        "The attributes cairn itself reads, with their types, defaults and meaning,"
        " are listed by 'cairn help attrs'."
    )
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
            from cairn.inventory.dump import attr_lines, lines

            return Text(lines(attr_lines(ctx.session, scope, _given(scope, a))))

    Dump.__doc__ = (
        f"Prints the commands that recreate the {scope.value}-scope attributes exactly.\n\n"
        "Every word is quoted for sh, so any value (quotes, $, newlines, XML) round-trips."
    )
    return Dump
