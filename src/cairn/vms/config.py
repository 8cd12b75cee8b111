"""The domain XML of VMs: database -> designer -> builders -> section plugins -> schema.

Built in batches with a fixed number of queries whatever the number of VMs or
of kvm_device_N attributes, from the VMs' facts (`vms.facts`), not mapped rows.
VMs alike share one document, filled with each one's own values (`templates`).
No libvirt connection is needed: the domain type is given by the caller (the
lifecycle asks the container; reports assume kvm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.escape import unescape
from cairn.attrs.resolve import resolve_facts
from cairn.attrs.scopes import Resolved
from cairn.attrs.wellknown import DEVICE_ATTR
from cairn.db.chunks import where_in
from cairn.db.hostfacts import natural
from cairn.db.models import Interface, Network
from cairn.db.models import VMDisk as DiskRow
from cairn.designer import VMDisk, VMFacts, VMNic, blame, design
from cairn.domainxml import schema
from cairn.domainxml.domain import build_domain, to_xml
from cairn.domainxml.fragments import DEVICE_ROOTS, parse_fragment
from cairn.errors import CairnError
from cairn.plugins import loader
from cairn.plugins.hooks import SECTIONS, VMView
from cairn.vms import templates
from cairn.vms.facts import VMFacts as VMRow
from cairn.vms.kernelboot import installing, kernels
from cairn.vms.reach import Reach, reach
from cairn.vms.templates import Templates

HOOK_WORDS = ("report", "host", "vm", "config")


def _disks(session: Session, vms: Sequence[VMRow]) -> dict[int, tuple[VMDisk, ...]]:
    """{VM id: its disks in order}."""
    columns = (DiskRow.vm_id, DiskRow.position, DiskRow.kind, DiskRow.path, DiskRow.device)
    query = select(*columns, DiskRow.bus)
    found: dict[int, list[tuple[int, VMDisk]]] = {}
    for vm_id, position, *disk in where_in(session, query, DiskRow.vm_id, [vm.id for vm in vms]):
        found.setdefault(vm_id, []).append((position, VMDisk(*disk)))
    return {vm: tuple(d for _, d in sorted(disks, key=_first)) for vm, disks in found.items()}


def _first(pair: tuple[int, VMDisk]) -> int:
    return pair[0]


def _nics(session: Session, vms: Sequence[VMRow]) -> dict[int, tuple[VMNic, ...]]:
    """{host id: the NICs its VM gets, interfaces in natural order}. An interface
    without a MAC or with disablekvm is kept in the database only."""
    query = (
        select(
            Interface.host_id,
            Interface.name,
            Interface.mac,
            Network.bridge,
            Network.libvirt_network,
            Network.name,
        )
        .outerjoin(Network, Network.id == Interface.network_id)
        .where(Interface.mac.is_not(None), Interface.disablekvm.is_(False))
    )
    found: dict[int, list[VMNic]] = {}
    ids = [vm.host.id for vm in vms]
    for host_id, iface, mac, bridge, libvirt_network, network in where_in(
        session, query, Interface.host_id, ids
    ):
        if mac:
            found.setdefault(host_id, []).append(
                VMNic(mac, bridge, libvirt_network, iface, network)
            )
    return {h: tuple(sorted(n, key=lambda n: natural(n.iface))) for h, n in found.items()}


def disk_xml(disk: DiskRow) -> str:
    """The <disk> element of one VM disk, as the VM's domain XML holds it."""
    from cairn.designer import disk_spec
    from cairn.domainxml.devices import build_disk

    reach().disk(disk.kind, disk.path, f"disk {disk.path}")
    made = disk_spec(VMDisk(disk.kind, disk.path, disk.device, disk.bus))
    return to_xml(build_disk(made))


def build(
    session: Session,
    vms: Sequence[VMRow],
    *,
    domain_type: str | Mapping[int, str] = "kvm",
    notes: list[str] | None = None,
    errors: dict[int, CairnError] | None = None,
) -> dict[int, str]:
    """{vm id: domain XML text} for every VM, validated against libvirt's schema.

    `domain_type` is one for all, or one per VM id. With `errors`, a VM whose
    document cannot be made is recorded there and the others go on; without,
    the first such error is raised.
    """
    resolved = resolve_facts(session, [vm.host for vm in vms])
    disks, nics = _disks(session, vms), _nics(session, vms)
    installs = installing(session, vms)
    boots = kernels(session, vms, resolved, installs)
    try:
        plugins = {s: loader.find(HOOK_WORDS, s) for s in SECTIONS}
    except CairnError as exc:  # a plugin that cannot be loaded fails every document
        if errors is None:
            raise
        errors.update({vm.id: exc for vm in vms})
        return {}
    out = {}
    # Plugins see each VM on its own, so documents are only shared without them.
    batch = _Batch(schema.Checked(), None if any(plugins.values()) else Templates())
    within = reach()
    for vm in vms:
        kind = domain_type if isinstance(domain_type, str) else domain_type[vm.id]
        try:
            boot = boots.get(vm.host.id)
            if isinstance(boot, CairnError):
                raise boot
            made = VMFacts(vm.host.name, vm.uuid, vm.memory_mb, vm.host.cpus, vm.cdrom,
                           disks.get(vm.id, ()), nics.get(vm.host.id, ()),
                           boot, vm.host.id in installs)  # fmt: skip
            _within(within, made, resolved[vm.host.id])
            out[vm.id] = _one(vm, made, resolved[vm.host.id], kind, plugins, notes, batch)
        except CairnError as exc:
            if errors is None:
                raise
            errors[vm.id] = exc
    return out


