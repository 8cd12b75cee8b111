"""What each page shows, joined from the rows of existing listings (no query of its own).

`vms` is the VM table: `list host vm status=yes` with each VM's MACs and
addresses (`list host interface`), cluster (`list cluster`) and boot action
(`list host boot`). `overview` sums it per container and state; `vm` is one
VM's page. A `scope` (a tenant's cluster) keeps only that cluster's VMs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from cairn.web.commands import Failed, one_vm, rows, run

if TYPE_CHECKING:
    from cairn.service.server import Service

Row = dict[str, Any]


def vms(service: Service, scope: str | None = None) -> list[Row]:
    return _vms(service, scope, rows(service, "list cluster"), full=True)


def _vms(service: Service, scope: str | None, cluster_rows: list[Row], *, full: bool) -> list[Row]:
    """The VM table, given the rows of `list cluster` (the overview uses them
    too); only `full`, each VM's MACs, addresses and boot action, which the
    overview does not show (two listings of every host fewer)."""
    clusters = {r["host"]: r["cluster"] for r in cluster_rows}
    ifaces: dict[str, list[Row]] = defaultdict(list)
    boot: dict[str, Any] = {}
    if full:
        for r in rows(service, "list host interface"):
            ifaces[r["host"]].append(r)
        boot = {r["host"]: r["action"] for r in rows(service, "list host boot")}
    table = []
    seen: set[str] = set()
    for r in rows(service, "list host vm", "status=yes"):
        name = r["vm-host"]
        cluster = clusters.get(name)
        # A VM's further MACs are rows of their own in the listing, not VMs.
        if name in seen or (scope is not None and cluster != scope):
            continue
        seen.add(name)
        mine = ifaces.get(name, [])
        table.append(
            {
                "name": name,
                "state": r.get("status"),
                "container": r.get("container"),
                "cluster": cluster,
                "mem": r.get("mem"),
                "cpus": r.get("cpus"),
                "macs": [i["mac"] for i in mine if i.get("mac")],
                "ips": [i["ip"] for i in mine if i.get("ip")],
                "boot": boot.get(name),
            }
        )
    return table


def overview(service: Service, scope: str | None = None) -> Row:
    cluster_rows = rows(service, "list cluster")
    table = _vms(service, scope, cluster_rows, full=False)
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
