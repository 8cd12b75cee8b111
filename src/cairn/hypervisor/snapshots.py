"""libvirt snapshots of a guest: take, list, revert, delete.

They are libvirt's internal snapshots, kept inside the guest's qcow2 images
(with the memory too when the guest runs); which VMs may have them is the
caller's rule. Snapshot XML is built with lxml.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt
from lxml import etree

from cairn.hypervisor._xml import parse
from cairn.hypervisor.errors import HypervisorError, classify
from cairn.hypervisor.guest import Guest


@dataclass(frozen=True)
class Snapshot:
    name: str
    created: int  # seconds since the epoch
    state: str  # the guest's state when it was taken: running, shutoff, paused...
    description: str
    current: bool


def _fail(guest: Guest, verb: str, exc: libvirt.libvirtError) -> HypervisorError:
    return classify(exc, f"cannot {verb} of {guest.name}")


def take(guest: Guest, name: str, description: str = "") -> None:
    """A new snapshot called `name` (refused by libvirt if the name exists)."""
    root = etree.Element("domainsnapshot")
    etree.SubElement(root, "name").text = name
    if description:
        etree.SubElement(root, "description").text = description
    try:
        guest._dom.snapshotCreateXML(etree.tostring(root, encoding="unicode"), 0)
    except libvirt.libvirtError as exc:
        raise _fail(guest, f"take snapshot {name}", exc) from None


def _read(snap: libvirt.virDomainSnapshot) -> Snapshot:
    tree = parse(snap.getXMLDesc(0))
    return Snapshot(
        name=str(snap.getName()),
        created=int(tree.findtext("creationTime") or 0),
        state=tree.findtext("state") or "",
        description=tree.findtext("description") or "",
        current=bool(snap.isCurrent(0)),
    )


def listed(guest: Guest) -> list[Snapshot]:
    """The guest's snapshots, oldest first."""
    try:
        found = [_read(s) for s in guest._dom.listAllSnapshots(0)]
    except libvirt.libvirtError as exc:
        raise _fail(guest, "list snapshots", exc) from None
    return sorted(found, key=lambda s: (s.created, s.name))


def find(guest: Guest, name: str) -> Snapshot | None:
    return next((s for s in listed(guest) if s.name == name), None)


def revert(guest: Guest, name: str) -> None:
    """Put the guest back as it was when `name` was taken (disks, and memory if it ran)."""
    try:
        snap = guest._dom.snapshotLookupByName(name, 0)
        guest._dom.revertToSnapshot(snap, 0)
    except libvirt.libvirtError as exc:
        raise _fail(guest, f"revert to snapshot {name}", exc) from None


def delete(guest: Guest, name: str) -> None:
    """Delete the snapshot `name` (its children stay, on its parent)."""
    try:
        guest._dom.snapshotLookupByName(name, 0).delete(0)
    except libvirt.libvirtError as exc:
        raise _fail(guest, f"delete snapshot {name}", exc) from None