def _within(within: Reach, facts: VMFacts, attrs: dict[str, Resolved]) -> None:
    """Refuse what the database points the VM at out of reach (cairn.vms.reach),
    whatever was checked when it was set: its disks, CDROM and kvm_device_N."""
    for d in facts.disks:
        within.disk(d.kind, d.path, f"disk {d.path} of {facts.name}")
    if facts.cdrom:
        within.place(facts.cdrom, f"cdrom of {facts.name}")
    for name, found in attrs.items():
        if DEVICE_ATTR.fullmatch(name):
            what = wellknown.what(name, facts.name, found)
            within.elements(
                parse_fragment(unescape(found.value), allowed_roots=DEVICE_ROOTS, what=what), what
            )


def _one(
    vm: VMRow,
    made_facts: VMFacts,
    attrs: dict[str, Resolved],
    domain_type: str,
    plugins: dict[str, list[loader.Plugin]],
    notes: list[str] | None,
    batch: _Batch,
) -> str:
    shape = None if batch.templates is None else templates.key(made_facts, attrs, domain_type)
    if shape is not None and (found := batch.templates.fill(shape, made_facts)) is not None:  # type: ignore[union-attr]
        text, own_notes = found
        if notes is not None:
            notes.extend(own_notes)
        return text
    made = design(made_facts, attrs, domain_type=domain_type)
    if notes is not None:
        notes.extend(made.notes)
    root = build_domain(made.spec)
    if any(plugins.values()):
        root = _apply_plugins(root, plugins, _view(vm, attrs))
    try:
        batch.checked.validate(root, what=f"domain XML of {vm.host.name}")
    except schema.SchemaError:
        blame(made_facts, attrs)  # names the attribute and its scope, if one is to blame
        raise
    if shape is not None:
        batch.templates.keep(  # type: ignore[union-attr]
            shape, made_facts, root, made.notes,
            lambda other: design(other, attrs, domain_type=domain_type).notes,
        )  # fmt: skip
    return to_xml(root)


@dataclass(frozen=True)
class _Batch:
    """What one `build` shares between its VMs: the shapes validated, the templates."""

    checked: schema.Checked
    templates: Templates | None


def _view(vm: VMRow, attrs: dict) -> VMView:  # type: ignore[type-arg]
    return VMView(
        name=vm.host.name,
        uuid=vm.uuid,
        container=vm.container,
        slice=vm.slice,
        memory_mb=vm.memory_mb,
        cpus=vm.host.cpus,
        cdrom=vm.cdrom,
        attrs=MappingProxyType({k: unescape(r.value) for k, r in attrs.items()}),
    )


_CPUMEM = ("memory", "currentMemory", "vcpu", "cpu", "cputune", "numatune", "memtune")


def _section(root: etree._Element, section: str) -> list[etree._Element]:
    devices = root.find("devices")
    # Elements only: a comment a plugin left belongs to no section, and stays put.
    children = [e for e in devices if isinstance(e.tag, str)] if devices is not None else []
    if section == "bootloader":
        return [e for e in root if e.tag == "os"]
    if section == "cpumem":
        return [e for e in root if e.tag in _CPUMEM]
    if section == "disk":
        return [e for e in children if e.tag == "disk"]
    if section == "interface":
        return [e for e in children if e.tag == "interface"]
    if section == "device":
        return [e for e in children if e.tag not in ("disk", "interface")]
    return [root]


def _apply_plugins(root: etree._Element, plugins: dict, view: VMView) -> etree._Element:  # type: ignore[type-arg]
    for section in SECTIONS:
        for plugin in plugins[section]:
            old = _section(root, section)
            new = plugin(elements=old, vm=view)
            if new is not None:
                if not isinstance(new, list | tuple) or not all(
                    isinstance(e, etree._Element) for e in new
                ):
                    raise CairnError(
                        f"plugin {plugin.path} must return lxml elements or None (in a list),"
                        f" not {_describe(new)}"
                    )
                if section == "global":
                    if len(new) != 1 or new[0].tag != "domain":
                        raise CairnError(f"plugin {plugin.path} must return one <domain> element")
                    root = new[0]
                else:
                    _replace(root, section, list(new))
            name = root.findtext("name")
            if name != view.name:
                raise CairnError(f"plugin {plugin.path} changed the domain name to {name!r}")
    return root


def _describe(value: object) -> str:
    if isinstance(value, list | tuple):
        kinds = sorted({type(v).__name__ for v in value if not isinstance(v, etree._Element)})
        return f"a {type(value).__name__} holding {', '.join(kinds)}"
    return type(value).__name__


def _replace(root: etree._Element, section: str, new: list[etree._Element]) -> None:
    old = _section(root, section)  # as it is now: the plugin may have changed it in place
    parent = root if section in ("bootloader", "cpumem") else root.find("devices")
    assert parent is not None
    index = parent.index(old[0]) if old else len(parent)
    for element in old:
        parent.remove(element)
    for offset, element in enumerate(new):
        parent.insert(index + offset, element)
