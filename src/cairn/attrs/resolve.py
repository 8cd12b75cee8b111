"""Resolving the attributes of hosts: host > appliance > os > global, plus intrinsic.

A fixed number of queries whatever the number of hosts: one per scope, the
host scope in pieces of MANY hosts. The global+os+appliance layers are merged
once per (os, appliance) pair, so the per-host work is one dict copy; hosts
are resolved a piece at a time (`each_resolved`), so all the hosts' rows are
never held at once. Values stay as stored (escaped); callers unescape what
they consume.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from cairn.attrs import read
from cairn.attrs.scopes import INTRINSIC_TAG, Resolved, Scope
from cairn.db.chunks import pieces
from cairn.db.hostfacts import HostFacts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cairn.db.models import Host


def intrinsic(host: HostFacts) -> dict[str, str]:
    return {
        "hostname": host.name,
        "appliance": host.appliance,
        "os": host.os,
        "rack": str(host.rack),
        "rank": str(host.rank),
        "cpus": str(host.cpus),
    }


Found = tuple[str, str, str]  # (name, stored value, source): one resolved attribute


def _intrinsic(host: HostFacts) -> dict[str, Found]:
    return {name: (name, value, INTRINSIC_TAG) for name, value in intrinsic(host).items()}


def _layer(
    session: Session, scope: Scope, ids: Sequence[int] | None
) -> dict[int, dict[str, Found]]:
    table: dict[int, dict[str, Found]] = {}
    tag = scope.tag
    for owner, name, value in read.rows(session, scope, ids):
        table.setdefault(owner, {})[name] = (name, value, tag)
    return table


def each_resolved(
    session: Session, hosts: Sequence[HostFacts]
) -> Iterator[tuple[HostFacts, list[Found]]]:
    """(host, its attributes as (name, stored value, source) by name) for each
    host, in the order given, reading the host scope a piece of hosts at a time."""
    glob = _layer(session, Scope.GLOBAL, None).get(0, {})
    oses = _layer(session, Scope.OS, sorted({h.os_id for h in hosts}))
    apps = _layer(session, Scope.APPLIANCE, sorted({h.appliance_id for h in hosts}))
    bases: dict[tuple[int, int], dict[str, Found]] = {}
    # The sorted names of a base plus a set of host-scope names: most hosts
    # of a base hold the same names, so the sort is done once for them.
    orders: dict[tuple[tuple[int, int], frozenset[str]], list[str]] = {}
    for piece in pieces(hosts):
        own = _layer(session, Scope.HOST, [h.id for h in piece])
        for host in piece:
            key = (host.os_id, host.appliance_id)
            base = bases.get(key)
            if base is None:
                base = bases[key] = {**glob, **oses.get(key[0], {}), **apps.get(key[1], {})}
            mine = own.get(host.id, {})
            merged = {**base, **mine, **_intrinsic(host)}
            names = orders.get((key, frozenset(mine)))
            if names is None:
                names = orders[key, frozenset(mine)] = sorted(merged)
            # Shared tuples, looked up in C: 10,000 hosts' worth stays cheap.
            yield host, list(map(merged.__getitem__, names))


def resolve_facts(session: Session, hosts: Sequence[HostFacts]) -> dict[int, dict[str, Resolved]]:
    """{host id: {name: Resolved}} sorted by name."""
    return {
        host.id: {name: Resolved(value, source) for name, value, source in found}
        for host, found in each_resolved(session, hosts)
    }


def resolve(session: Session, hosts: Sequence[Host]) -> dict[int, dict[str, Resolved]]:
    """`resolve_facts` for mapped hosts."""
    return resolve_facts(session, [HostFacts.of(h) for h in hosts])
