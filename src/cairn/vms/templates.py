"""Domain documents made once per shape, then filled with each VM's own values.

Most VMs of a cluster are alike: the same appliance attributes, the same sizes,
disks and networks; they differ in their name, UUID, MACs and disk paths. A
VM's document is a pure function of its facts, the attributes the designer
reads and the domain type (`designer.design` does no I/O), so `key` names
everything else, and two VMs with one key get the same document but for those
values. The first one's document is built, validated against libvirt's schema
and kept; the next ones are that document with their own values put in place.

A value put in place is of the class libvirt's schema accepts whatever its
value (`schema.Checked` gives the classes), and a disk path may differ only by
the VM's name, so a filled document is as valid as the one that was checked.
The design's notes (a NIC on no network, say) name the VM: they are kept with a
placeholder for the name, found by designing once more under that name. A VM
whose values are not of those classes, or whose document or notes hold one of
its values anywhere else, gets no key or is not kept: it is built the whole
way, as before.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from cairn.attrs.scopes import Resolved
from cairn.designer import VMFacts, reads
from cairn.domainxml.schema import HOST_NAME, UNICAST_MAC, UUID
from cairn.errors import CairnError

_MARK = "@"  # not in a host name: a disk path with the VM's name masked
_NAME = "\x01"  # the VM's name in a note kept for all VMs of a shape: in no text


def key(facts: VMFacts, attrs: Mapping[str, Resolved], domain_type: str) -> Hashable | None:
    """What the VM's document depends on besides its own values; None: no shape."""
    if not (HOST_NAME.fullmatch(facts.name) and UUID.fullmatch(facts.uuid)):
        return None
    if facts.kernel is not None:  # its command line holds its own address
        return None
    if not all(UNICAST_MAC.fullmatch(nic.mac) for nic in facts.nics):
        return None
    paths = tuple(d.path.replace(facts.name, _MARK) for d in facts.disks)
    if not all(p.startswith("/") for p in paths):
        return None
    return (
        domain_type,
        facts.memory_mb,
        facts.cpus,
        facts.cdrom,
        facts.installing,
        tuple((d.kind, d.device, d.bus) for d in facts.disks),
        paths,
        tuple((n.bridge, n.libvirt_network, n.network, n.iface) for n in facts.nics),
        tuple((name, attrs[name].value) for name in reads(attrs) if name in attrs),
    )


@dataclass(frozen=True)
class _Template:
    root: etree._Element  # indented; its slots are refilled for each VM
    name: etree._Element
    uuid: etree._Element
    sources: tuple[tuple[etree._Element, str], ...]  # (<source>, file | dev) per disk
    macs: tuple[etree._Element, ...]  # <mac> per NIC
    notes: tuple[str, ...]  # the design's notes, _NAME for the VM's name


class Templates:
    """The documents of one batch (`vms.config.build`), one per key."""

    def __init__(self) -> None:
        self._made: dict[Hashable, _Template] = {}

    def fill(self, shape: Hashable, facts: VMFacts) -> tuple[str, list[str]] | None:
        """(the VM's document, its notes) from its shape's template; None if there
        is none yet."""
        made = self._made.get(shape)
        if made is None:
            return None
        made.name.text = facts.name
        made.uuid.text = facts.uuid
        for (source, attribute), disk in zip(made.sources, facts.disks, strict=True):
            source.set(attribute, disk.path)
        for mac, nic in zip(made.macs, facts.nics, strict=True):
            mac.set("address", nic.mac.lower())
        notes = [note.replace(_NAME, facts.name) for note in made.notes]
        return str(etree.tostring(made.root, encoding="unicode")) + "\n", notes

    def keep(
        self,
        shape: Hashable,
        facts: VMFacts,
        validated: etree._Element,
        notes: Sequence[str] = (),
        design_as: Callable[[VMFacts], Sequence[str]] | None = None,
    ) -> None:
        """Keep the VM's validated document as its shape's template, if its own
        values are in the slots and nowhere else. With notes, `design_as` gives
        the notes of the design of another VM of the same facts."""
        forms = _note_forms(facts, notes, design_as)
        if forms is None:
            return
        root = copy.deepcopy(validated)
        etree.indent(root, space="  ")
        name, uuid = root.find("name"), root.find("uuid")
        sources = _sources(root, facts)
        macs = _macs(root, facts)
        if name is None or uuid is None or sources is None or macs is None:
            return
        made = _Template(root, name, uuid, sources, macs, forms)
        name.text = uuid.text = None  # the slots emptied, to look for the values elsewhere
        for source, attribute in sources:
            source.set(attribute, str(source.get(attribute)).replace(facts.name, ""))
        for mac in macs:
            mac.set("address", "")
        text = etree.tostring(root, encoding="unicode")
        values = [facts.name, facts.uuid, *(nic.mac.lower() for nic in facts.nics)]
        if not any(value in text for value in values):  # held nowhere but in the slots
            self._made[shape] = made


def _note_forms(
    facts: VMFacts, notes: Sequence[str], design_as: Callable[[VMFacts], Sequence[str]] | None
) -> tuple[str, ...] | None:
    """The notes with _NAME for the VM's name; None if the name is in them otherwise."""
    if not notes:
        return ()
    if design_as is None:
        return None
    try:
        forms = tuple(design_as(dataclasses.replace(facts, name=_NAME)))
    except CairnError:
        return None
    return forms if [f.replace(_NAME, facts.name) for f in forms] == list(notes) else None


def _sources(root: etree._Element, facts: VMFacts) -> tuple[tuple[etree._Element, str], ...] | None:
    disks = root.findall("devices/disk[@device='disk']/source")
    if len(disks) != len(facts.disks):
        return None
    out = []
    for source, disk in zip(disks, facts.disks, strict=True):
        attribute = "file" if source.get("file") is not None else "dev"
        if source.get(attribute) != disk.path:
            return None
        out.append((source, attribute))
    return tuple(out)


def _macs(root: etree._Element, facts: VMFacts) -> tuple[etree._Element, ...] | None:
    macs = root.findall("devices/interface/mac")
    if [m.get("address") for m in macs] != [nic.mac.lower() for nic in facts.nics]:
        return None
    return tuple(macs)
