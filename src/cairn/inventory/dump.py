"""The database as `cairn` command lines: `cairn dump`, `dump ... attr`, `dump host vm`.

Every word is quoted with shlex so that `sh` gives it back exactly, whatever
the value holds (quotes, $, backticks, newlines, XML). Names go in as
parameters (host=vm), never as positional words, so a host named like a
command word (vm, attr, interface) cannot change the command.
Order matters for replay: OSes, appliances, networks, hosts (VMs are hosts
too), interfaces, the attributes (a `kvm` attribute may be what lets a
container hold VMs), then each VM's definition as Rocks wrote it (`set host
vm HOST physnode=...`), a VM that holds VMs before them.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import read
from cairn.attrs.escape import unescape
from cairn.attrs.owners import owners
from cairn.attrs.scopes import Scope
from cairn.db.chunks import MANY
from cairn.db.models import OS, VM, Appliance, BootAction, Cluster, Host, Interface, Network
from cairn.inventory import lookup
from cairn.vms.facts import natural


def command_line(*words: str, **params: object) -> str:
    parts = ["cairn", *(shlex.quote(w) for w in words)]
    for name, given in params.items():
        for value in given if isinstance(given, list | tuple) else [given]:
            if value is None:
                continue
            shown = ("yes" if value else "no") if isinstance(value, bool) else str(value)
            parts.append(f"{name.replace('_', '-')}={shlex.quote(shown)}")
    return " ".join(parts)


def lines(commands: Iterable[str]) -> str:
    body = "\n".join(commands)
    return body + "\n" if body else ""


def attr_lines(session: Session, scope: Scope, words: list[str]) -> list[str]:
    found = owners(session, scope, words, all_if_empty=True)
    ids = None if scope is Scope.GLOBAL or not words else [o.id for o in found if o.id is not None]
    held = read.by_owner(session, scope, ids)
    return [
        _attr_line(scope, owner.name, name, value)
        for owner in found
        for name, value in held.get(owner.id or 0, [])
    ]


def _attr_line(scope: Scope, owner: str, name: str, stored: str) -> str:
    if scope is Scope.GLOBAL:
        return command_line("set", "attr", attr=name, value=unescape(stored))
    return command_line(
        "set", scope.value, "attr", **{scope.value: owner}, attr=name, value=unescape(stored)
    )


def _interface_line(host: str, i: Interface) -> str:
    return command_line(
        "add",
        "host",
        "interface",
        host=host,
        iface=i.name,
        mac=i.mac,
        ip=i.ip,
        subnet=i.network.name if i.network else None,
        vlan=i.vlan,
        name=i.hostname,
        module=i.module,
        disablekvm=i.disablekvm or None,
    )


def _boot_line(host: str, boot: str) -> str:
    return command_line("set", "host", "boot", host=host, action=boot)


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
    out = list(_inventory(session))
    # Attributes before the VMs: `kvm` may be what lets a container hold them
    # (a VM's own included: a VM may itself be a container).
    for scope in (Scope.GLOBAL, Scope.OS, Scope.APPLIANCE, Scope.HOST):
        out += attr_lines(session, scope, [])
    vms = session.execute(select(VM)).scalars().all()
    out += vm_lines(session, _containers_first(vms))
    out += cluster_lines(session)
    return out


def cluster_lines(session: Session) -> list[str]:
    """Each virtual cluster as `add cluster` adopting its network and VMs."""
    from cairn.vms.clusters import members

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


def _inventory(session: Session) -> Iterator[str]:
    for name in session.execute(select(OS.name).order_by(OS.name)).scalars():
        yield command_line("add", "os", os=name)
    for name in session.execute(select(Appliance.name).order_by(Appliance.name)).scalars():
        yield command_line("add", "appliance", appliance=name)
    nets = session.execute(select(Network).order_by(Network.name)).scalars().all()
    for n in sorted(nets, key=lambda n: n.carrier_id is not None):  # carriers first
        yield command_line(
            "add",
            "network",
            network=n.name,
            subnet=n.subnet,
            netmask=n.netmask,
            bridge=n.bridge,
            libvirt_network=n.libvirt_network,
            isolation=n.isolation,
            id=n.isolation_id,
            carrier=n.carrier.name if n.carrier else None,
            dhcp=n.dhcp or None,
            range=n.dhcp_range,
        )
    for b in session.execute(select(BootAction).order_by(BootAction.name)).scalars():
        yield command_line(
            "add", "bootaction", action=b.name, kernel=b.kernel, ramdisk=b.ramdisk, args=b.args
        )
    yield from host_lines(session, lookup.hosts(session, []))


def host_lines(session: Session, hosts: Sequence[Host]) -> Iterator[str]:
    """`add host` for each host, then each one's interfaces (Rocks' `dump host`)."""
    for h in hosts:
        yield command_line(
            "add",
            "host",
            host=h.name,
            appliance=h.appliance.name,
            rack=h.rack,
            rank=h.rank,
            cpus=h.cpus,
            os=h.os.name,
        )
    held: dict[int, list[Interface]] = {h.id: [] for h in hosts}
    stmt = select(Interface)
    if len(hosts) <= MANY:
        stmt = stmt.where(Interface.host_id.in_(list(held)))
    for i in session.execute(stmt).scalars():
        if i.host_id in held:
            held[i.host_id].append(i)
    for h in hosts:  # in host order, so a dump of a replayed dump is the same
        for i in sorted(held[h.id], key=lambda i: natural(i.name)):
            yield _interface_line(h.name, i)
    for h in hosts:
        if h.boot:
            yield _boot_line(h.name, h.boot)
