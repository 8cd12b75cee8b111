"""The domain XML of VMs: database -> designer -> builders -> section plugins -> schema.

Built in batches with a fixed number of queries whatever the number of VMs or
of kvm_device_N attributes. No libvirt connection is needed: the domain type is
given by the caller (the lifecycle asks the container; reports assume kvm).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.escape import unescape
from cairn.attrs.resolve import Resolved, resolve
from cairn.db.models import VM, Interface
from cairn.db.models import VMDisk as DiskRow
from cairn.designer import VMDisk, VMFacts, VMNic, blame, design
from cairn.domainxml import schema
from cairn.domainxml.domain import build_domain, to_xml
from cairn.errors import CairnError
from cairn.plugins import loader
from cairn.plugins.hooks import SECTIONS, VMView
from cairn.vms.facts import natural

HOOK_WORDS = ("report", "host", "vm", "config")


def facts(vm: VM, interfaces: Sequence[Interface]) -> VMFacts:
    return VMFacts(
        name=vm.host.name,
        uuid=vm.uuid,
        memory_mb=vm.memory_mb,
        cpus=vm.host.cpus,
        cdrom=vm.cdrom,
        disks=tuple(VMDisk(d.kind, d.path, d.device, d.bus) for d in vm.disks),
        nics=tuple(
            VMNic(
                i.mac or "",
                i.network.bridge if i.network else None,
                i.network.libvirt_network if i.network else None,
                i.name,
                i.network.name if i.network else None,
            )
            for i in sorted(interfaces, key=lambda i: natural(i.name))
            if i.mac and not i.disablekvm  # disablekvm: kept in the database only
        ),
    )


def disk_xml(disk: DiskRow) -> str:
    """The <disk> element of one VM disk, as the VM's domain XML holds it."""
    from cairn.designer import disk_spec
    from cairn.domainxml.devices import build_disk

    made = disk_spec(VMDisk(disk.kind, disk.path, disk.device, disk.bus))
    return to_xml(build_disk(made))


def build(
    session: Session,
    vms: Sequence[VM],
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
    hosts = [vm.host for vm in vms]
    resolved = resolve(session, hosts)
    by_host: dict[int, list[Interface]] = {}
    stmt = select(Interface).where(Interface.host_id.in_([h.id for h in hosts]))
    for iface in session.execute(stmt).scalars():
        by_host.setdefault(iface.host_id, []).append(iface)
    try:
        plugins = {s: loader.find(HOOK_WORDS, s) for s in SECTIONS}
    except CairnError as exc:  # a plugin that cannot be loaded fails every document
        if errors is None:
            raise
        errors.update({vm.id: exc for vm in vms})
        return {}
    out = {}
    checked = schema.Checked()  # each shape of document validated once
    for vm in vms:
        kind = domain_type if isinstance(domain_type, str) else domain_type[vm.id]
        try:
            out[vm.id] = _one(
                vm, resolved[vm.host_id], by_host.get(vm.host_id, []), kind, plugins, notes, checked
            )
        except CairnError as exc:
            if errors is None:
                raise
            errors[vm.id] = exc
    return out


def _one(
    vm: VM,
    attrs: dict[str, Resolved],
    interfaces: list[Interface],
    domain_type: str,
    plugins: dict[str, list[loader.Plugin]],
    notes: list[str] | None,
    checked: schema.Checked,
) -> str:
    made_facts = facts(vm, interfaces)
    made = design(made_facts, attrs, domain_type=domain_type)
    if notes is not None:
        notes.extend(made.notes)
    root = build_domain(made.spec)
    if any(plugins.values()):
        root = _apply_plugins(root, plugins, _view(vm, attrs))
    try:
        checked.validate(root, what=f"domain XML of {vm.host.name}")
    except schema.SchemaError:
        blame(made_facts, attrs)  # names the attribute and its scope, if one is to blame
        raise
    return to_xml(root)


def _view(vm: VM, attrs: dict) -> VMView:  # type: ignore[type-arg]
    return VMView(
        name=vm.host.name,
        uuid=vm.uuid,
        container=vm.container.name,
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
