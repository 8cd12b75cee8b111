"""Adding and changing VM definitions, with the rules a container must meet."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.resolve import resolve
from cairn.db import locks
from cairn.db.chunks import MANY
from cairn.db.models import VM, Host, Interface, VMDisk
from cairn.errors import CairnError, Conflict, NotFound
from cairn.inventory import hosts as inventory
from cairn.inventory import networks, reach
from cairn.inventory.containers import check_container
from cairn.inventory.lookup import one
from cairn.inventory.maintenance import refuse_out_of_service
from cairn.vms import disks as disklib
from cairn.vms import macs
from cairn.vms.facts import VMFacts, vm_facts


@dataclass
class NewVM:
    container: str
    appliance: str = "hosted-vm"
    name: str | None = None
    memory_mb: int = 1024  # Rocks 6.2's default
    cpus: int = 1
    slice: int | None = None
    macs: list[str] = field(default_factory=list)
    num_macs: int = 1
    disks: list[str] = field(default_factory=list)
    disksizes: list[int] = field(default_factory=list)
    vlans: list[int | None] = field(default_factory=list)  # per interface, in order
    ip: str | None = None
    subnet: str | None = None
    virt_type: str = "hvm"
    uuid: str | None = None
    notes: list[str] | None = None  # where warnings go (a device name given twice)


DEFAULT_NETWORK = "private"  # Rocks: a VM's first interface is on the private network


def attr(session: Session, host: Host, name: str, default: str | None = None) -> str | None:
    found = wellknown.text(resolve(session, [host])[host.id], name)
    return default if found is None else found


def mac_range(session: Session, container: Host | None) -> tuple[str, str]:
    """vm_mac_base_addr and its mask for VMs on `container` (None: the global ones)."""
    if container is None:
        from cairn.attrs import store
        from cairn.attrs.scopes import Scope

        def value(name: str) -> str | None:
            return store.get(session, store.Owner(Scope.GLOBAL), name)
    else:

        def value(name: str) -> str | None:
            return attr(session, container, name)

    return (
        value("vm_mac_base_addr") or macs.DEFAULT_BASE,
        value("vm_mac_base_addr_mask") or macs.DEFAULT_MASK,
    )


def maybe_vm(session: Session, host: Host) -> VM | None:
    return session.execute(select(VM).where(VM.host_id == host.id)).scalar_one_or_none()


def vm_of(session: Session, host: Host) -> VM:
    vm = maybe_vm(session, host)
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
    session: Session,
    container: Host,
    name: str,
    given: list[str],
    sizes: list[int],
    notes: list[str] | None = None,
) -> list[VMDisk]:
    if given and sizes and len(given) != len(sizes):
        raise CairnError(
            f"{len(given)} disks but {len(sizes)} disksize values: give one size per disk,"
            " in the same order"
        )
    if given:
        specs = disklib.assign_devices([disklib.parse(s) for s in given], notes)
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
    locks.allocation(session)  # the free slice, name and MACs are chosen one at a time
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
        disks=_disks(session, container, name, new.disks, new.disksizes, new.notes),
    )
    session.add(vm)
    session.flush()
    for iface in host.interfaces:
        reach.check_interface(session, iface)
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
    if len(new.vlans) > max(count, 1):
        raise CairnError(f"{len(new.vlans)} vlan values for {count} interfaces; give one each")
    subnet = new.subnet
    # An address needs its network: ip= alone puts eth0 on private (as Rocks
    # did), where the address is checked, even if no container reaches it yet.
    if subnet is None and count and (new.ip is not None or _default_reached(session)):
        subnet = DEFAULT_NETWORK
    twice = sorted({m for m in new.macs if new.macs.count(m) > 1})
    if twice:
        raise Conflict(f"mac={twice[0]} is given twice; give each interface its own MAC")
    for m in new.macs:
        networks.check_mac_free(session, m)
    base, mask = mac_range(session, container)
    wanted = count - len(new.macs)
    extra = macs.allocate(session, wanted, base, mask, taken=set(new.macs)) if wanted > 0 else []
    for i, m in enumerate([*new.macs, *extra]):
        iface = Interface(name=f"eth{i}", mac=m)
        host.interfaces.append(iface)
        vlan = new.vlans[i] if i < len(new.vlans) else None
        if i == 0 or vlan is not None:
            networks.update_interface(
                session,
                iface,
                mac_=None,
                ip_=new.ip if i == 0 else None,
                subnet=subnet if i == 0 else None,
                vlan=vlan,
            )
    session.flush()


def _default_reached(session: Session) -> bool:
    """Whether a VM's first interface goes on the private network by default:
    when it exists and some VM container reaches it (else the VM gets user-mode
    networking, which `report host vm config` says)."""
    from cairn.db.models import Network

    found = session.execute(
        select(Network).where(Network.name == DEFAULT_NETWORK)
    ).scalar_one_or_none()
    return found is not None and reach.reached(session, found)


def inventory_host(session: Session, name: str) -> Host:
    from cairn.inventory.lookup import hosts

    found = hosts(session, [name], all_if_empty=False)
    if len(found) != 1:
        raise CairnError(f"{name!r} names {len(found)} hosts; name one container")
    return found[0]


def define(
    session: Session,
    host: Host,
    container_name: str,
    *,
    memory_mb: int | None = None,
    disks: list[str] | None = None,
    disksizes: list[int] | None = None,
    slice_: int | None = None,
    uuid: str | None = None,
    notes: list[str] | None = None,
) -> VM:
    """Make an existing host a VM on `container_name` (Rocks' `set host vm
    HOST physnode=`, which is how Rocks' dumps recreate VMs): its interfaces
    stay as they are; what is not given gets `add host vm`'s defaults."""
    container = inventory_host(session, container_name)
    check_container(session, container)
    _refuse_loop(session, host, container)
    if slice_ is None:
        slice_ = _free_slice(session, container)
    _refuse_taken_slice(session, container, slice_, None)
    vm = VM(
        host=host,
        container=container,
        slice=slice_,
        memory_mb=memory_mb if memory_mb is not None else NewVM.memory_mb,
        virt_type="hvm",
        uuid=_uuid(session, uuid),
        disks=_disks(session, container, host.name, disks or [], disksizes or [], notes),
    )
    session.add(vm)
    session.flush()
    return vm


def _refuse_loop(session: Session, host: Host, container: Host) -> None:
    """Refuse to run `host` on `container` when the container is `host` itself or
    runs, however deep, on `host`: no VM can start inside itself."""
    chain, below = [container.name], container
    while below.id != host.id:
        vm = maybe_vm(session, below)
        if vm is None or vm.container.name in chain:
            return
        below = vm.container
        chain.append(below.name)
    if len(chain) == 1:
        raise CairnError(f"{host.name} cannot run on itself; give another physnode=")
    raise CairnError(
        f"{host.name} cannot run on {container.name}, which runs on it"
        f" ({' on '.join(chain)}); give another physnode="
    )


def _refuse_taken_slice(session: Session, container: Host, slice_: int, vm: VM | None) -> None:
    query = select(VM.id).where(VM.container_id == container.id, VM.slice == slice_)
    if vm is not None:
        query = query.where(VM.id != vm.id)
    if session.execute(query).first():
        raise Conflict(f"slice {slice_} of {container.name} is taken; choose another slice=")


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
    uuid: str | None = None,
    notes: list[str] | None = None,
) -> None:
    container = vm.container
    if physnode is not None:
        container = inventory_host(session, physnode)
        check_container(session, container)
        if container.id != vm.container_id:
            refuse_out_of_service(session, container)
        _refuse_loop(session, vm.host, container)
        if slice_ is None:
            slice_ = (
                _free_slice(session, container) if container.id != vm.container_id else vm.slice
            )
    if container.id != vm.container_id or (slice_ is not None and slice_ != vm.slice):
        assert slice_ is not None
        _refuse_taken_slice(session, container, slice_, vm)
        vm.container = container
        vm.slice = slice_
    if memory_mb is not None:
        vm.memory_mb = memory_mb
    if cpus is not None:
        vm.host.cpus = cpus
    if uuid is not None and uuid != vm.uuid:
        vm.uuid = _uuid(session, uuid)
    if disks:
        new_disks = _disks(session, vm.container, vm.host.name, disks, disksizes or [], notes)
        vm.disks.clear()
        session.flush()  # the old rows go before new ones may reuse their device names
        vm.disks.extend(new_disks)
    elif disksizes:
        if len(disksizes) > len(vm.disks):
            raise CairnError(
                f"{len(disksizes)} disksize values for the {len(vm.disks)} disks of"
                f" {vm.host.name}; give at most one per disk, in order"
            )
        for disk, size in zip(vm.disks, disksizes, strict=False):
            disk.size_gb = size


def remove(session: Session, vm: VM) -> None:
    """Forget the VM definition and its disks' rows; the host, its interfaces
    and attributes stay (Rocks' `remove host vm`)."""
    session.delete(vm)
    session.flush()


def set_cdrom(vm: VM, path: str | None) -> None:
    from cairn.vms.reach import reach

    vm.cdrom = None if path is None else reach().place(disklib.check_path(path, "cdrom"), "cdrom")


def one_vm(session: Session, name: str) -> VM:
    return vm_of(session, one(session, Host, name))


__all__ = ["NewVM", "add", "change", "check_container", "define", "remove", "set_cdrom", "vm_of"]


def vms_for(session: Session, words: list[str], *, all_if_empty: bool = False) -> list[VM]:
    """The mapped VMs that HOST words name (see `facts.vm_facts`), in host order."""
    return mapped(session, vm_facts(session, words, all_if_empty=all_if_empty))


def mapped(session: Session, facts: Sequence[VMFacts]) -> list[VM]:
    """The mapped VM rows of `facts`, in their order."""
    ids = [f.id for f in facts]
    query = select(VM) if len(ids) > MANY else select(VM).where(VM.id.in_(ids))
    by_id = {vm.id: vm for vm in session.execute(query).scalars()} if ids else {}
    return [by_id[i] for i in ids]
