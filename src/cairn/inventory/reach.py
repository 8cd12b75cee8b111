"""Which containers can put a VM on which network, and why not.

A container reaches a network when:
- the network names a libvirt network (libvirt on every container holds it);
- the network is plain and has a bridge, and the container has an interface on it
  (the bridge is made over that interface);
- the network is isolated (802.1Q VLAN or VXLAN) and the container has an
  interface on its carrier network (for VXLAN, with an address: the tunnel's end).
The rules read the database only; `netplan` turns them into devices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host, Interface, Network
from cairn.errors import CairnError
from cairn.inventory.containers import candidates, is_container


def why_not(network: Network, container: Host) -> str | None:
    """None when `container` reaches `network`, else what to do about it."""
    if network.libvirt_network:
        return None
    if network.isolation is None:
        if not network.bridge:
            return (
                f"network {network.name} has no bridge for VMs (give it one: cairn set network"
                f" {network.name} bridge=NAME)"
            )
        on = network
    else:
        assert network.carrier is not None
        on = network.carrier
    for iface in container.interfaces:
        if iface.network_id == on.id and (network.isolation != "vxlan" or iface.ip):
            return None
    what = "interface" if network.isolation != "vxlan" else "interface with an address"
    via = "" if on is network else f" (its {network.isolation} carrier)"
    return (
        f"container {container.name} cannot reach network {network.name}: it has no {what} on"
        f" network {on.name}{via} (cairn add host interface {container.name} IFACE"
        f" subnet={on.name} ...)"
    )


def check_vm_on(session: Session, vm: VM, container: Host) -> None:
    """Refuse to run `vm` on `container` when one of its networks is out of reach."""
    refused = check_vms_on(session, [(vm, container)])
    if vm.id in refused:
        raise refused[vm.id]


def check_vms_on(session: Session, pairs: Sequence[tuple[VM, Host]]) -> dict[int, CairnError]:
    """{VM id: which of its networks the container paired with it does not
    reach}, the interfaces of all the VMs read at once."""
    by_host = _interfaces(session, [vm.host_id for vm, _ in pairs])
    out = {}
    for vm, container in pairs:
        for iface in by_host.get(vm.host_id, []):
            if iface.network is not None and (reason := why_not(iface.network, container)):
                out[vm.id] = CairnError(f"{vm.host.name} {iface.name}: {reason}")
                break
    return out


_IDS_AT_ONCE = 500  # bound values in one IN list (SQLite caps them near 1,000)


def _interfaces(session: Session, host_ids: Sequence[int]) -> dict[int, list[Interface]]:
    out: dict[int, list[Interface]] = {}
    for at in range(0, len(host_ids), _IDS_AT_ONCE):
        some = host_ids[at : at + _IDS_AT_ONCE]
        query = select(Interface).where(Interface.host_id.in_(some)).order_by(Interface.id)
        for iface in session.execute(query).scalars():
            out.setdefault(iface.host_id, []).append(iface)
    return out


def check_interface(session: Session, iface: Interface) -> None:
    """A VM's interface must be on a network that some container it may run on
    reaches (any VM-capable host: a start's allocation may move it)."""
    network = iface.network
    if network is None or network.libvirt_network:
        return
    host = iface.host
    with session.no_autoflush:
        is_vm = (
            host.id is not None
            and session.execute(select(VM.id).where(VM.host_id == host.id)).first()
        )
    if not is_vm:
        return
    if reached(session, network):
        return
    containers = vm_capable(session)
    first = next((why_not(network, c) for c in containers), None)
    raise CairnError(
        f"no VM container reaches network {network.name}, so {host.name} {iface.name} could"
        f" never start: {first or 'there are no VM containers'}"
    )


def vm_capable(session: Session, *, exclude: int | None = None) -> dict[Host, dict[str, str]]:
    """{host that may run VMs: its resolved attributes}: appliance vm-container,
    or resolved attribute kvm true (the rule of `add host vm`), by name."""
    from cairn.attrs.escape import unescape
    from cairn.attrs.resolve import resolve

    stmt = candidates(session)
    if exclude is not None:
        stmt = stmt.where(Host.id != exclude)
    hosts = list(session.execute(stmt).scalars())
    resolved = resolve(session, hosts)
    return {
        host: {name: unescape(r.value) for name, r in resolved[host.id].items()}
        for host in hosts
        if is_container(host, resolved[host.id])
    }


def reached(session: Session, network: Network) -> bool:
    """Whether some VM container reaches `network` (the rule of `why_not`),
    reading only the hosts with an interface that could carry it."""
    if network.libvirt_network:
        return bool(vm_capable(session))
    on = network if network.isolation is None else network.carrier
    if on is None or (network.isolation is None and not network.bridge):
        return False
    carriers = select(Interface.host_id).where(Interface.network_id == on.id)
    if network.isolation == "vxlan":
        carriers = carriers.where(Interface.ip.is_not(None))
    from cairn.attrs.resolve import resolve

    hosts = list(session.execute(candidates(session).where(Host.id.in_(carriers))).scalars())
    resolved = resolve(session, hosts)
    return any(is_container(h, resolved[h.id]) and why_not(network, h) is None for h in hosts)


def vm_capable_host(session: Session, host: Host) -> bool:
    """Whether `host` may run VMs (the rule of `vm_capable`, for one host)."""
    from cairn.attrs.resolve import resolve

    return is_container(host, resolve(session, [host])[host.id])


def reaching(session: Session, network: Network, containers: Iterable[Host]) -> list[Host]:
    return [c for c in containers if why_not(network, c) is None]
