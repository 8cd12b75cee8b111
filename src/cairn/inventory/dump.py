"""The inventory as `cairn` command lines: `dump ... attr`, `dump host`, and
all but the VMs' part of `cairn dump` (cairn.vms.dump adds it).

Every word is quoted with shlex so that `sh` gives it back exactly, whatever
the value holds (quotes, $, backticks, newlines, XML). Names go in as
parameters (host=vm), never as positional words, so a host named like a
command word (vm, attr, interface) cannot change the command.
Order matters for replay: OSes, appliances, networks, hosts (VMs are hosts
too), interfaces, then the attributes (a `kvm` attribute may be what lets a
container hold VMs).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import read
from cairn.attrs.escape import unescape
from cairn.attrs.scopes import Scope
from cairn.db.chunks import MANY
from cairn.db.hostfacts import natural
from cairn.db.models import OS, Appliance, BootAction, Host, Interface, Network
from cairn.inventory import lookup
from cairn.inventory.networks import dhcp_word
from cairn.inventory.owners import owners


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


def inventory_lines(session: Session) -> Iterator[str]:
    for name in session.execute(select(OS.name).order_by(OS.name)).scalars():
        yield command_line("add", "os", os=name)
    for name in session.execute(select(Appliance.name).order_by(Appliance.name)).scalars():
        yield command_line("add", "appliance", appliance=name)
    nets = session.execute(select(Network).order_by(Network.name)).scalars().all()
    for n in sorted(nets, key=_carrier_depth):  # each carrier before what it carries
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
            dhcp=None if dhcp_word(n) == "no" else dhcp_word(n),
            range=n.dhcp_range,
        )
    for b in session.execute(select(BootAction).order_by(BootAction.name)).scalars():
        yield command_line(
            "add", "bootaction", action=b.name, kernel=b.kernel, ramdisk=b.ramdisk, args=b.args
        )
    yield from host_lines(session, lookup.hosts(session, []))


def _carrier_depth(network: Network) -> int:
    """How many carriers lie under `network` (a loop, which no command makes, ends it)."""
    depth, seen, carrier = 0, {network.id}, network.carrier
    while carrier is not None and carrier.id not in seen:
        seen.add(carrier.id)
        depth, carrier = depth + 1, carrier.carrier
    return depth


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
