"""Adding and changing VM definitions, with the rules a container must meet."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.escape import unescape
from cairn.attrs.resolve import resolve
from cairn.db.models import VM, Host, Interface, VMDisk
from cairn.db.rows import MANY, over_session
from cairn.errors import CairnError, Conflict, NotFound
from cairn.inventory import hosts as inventory
from cairn.inventory import networks
from cairn.inventory.lookup import one
from cairn.values import boolean
from cairn.vms import disks as disklib
from cairn.vms import macs
from cairn.vms.facts import VMFacts, vm_facts

VM_CONTAINER = "vm-container"


@dataclass
class NewVM:
    container: str
    appliance: str = "hosted-vm"
    name: str | None = None
    memory_mb: int = 2048
    cpus: int = 1
    slice: int | None = None
    macs: list[str] = field(default_factory=list)
    num_macs: int = 1
    disks: list[str] = field(default_factory=list)
    disksizes: list[int] = field(default_factory=list)
    vlan: int | None = None
    ip: str | None = None
    subnet: str | None = None
    virt_type: str = "hvm"
    uuid: str | None = None


def attr(session: Session, host: Host, name: str, default: str | None = None) -> str | None:
    found = resolve(session, [host])[host.id].get(name)
    return unescape(found.value) if found else default


def check_container(session: Session, host: Host) -> None:
    """Refuse a host that cannot run VMs, saying how to enable it."""
    if host.appliance.name == VM_CONTAINER:
        return
    value = attr(session, host, "kvm", "false") or "false"
    try:
        if boolean(value):
            return
    except ValueError:
        pass
    raise CairnError(
        f"host {host.name} cannot run VMs: its appliance is {host.appliance.name}, not"
        f" {VM_CONTAINER}, and its attribute kvm is not true; enable it with"
        f" 'cairn set host attr {host.name} kvm true' and apply its profile again"
    )


def vm_of(session: Session, host: Host) -> VM:
    vm = session.execute(select(VM).where(VM.host_id == host.id)).scalar_one_or_none()
    if vm is None:
        raise NotFound(f"host {host.name} is not a virtual machine (see: cairn list host vm)")
    return vm


def _free_slice(session: Session, container: Host, appliance: str | None = None) -> int:
    """The lowest slice free on the container; with `appliance`, also one whose
    default name is free (another container with the same rack and rank, or a
    VM moved away, may hold the name)."""
    used = set(session.execute(select(VM.slice).where(VM.container_id == container.id)).scalars())
    if appliance is not None:
        prefix = _default_name(appliance, container, "")
        names = session.execute(
            select(Host.name).where(Host.name.startswith(prefix, autoescape=True))
        ).scalars()
        used |= {int(n[len(prefix) :]) for n in names if n[len(prefix) :].isdigit()}
    return next(i for i in range(len(used) + 1) if i not in used)


def _default_name(appliance: str, container: Host, slice_: int | str) -> str:
    return f"{appliance}-{container.rack}-{container.rank}-{slice_}"


def _disks(
    session: Session, container: Host, name: str, given: list[str], sizes: list[int]
) -> list[VMDisk]:
    if given:
        specs = disklib.assign_devices([disklib.parse(s) for s in given])
    else:
        directory = (
            attr(session, container, "kvm_disk_dir", disklib.DEFAULT_DIR) or disklib.DEFAULT_DIR
        )
        specs = [disklib.default(directory, name)]
    if len(sizes) > len(specs):
        raise CairnError(f"{len(sizes)} disksize values for {len(specs)} disks; give one per disk")
    return [
        VMDisk(
            position=i,
            kind=s.kind,
            path=s.path,
            device=s.device,
            bus=s.bus,
            size_gb=sizes[i] if i < len(sizes) else disklib.DEFAULT_SIZE_GB,
        )
        for i, s in enumerate(specs)
    ]


def add(session: Session, new: NewVM) -> VM:
    container = inventory_host(session, new.container)
    check_container(session, container)
    if new.slice is not None:
        slice_ = new.slice
    else:
        slice_ = _free_slice(session, container, None if new.name else new.appliance)
    taken = session.execute(
        select(VM.id).where(VM.container_id == container.id, VM.slice == slice_)
    ).first()
    if taken:
        raise Conflict(
            f"slice {slice_} of {container.name} is taken; leave slice= out for a free one"
        )
    name = new.name or _default_name(new.appliance, container, slice_)
    if not new.name and session.execute(select(Host.id).where(Host.name == name)).first():
        raise Conflict(f"host {name} exists already: give the VM a name= (or another slice=)")
    host = inventory.add_host(
        session,
        name,
        new.appliance,
        rack=container.rack,
        rank=container.rank,
        cpus=new.cpus,
        os=container.os.name,
    )
    _add_interfaces(session, container, host, new)
    vm = VM(
        host=host,
        container=container,
        slice=slice_,
        memory_mb=new.memory_mb,
        virt_type=new.virt_type,
        uuid=_uuid(session, new.uuid),
        disks=_disks(session, container, name, new.disks, new.disksizes),
    )
    session.add(vm)
    session.flush()
    return vm


def _uuid(session: Session, given: str | None) -> str:
    if given is None:
        return str(uuidlib.uuid4())
    try:
        value = str(uuidlib.UUID(given))
    except ValueError:
        raise CairnError(f"uuid {given!r} is not a UUID") from None
    other = session.execute(select(VM).where(VM.uuid == value)).scalar_one_or_none()
    if other is not None:
        raise Conflict(f"uuid {value} is used by {other.host.name}; leave uuid= out for a new one")
    return value


def _add_interfaces(session: Session, container: Host, host: Host, new: NewVM) -> None:
    count = max(new.num_macs, len(new.macs))
    twice = sorted({m for m in new.macs if new.macs.count(m) > 1})
    if twice:
        raise Conflict(f"mac={twice[0]} is given twice; give each interface its own MAC")
    for m in new.macs:
        networks.check_mac_free(session, m)
    base = attr(session, container, "vm_mac_base_addr", macs.DEFAULT_BASE) or macs.DEFAULT_BASE
    mask = attr(session, container, "vm_mac_base_addr_mask", macs.DEFAULT_MASK) or macs.DEFAULT_MASK
    wanted = count - len(new.macs)
    extra = macs.allocate(session, wanted, base, mask, taken=set(new.macs)) if wanted > 0 else []
    for i, m in enumerate([*new.macs, *extra]):
        iface = Interface(name=f"eth{i}", mac=m)
        host.interfaces.append(iface)
        if i == 0:
            networks.update_interface(
                session, iface, mac_=None, ip_=new.ip, subnet=new.subnet, vlan=new.vlan
            )
    session.flush()


def inventory_host(session: Session, name: str) -> Host:
    from cairn.inventory.lookup import hosts

    found = hosts(session, [name], all_if_empty=False)
    if len(found) != 1:
        raise CairnError(f"{name!r} names {len(found)} hosts; name one container")
    return found[0]


def change(
    session: Session,
    vm: VM,
    *,
    physnode: str | None = None,
    memory_mb: int | None = None,
    cpus: int | None = None,
    disks: list[str] | None = None,
    disksizes: list[int] | None = None,
    slice_: int | None = None,
) -> None:
    container = vm.container
    if physnode is not None:
        container = inventory_host(session, physnode)
        check_container(session, container)
        if slice_ is None:
            slice_ = (
                _free_slice(session, container) if container.id != vm.container_id else vm.slice
            )
    if container.id != vm.container_id or (slice_ is not None and slice_ != vm.slice):
        taken = session.execute(
            select(VM.id).where(VM.container_id == container.id, VM.slice == slice_, VM.id != vm.id)
        ).first()
        if taken:
            raise Conflict(f"slice {slice_} of {container.name} is taken; choose another slice=")
        vm.container = container
        vm.slice = slice_  # type: ignore[assignment]
    if memory_mb is not None:
        vm.memory_mb = memory_mb
    if cpus is not None:
        vm.host.cpus = cpus
    if disks:
        new_disks = _disks(session, vm.container, vm.host.name, disks, disksizes or [])
        vm.disks.clear()
        session.flush()  # the old rows go before new ones may reuse their device names
        vm.disks.extend(new_disks)
    elif disksizes:
        if len(disksizes) > len(vm.disks):
            raise CairnError(f"{len(disksizes)} disksize values for {len(vm.disks)} disks")
        for disk, size in zip(vm.disks, disksizes, strict=False):
            disk.size_gb = size


def set_cdrom(vm: VM, path: str | None) -> None:
    vm.cdrom = None if path is None else disklib.check_path(path, "cdrom")


def one_vm(session: Session, name: str) -> VM:
    return vm_of(session, one(session, Host, name))


__all__ = ["NewVM", "add", "change", "check_container", "set_cdrom", "vm_of"]


def vms_for(session: Session, words: list[str], *, all_if_empty: bool = False) -> list[VM]:
    """The mapped VMs that HOST words name (see `facts.vm_facts`), in host order."""
    return mapped(session, vm_facts(over_session(session), words, all_if_empty=all_if_empty))


def mapped(session: Session, facts: Sequence[VMFacts]) -> list[VM]:
    """The mapped VM rows of `facts`, in their order."""
    ids = [f.id for f in facts]
    query = select(VM) if len(ids) > MANY else select(VM).where(VM.id.in_(ids))
    by_id = {vm.id: vm for vm in session.execute(query).scalars()} if ids else {}
    return [by_id[i] for i in ids]
