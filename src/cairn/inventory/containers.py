"""Which hosts are VM containers and how cairn reaches each one.

A host runs VMs if its appliance is vm-container or its resolved attribute
`kvm` is true (the one boolean rule of cairn.attrs.wellknown.flag). The
libvirt URI of a container is its resolved kvm_connection, a URI template in
which `{host}` is the container's name (qemu+ssh://{host}/system,
qemu+tls://{host}/system; qemu:///system means this machine). Unset:
qemu:///system for this machine, qemu+ssh://{host}/system for the others
(what Rocks did). Nothing here talks to libvirt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.resolve import resolve, resolve_facts
from cairn.attrs.scopes import Resolved
from cairn.db.hostfacts import HostFacts, local_hostname
from cairn.db.models import Host
from cairn.errors import CairnError, Conflict

VM_CONTAINER = "vm-container"
LOCAL = "qemu:///system"
REMOTE = "qemu+ssh://{host}/system"


def is_container(host: Host, attrs: Mapping[str, Resolved]) -> bool:
    """Whether `host` (with its resolved attributes) may run VMs."""
    return host.appliance.name == VM_CONTAINER or wellknown.flag(attrs, "kvm", host.name)


def candidates(session: Session) -> Select[Host]:
    """The hosts that may be containers, without resolving every host's
    attributes: those of appliance vm-container and those that some scope
    gives an attribute kvm (`is_container` then judges its value). When the
    global scope holds kvm, that is every host."""
    from cairn.db.models import Appliance, ApplianceAttr, GlobalAttr, HostAttr, OSAttr

    stmt = select(Host).order_by(Host.name)
    if session.execute(select(GlobalAttr.id).where(GlobalAttr.name == "kvm")).first():
        return stmt
    return stmt.where(
        or_(
            Host.appliance_id.in_(select(Appliance.id).where(Appliance.name == VM_CONTAINER)),
            Host.appliance_id.in_(
                select(ApplianceAttr.appliance_id).where(ApplianceAttr.name == "kvm")
            ),
            Host.os_id.in_(select(OSAttr.os_id).where(OSAttr.name == "kvm")),
            Host.id.in_(select(HostAttr.host_id).where(HostAttr.name == "kvm")),
        )
    )


def check_container(session: Session, host: Host) -> None:
    """Refuse a host that cannot run VMs, saying how to enable it."""
    refused = check_containers(session, [host])
    if host.id in refused:
        raise refused[host.id]


def check_containers(session: Session, hosts: Sequence[Host]) -> dict[int, CairnError]:
    """{host id: why it cannot run VMs} of `hosts`, resolved all at once."""
    unique = list({h.id: h for h in hosts}.values())
    resolved = resolve(session, unique)
    return {
        host.id: CairnError(
            f"host {host.name} cannot run VMs: its appliance is {host.appliance.name}, not"
            f" {VM_CONTAINER}, and its attribute kvm is not true; enable it with"
            f" 'cairn set host attr {host.name} kvm true' and apply its profile again"
        )
        for host in unique
        if not is_container(host, resolved[host.id])
    }


def check_holders(session: Session) -> None:
    """Refuse a change after which a host that holds VMs could not run them
    (its kvm attribute removed or false, its appliance changed): its VMs could
    neither start nor be dumped and replayed."""
    from sqlalchemy import select

    from cairn.db.models import VM

    session.flush()
    holders = list(
        session.execute(select(Host).where(Host.id.in_(select(VM.container_id)))).scalars()
    )
    resolved = resolve(session, holders)
    for host in holders:
        if not is_container(host, resolved[host.id]):
            guests = sorted(
                session.execute(
                    select(Host.name)
                    .join(VM, VM.host_id == Host.id)
                    .where(VM.container_id == host.id)
                ).scalars()
            )
            more = " and more" if len(guests) > 3 else ""
            raise Conflict(
                f"host {host.name} holds the VMs {', '.join(guests[:3])}{more}, so it must"
                " stay a VM container (appliance vm-container, or attribute kvm true);"
                " move them (set host vm ... physnode=) or remove them first"
            )


def container_uris(
    session: Session,
    containers: Sequence[Host] | Sequence[HostFacts],
    *,
    unusable: dict[Host, str] | None = None,
) -> dict[int, str]:
    """{container host id: libvirt URI}, of mapped hosts or their facts. A
    container whose URI cannot be made (a host name or kvm_connection no URI
    may hold) raises CairnError, unless `unusable` is given: it is then left
    out and put there with the reason, so that one bad row does not blind a
    caller that watches every container."""
    from cairn.hypervisor.uri import uri_for

    unique: list[Any] = list({h.id: h for h in containers}.values())
    resolved = resolve_facts(
        session, [h if isinstance(h, HostFacts) else HostFacts.of(h) for h in unique]
    )
    me = local_hostname()
    out = {}
    for host in unique:
        template = wellknown.text(resolved[host.id], "kvm_connection")
        if template is None:
            template = LOCAL if host.name == me else REMOTE
        try:
            out[host.id] = uri_for(template, host.name)
        except CairnError as exc:
            if unusable is None:
                raise
            unusable[host] = str(exc)
    return out
