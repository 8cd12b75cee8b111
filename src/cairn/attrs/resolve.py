"""Resolving the attributes of hosts: host > appliance > os > global, plus intrinsic.

A fixed number of queries whatever the number of hosts: one per scope. The
global+os+appliance layers are merged once per (os, appliance) pair, so the
per-host work is one dict copy. Values stay as stored (escaped); callers
unescape what they consume. Plain SQL (see `cairn.db.rows`), so read-only
commands resolve without importing SQLAlchemy; `resolve` serves mapped hosts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from cairn.attrs import read
from cairn.attrs.scopes import INTRINSIC_TAG, Scope
from cairn.db.rows import Rows, over_session
from cairn.inventory.hostwords import HostFacts

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cairn.db.models import Host


class Resolved(NamedTuple):
    value: str  # escaped, as stored
    source: str  # G, O, A, H or I


def intrinsic(host: HostFacts) -> dict[str, str]:
    return {
        "hostname": host.name,
        "appliance": host.appliance,
        "os": host.os,
        "rack": str(host.rack),
        "rank": str(host.rank),
        "cpus": str(host.cpus),
    }


def _layer(rows: Rows, scope: Scope, ids: list[int] | None) -> dict[int, dict[str, Resolved]]:
    table: dict[int, dict[str, Resolved]] = {}
    tag = scope.tag
    for owner, name, value in read.rows(rows, scope, ids):
        table.setdefault(owner, {})[name] = Resolved(value, tag)
    return table


def resolve_facts(
    rows: Rows, hosts: Sequence[HostFacts], *, all_hosts: bool = False
) -> dict[int, dict[str, Resolved]]:
    """{host id: {name: Resolved}} sorted by name. `all_hosts` avoids a huge IN list."""

    def ids(values: set[int]) -> list[int] | None:
        return None if all_hosts else sorted(values)

    glob = _layer(rows, Scope.GLOBAL, None).get(0, {})
    oses = _layer(rows, Scope.OS, ids({h.os_id for h in hosts}))
    apps = _layer(rows, Scope.APPLIANCE, ids({h.appliance_id for h in hosts}))
    own = _layer(rows, Scope.HOST, ids({h.id for h in hosts}))
    bases: dict[tuple[int, int], dict[str, Resolved]] = {}
    out: dict[int, dict[str, Resolved]] = {}
    for host in hosts:
        key = (host.os_id, host.appliance_id)
        base = bases.get(key)
        if base is None:
            base = bases[key] = {**glob, **oses.get(key[0], {}), **apps.get(key[1], {})}
        merged = {**base, **own.get(host.id, {})}
        for name, value in intrinsic(host).items():
            merged[name] = Resolved(value, INTRINSIC_TAG)
        out[host.id] = dict(sorted(merged.items()))
    return out


def resolve(
    session: Session, hosts: Sequence[Host], *, all_hosts: bool = False
) -> dict[int, dict[str, Resolved]]:
    """`resolve_facts` for mapped hosts, in the session's transaction."""
    facts = [HostFacts.of(h) for h in hosts]
    return resolve_facts(over_session(session), facts, all_hosts=all_hosts)
