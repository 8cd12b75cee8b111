"""The layers of STYLE.md's picture, read from the source: a package imports only
the packages below it, whether at the top of a module, inside a function (a
lazy import) or for type checking; and the modules below the command line
import one another without a circle.

Every import counts, so that moving one into a function cannot hide it.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "cairn"

# What each package may import besides itself and the modules every layer may
# read (BASE). db < attrs < inventory < vms is the middle of the picture;
# designer, domainxml and hypervisor sit below it. Nothing here may be added
# to let an import through: move the shared piece down, or pass it in.
# config.py (the administrator's cairn.toml, read by the light db.url) holds
# policy (what VMs may reach, what may run) that every layer enforcing it reads.
BASE = frozenset({"cairn", "errors", "values", "units", "metadata", "config"})
MAY_IMPORT: dict[str, frozenset[str]] = {
    "db": frozenset(),
    "attrs": frozenset({"db"}),
    "inventory": frozenset({"db", "attrs", "hypervisor"}),
    "vms": frozenset(
        {"db", "attrs", "inventory", "designer", "domainxml", "hypervisor", "plugins"}
    ),
    "designer": frozenset({"attrs", "domainxml"}),
    "domainxml": frozenset(),
    "hypervisor": frozenset(),
}
# Left out of the circle check: the command line and the service, whose
# modules call back into each other by design of their own (batch mode).
NO_CIRCLE_CHECK = frozenset({"cli", "service"})


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _modules() -> dict[str, Path]:
    return {_module(p): p for p in SRC.rglob("*.py")}


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of a cairn module in the file."""
    return read_imports(path.read_text(encoding="utf-8"), _module(path), path.name == "__init__.py")


def read_imports(text: str, here: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of a cairn module in the source of module
    `here`, wherever it stands; `from cairn.x import y` gives cairn.x.y as well
    when y is a module."""
    package = here if is_package else here.rpartition(".")[0]
    known = _modules()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([base] if base else [])])
            subs = [f"{base}.{a.name}" for a in node.names]
            names = [base, *(s for s in subs if s in known)]
        else:
            continue
        yield from ((node.lineno, n) for n in names if n == "cairn" or n.startswith("cairn."))


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cairn"


def _top(module: str) -> str:
    """The package or top-level module of cairn that `module` belongs to."""
    return _package(module).removesuffix(".py")


def above(package: str, names: list[str]) -> list[str]:
    """The names among `names` (modules imported by `package`) above it."""
    allowed = MAY_IMPORT[package] | BASE | {package}
    return [n for n in names if _top(n) not in allowed]


def upward(package: str) -> list[str]:
    """The imports of `package` that reach above it, as 'file:line -> module'."""
    paths = sorted((SRC / package).rglob("*.py")) or [SRC / f"{package}.py"]
    return [
        f"{path.relative_to(SRC)}:{line} -> {name}"
        for path in paths
        for line, name in imports(path)
        if above(package, [name])
    ]


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_a_package_imports_nothing_above_it(package: str) -> None:
    assert upward(package) == []


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The sets of modules that import one another round a circle (Tarjan's
    strongly connected components), given what each module imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges.get(v, set())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


# The Airboss sits beside the service: it may run commands as the service does,
# and nothing below may import it, except that a command's tenant side (`key=`)
# sends its request through the Airboss's client and what that needs.
AIRBOSS_CLIENT_SIDE = frozenset(
    {"cairn.airboss", "cairn.airboss.client"} | {f"cairn.airboss.{m}" for m in ("envelope", "keys")}
)


def test_only_the_service_and_a_commands_tenant_side_import_the_airboss() -> None:
    wrong = [
        f"{path.relative_to(SRC)}:{line} -> {name}"
        for module, path in _modules().items()
        if _package(module) not in {"airboss", "service", "cli"}
        for line, name in imports(path)
        if _top(name) == "airboss"
        and (_package(module) != "commands" or name not in AIRBOSS_CLIENT_SIDE)
    ]
    assert wrong == []


def test_no_modules_import_each_other_in_a_circle() -> None:
    checked = {m: p for m, p in _modules().items() if _package(m) not in NO_CIRCLE_CHECK}
    edges = {m: {n for _, n in imports(p) if n in checked and n != m} for m, p in checked.items()}
    assert circles(edges) == []


def test_the_check_sees_lazy_relative_and_type_checking_imports() -> None:
    """The reader of imports finds each kind, so none can slip past the tests above."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from cairn.vms import facts\n"
        "def f():\n    from ..inventory import hostwords\n    import cairn.designer\n"
        "from . import read\n"
        "from cairn import errors\n"
    )
    found = {n for _, n in read_imports(source, "cairn.attrs.probe", False)}
    assert found == {
        "cairn.vms",
        "cairn.vms.facts",
        "cairn.inventory",
        "cairn.inventory.hostwords",
        "cairn.designer",
        "cairn.attrs",
        "cairn.attrs.read",
        "cairn",
        "cairn.errors",
    }
    assert set(above("attrs", sorted(found))) == {
        "cairn.vms",
        "cairn.vms.facts",
        "cairn.inventory",
        "cairn.inventory.hostwords",
        "cairn.designer",
    }


def test_a_circle_is_found() -> None:
    # attrs' old circle: read -> store -> wellknown -> resolve -> read.
    old = {"read": {"store"}, "store": {"wellknown"}, "wellknown": {"resolve"}, "resolve": {"read"}}
    assert circles(old | {"scopes": set(), "owners": {"store", "scopes"}}) == [
        ["read", "resolve", "store", "wellknown"]
    ]
    assert circles({"read": {"store"}, "store": {"wellknown"}, "resolve": {"read"}}) == []
