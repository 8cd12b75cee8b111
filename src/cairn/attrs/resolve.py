"""Resolving the attributes of hosts: host > appliance > os > global, plus intrinsic.

A fixed number of queries whatever the number of hosts: one per scope.
Values stay as stored (escaped); callers unescape what they consume.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cairn.attrs import store
from cairn.attrs.scopes import INTRINSIC_TAG, Scope
from cairn.db.models import Host


@dataclass(frozen=True)
class Resolved:
    value: str  # escaped, as stored
    source: str  # G, O, A, H or I


def intrinsic(host: Host) -> dict[str, str]:
    return {
        "hostname": host.name,
        "appliance": host.appliance.name,
        "os": host.os.name,
        "rack": str(host.rack),
        "rank": str(host.rank),
        "cpus": str(host.cpus),
    }


def resolve(session: Session, hosts: list[Host], *, all_hosts: bool = False) -> dict[int, dict[str, Resolved]]:
    """{host id: {name: Resolved}} sorted by name. `all_hosts` avoids a huge IN list."""
    def ids(values: set[int]) -> list[int] | None:
        return None if all_hosts else sorted(values)

    by_scope: dict[Scope, dict[int, dict[str, str]]] = {}
    owner_ids = {
        Scope.GLOBAL: None,
        Scope.OS: ids({h.os_id for h in hosts}),
        Scope.APPLIANCE: ids({h.appliance_id for h in hosts}),
        Scope.HOST: ids({h.id for h in hosts}),
    }
    for scope, wanted in owner_ids.items():
        table: dict[int, dict[str, str]] = {}
        for owner, name, value in store.rows(session, scope, wanted):
            table.setdefault(owner, {})[name] = value
        by_scope[scope] = table
    out: dict[int, dict[str, Resolved]] = {}
    for host in hosts:
        merged: dict[str, Resolved] = {}
        for scope, owner in (
            (Scope.GLOBAL, 0),
            (Scope.OS, host.os_id),
            (Scope.APPLIANCE, host.appliance_id),
            (Scope.HOST, host.id),
        ):
            tag = scope.tag
            for name, value in by_scope[scope].get(owner, {}).items():
                merged[name] = Resolved(value, tag)
        for name, value in intrinsic(host).items():
            merged[name] = Resolved(value, INTRINSIC_TAG)
        out[host.id] = dict(sorted(merged.items()))
    return out
