"""What each page shows, from the rows of existing listings (no query of its own).

`vms` is the VM table: what `list host vm status=yes` shows of each VM with
its MACs and addresses (`list host interface`), cluster and boot action
(`list host boot`), read by `vmrows` in one pass; `vm_page` is one page of
it as GET /vms renders it and GET /api/vms answers it. `overview` sums it per
container and state; `vm` is one VM's page. A `scope` (a tenant's cluster)
keeps only that cluster's VMs.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from cairn.web import table as paged
from cairn.web import vmrows
from cairn.web.commands import Failed, one_vm, rows, run

if TYPE_CHECKING:
    from cairn.service.server import Service

Row = dict[str, Any]


def vms(service: Service, scope: str | None = None) -> list[Row]:
    return _vms(service, scope, full=True)


def vm_page(service: Service, scope: str | None, wanted: paged.Query) -> Row:
    """One page of the VM table, filtered and sorted (`table.page`)."""
    return paged.page(_vms(service, scope, full=True), wanted)


def _vms(service: Service, scope: str | None, *, full: bool) -> list[Row]:
    """The VM table (`vmrows`), only `scope`'s cluster's VMs when given; only
    `full`, each VM's MACs, addresses and boot action, which the overview does
    not show."""
    table = vmrows.rows(service, full=full)
    return table if scope is None else [r for r in table if r["cluster"] == scope]


def overview(service: Service, scope: str | None = None) -> Row:
    cluster_rows = rows(service, "list cluster")
    table = _vms(service, scope, full=False)
    hosts = {r["host"]: r for r in rows(service, "list host")}
    containers: dict[str, Row] = {
        name: _container(name, h.get("cpus"))
        for name, h in hosts.items()
        if h.get("appliance") == "vm-container" and scope is None
    }
    for vm in table:
        name = vm["container"]
        if name is None:
            continue
        c = containers.setdefault(name, _container(name, hosts.get(name, {}).get("cpus")))
        c["vms"] += 1
        c["running"] += vm["state"] == "running"
        c["mem"] += vm["mem"] or 0
        c["vcpus"] += vm["cpus"] or 0
        if vm["state"] == "unreachable":
            c["reachable"] = False
        elif c["reachable"] is None:
            c["reachable"] = True
    clusters: dict[str, Row] = {}
    for r in cluster_rows:
        if scope is not None and r["cluster"] != scope:
            continue
        c = clusters.setdefault(
            r["cluster"], {"name": r["cluster"], "network": r["network"], "vms": 0}
        )
        c["vms"] += 1
        if r.get("role") == "frontend":
            c["frontend"] = r["host"]
    networks = [] if scope is not None else rows(service, "list network")
    return {
        "containers": sorted(containers.values(), key=lambda c: c["name"]),
        "clusters": sorted(clusters.values(), key=lambda c: c["name"]),
        "networks": networks,
        "states": dict(sorted(Counter(str(v["state"]) for v in table).items())),
        "total": len(table),
    }


def _container(name: str, cpus: Any) -> Row:
    return {
        "name": name,
        "cpus": cpus,
        "vms": 0,
        "running": 0,
        "mem": 0,
        "vcpus": 0,
        "reachable": None,
    }


def vm(service: Service, name: str) -> Row:
    row = one_vm(service, name)
    host = f"host={name}"
    disks = rows(service, "list host vm", host, "showdisks=yes", "status=yes")
    try:
        snapshots: Any = rows(service, "list host vm snapshot", host)
    except Failed as exc:  # e.g. raw disks: the page says why there are none
        snapshots = str(exc)
    xml = run(service, ["report", "host", "vm", "config"], [host]).get("text", "")
    return {
        "name": name,
        "definition": row,
        "host": (rows(service, "list host", host) or [{}])[0],
        "disks": [{k: d.get(k) for k in ("disk", "disksize", "realsize")} for d in disks],
        "snapshots": snapshots,
        "interfaces": rows(service, "list host interface", host),
        "boot": (rows(service, "list host boot", host) or [{}])[0].get("action"),
        "xml": xml,
    }
