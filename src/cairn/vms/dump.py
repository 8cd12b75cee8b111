"""The VMs and virtual clusters as `cairn` command lines (`dump host vm`), and
the whole database as them (`cairn dump`): the inventory's lines
(cairn.inventory.dump), the attributes, then each VM's definition as Rocks
wrote it (`set host vm HOST physnode=...`), a VM that holds VMs before them,
then the clusters and their tenants' keys. It lives here, above the inventory, because VMs and
clusters are the last part of the order a replay needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.scopes import Scope
from cairn.db.models import VM, Cluster
from cairn.inventory.dump import attr_lines, command_line, inventory_lines
from cairn.vms.clusters import members


def vm_lines(
    session: Session, vms: Sequence[VM], commands: frozenset[str] | None = None
) -> list[str]:
    """Each VM's definition as Rocks' `dump host vm` wrote it, `set host vm HOST
    physnode=...` (which makes an existing host a VM), with its UUID and CDROM.
    The hosts themselves, their interfaces and attributes come first (`dump`).
    With `commands` (the words that make a longer command after `set host vm`),
    a host not named like one is a positional word, as Rocks wrote it."""
    out = []
    for vm in vms:
        name = vm.host.name
        positional = commands is not None and name not in commands
        out.append(
            command_line(
                "set",
                "host",
                "vm",
                *([name] if positional else []),
                host=None if positional else name,
                physnode=vm.container.name,
                mem=vm.memory_mb,
                slice=vm.slice,
                uuid=vm.uuid,
                disk=[f"{d.kind}:{d.path},{d.device},{d.bus}" for d in vm.disks],
                disksize=[d.size_gb for d in vm.disks],
            )
        )
        if vm.cdrom:
            out.append(
                command_line("set", "host", "vm", "cdrom", host=vm.host.name, cdrom=vm.cdrom)
            )
    return out


def _containers_first(vms: Sequence[VM]) -> list[VM]:
    """By name, except that a VM that holds other VMs comes before them."""
    by_host = {vm.host_id: vm for vm in vms}
    placed: set[int] = set()
    out: list[VM] = []

    def place(vm: VM) -> None:
        if vm.id in placed:
            return
        placed.add(vm.id)
        if vm.container_id in by_host:
            place(by_host[vm.container_id])
        out.append(vm)

    for vm in sorted(vms, key=lambda vm: vm.host.name):
        place(vm)
    return out


def everything(session: Session) -> list[str]:
    out = list(inventory_lines(session))
    # Attributes before the VMs: `kvm` may be what lets a container hold them
    # (a VM's own included: a VM may itself be a container).
    for scope in (Scope.GLOBAL, Scope.OS, Scope.APPLIANCE, Scope.HOST):
        out += attr_lines(session, scope, [])
    vms = session.execute(select(VM)).scalars().all()
    out += vm_lines(session, _containers_first(vms))
    out += cluster_lines(session)
    out += key_lines(session)
    return out


def key_lines(session: Session) -> list[str]:
    """Each tenant key as `add host key FRONTEND key=LINE`, after the clusters
    whose frontends they are bound to."""
    from cairn.vms.tenantkeys import listed

    return [
        command_line(
            "add", "host", "key", host.name, key=f"{key.public_key} {key.comment or ''}".rstrip()
        )
        for host, key in listed(session)
    ]


def cluster_lines(session: Session) -> list[str]:
    """Each virtual cluster as `add cluster` adopting its network and VMs."""
    out = []
    for cluster in session.execute(select(Cluster).order_by(Cluster.name)).scalars():
        vms = members(session, cluster)
        out.append(
            command_line(
                "add",
                "cluster",
                cluster=cluster.name,
                network=cluster.network.name,
                frontend=cluster.frontend.name if cluster.frontend else None,
                member=[vm.host.name for vm in vms if vm.host_id != cluster.frontend_id],
                computes=0,
            )
        )
    return out
