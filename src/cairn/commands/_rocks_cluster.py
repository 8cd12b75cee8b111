"""Rocks' form of `add cluster`: `add cluster IP NUM-COMPUTES [fe-name=] ...`.

Its parameters are Rocks 6.2's (rocksclusters/kvm, `rocks add cluster help`),
turned into the cluster cairn's own form makes: a frontend VM with eth1 on
`public` at IP, installing with the boot action `install vm frontend`, and
NUM-COMPUTES computes on the cluster's own network. vlan=ID makes that network
a VLAN of private, as Rocks did; without, it is a VXLAN (cairn's default).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Param
from cairn.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cairn.vms.clusters import NewCluster

FRONTEND_ACTION = "install vm frontend"
_SIZE = {"cpus": values.integer(1, 4096), "mem": values.integer(64, 4194304)}
_DISK = values.integer(1, 65536)

ROCKS_CLUSTER_PARAMS = (
    Param(
        "fe-name",
        "Rocks: the frontend's name (default frontend-0-0-N)",
        None,
        values.label,
        metavar="NAME",
    ),
    Param(
        "cluster-naming",
        "Rocks: true names the computes vm-FE-NAME-I (needs fe-name=)",
        None,
        values.boolean,
        metavar="BOOL",
    ),
    Param(
        "container-hosts",
        'Rocks: the computes\' containers, in turn ("c1 c2"; default: every VM container)',
        None,
        values.label,
        many=True,
        spaced=True,
        metavar="HOSTS",
    ),
    Param("fe-container", "Rocks: the frontend's container", None, values.label, metavar="HOST"),
    Param("cpus-per-compute", "Rocks: CPUs per compute (1)", None, _SIZE["cpus"], metavar="N"),
    Param("mem-per-compute", "Rocks: MB per compute (1024)", None, _SIZE["mem"], metavar="MB"),
    Param("disk-per-compute", "Rocks: GB of disk per compute (36)", None, _DISK, metavar="GB"),
    Param("cpus-per-frontend", "Rocks: the frontend's CPUs", None, _SIZE["cpus"], metavar="N"),
    Param("mem-per-frontend", "Rocks: the frontend's MB", None, _SIZE["mem"], metavar="MB"),
    Param("disk-per-frontend", "Rocks: the frontend's GB of disk", None, _DISK, metavar="GB"),
    Param("vlan", "Rocks: the cluster's VLAN id", None, values.integer(1, 4094), metavar="ID"),
    Param(
        "virt-type", "Rocks: hvm, the only type with KVM", None, values.choice("hvm"), metavar="hvm"
    ),
)
ROCKS_PARAMS = tuple(p.name.replace("-", "_") for p in ROCKS_CLUSTER_PARAMS)
# cairn's own parameters that Rocks' form does not take (it has its own for them);
# the others (subnet=, carrier=, public=, isolation=, mem=, cpus=) apply to both.
CAIRN_ONLY = ("computes", "id", "public_ip", "network", "frontend")


def rocks_words(keys: list[str]) -> str:
    return ", ".join(k.replace("_", "-") + "=" for k in keys)


def rocks_form(a: dict[str, Any]) -> bool:
    """Whether the command's first word is an address (Rocks' form), not a name."""
    try:
        ipaddress.ip_address(a["cluster"])
    except ValueError:
        return False
    return True


def rocks_cluster(session: Session, a: dict[str, Any]) -> NewCluster:
    from cairn.vms import clusters, placement

    count = a["num_computes"]
    if count is None:
        raise UsageError("give the number of computes after the IP: add cluster IP NUM-COMPUTES")
    if unused := [k for k in CAIRN_ONLY if a[k] not in (None, [], ())]:
        raise UsageError(f"{rocks_words(unused)} belong to cairn's form (add cluster NAME ...)")
    if a["member"]:
        raise UsageError("member= belongs to cairn's form (add cluster NAME ...)")
    if a["cluster_naming"] and not a["fe_name"]:
        raise UsageError("cluster-naming=true names the computes after the frontend: give fe-name=")
    name = a["fe_name"] or _free_frontend_name(session)
    containers = a["container_hosts"] or sorted(h.name for h in placement.vm_capable(session))
    return clusters.NewCluster(
        name=name,
        computes=count,
        subnet=a["subnet"],
        isolation="vlan" if a["vlan"] else a["isolation"],
        isolation_id=a["vlan"],
        carrier=a["carrier"],
        public=values.label(a["public"]),
        public_ip=values.ip(a["cluster"]),
        memory_mb=a["mem_per_compute"] or a["mem"],
        cpus=a["cpus_per_compute"] or a["cpus"],
        # Rocks gave the frontend add host vm's sizes, not the computes'.
        frontend_memory_mb=a["mem_per_frontend"] or a["mem"],
        frontend_cpus=a["cpus_per_frontend"] or a["cpus"],
        frontend_disk_gb=a["disk_per_frontend"],
        disk_gb=a["disk_per_compute"],
        naming="rocks" if a["cluster_naming"] else "container",
        frontend_container=a["fe_container"],
        containers=tuple(containers),
        install_action=FRONTEND_ACTION,
    )


def _free_frontend_name(session: Session) -> str:
    from sqlalchemy import select

    from cairn.db.models import Host

    prefix = "frontend-0-0-"
    names = session.execute(
        select(Host.name).where(Host.name.startswith(prefix, autoescape=True))
    ).scalars()
    taken = {int(n[len(prefix) :]) for n in names if n[len(prefix) :].isdigit()}
    return prefix + str(next(i for i in range(len(taken) + 1) if i not in taken))
