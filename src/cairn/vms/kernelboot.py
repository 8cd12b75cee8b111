"""The kernel a VM boots itself while it installs, as Rocks' virtual frontends did.

A VM set to install (`set host boot H action=install`) whose installaction is
`install vm frontend` boots that boot action's kernel and ramdisk from the
container's kvm_boot_dir, not from the network. A frontend's command line also
gets its public address, netmask, DNS server and gateway (the attributes
Kickstart_PublicDNSServers and Kickstart_PublicGateway), for the installer
that has no DHCP on the public side. Every value added is checked to be an
address or a MAC, so none can add an argument. Which VMs install at all (from
the network or this way) is found here too: their reboot ends the domain.
"""

from __future__ import annotations

import ipaddress
import posixpath
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.escape import unescape
from cairn.attrs.scopes import Resolved
from cairn.db.chunks import where_in
from cairn.db.models import BootAction, Host, Interface, Network
from cairn.domainxml.spec import KernelBoot
from cairn.errors import CairnError
from cairn.inventory.networks import network_of
from cairn.vms.facts import VMFacts

FRONTEND_ACTION = "install vm frontend"
PUBLIC = "public"
DEFAULT_BOOT_DIR = "/tftpboot"


def installing(session: Session, vms: Sequence[VMFacts]) -> set[int]:
    """The host ids of the VMs whose boot action is install."""
    query = select(Host.id, Host.boot)
    ids = [vm.host.id for vm in vms]
    return {h for h, boot in where_in(session, query, Host.id, ids) if boot == "install"}


def kernels(
    session: Session,
    vms: Sequence[VMFacts],
    resolved: Mapping[int, Mapping[str, Resolved]],
    installs: set[int],
) -> dict[int, KernelBoot | CairnError]:
    """{host id: its kernel boot} for the VMs that install that way now (among
    `installs`, from `installing`), or the error that keeps one from having
    it (the others go on)."""

    def value(host_id: int, name: str) -> str | None:
        found = resolved[host_id].get(name)
        return None if found is None else unescape(found.value)

    chosen = sorted(h for h in installs if value(h, "installaction") == FRONTEND_ACTION)
    if not chosen:
        return {}
    action = session.execute(
        select(BootAction).where(BootAction.name == FRONTEND_ACTION)
    ).scalar_one_or_none()
    if action is None:
        missing = CairnError(
            f"installaction {FRONTEND_ACTION!r} names no boot action: add it (cairn add"
            f" bootaction '{FRONTEND_ACTION}' kernel=... ramdisk=... args=...)"
        )
        return dict.fromkeys(chosen, missing)
    frontends = {vm.host.id: vm.host.name for vm in vms if vm.host.appliance == "frontend"}
    public = _public(session, [h for h in chosen if h in frontends])
    out: dict[int, KernelBoot | CairnError] = {}
    for host_id in chosen:
        where = value(host_id, "kvm_boot_dir") or DEFAULT_BOOT_DIR
        args = action.args or ""
        if host_id in frontends:
            ip, netmask, mac = public.get(host_id, (None, None, None))
            dns = (value(host_id, "Kickstart_PublicDNSServers") or "").split(",")[0]
            gateway = value(host_id, "Kickstart_PublicGateway")
            given = {"ip": ip, "netmask": netmask, "dns": dns, "gateway": gateway}
            try:
                args = " ".join([args, *_address_words(frontends[host_id], given)]).strip()
            except CairnError as exc:
                out[host_id] = exc
                continue
            if mac:  # the installer's device: the public interface, whatever it is called
                args = args.replace("ksdevice=eth1", f"ksdevice={mac}")
        out[host_id] = KernelBoot(
            posixpath.join(where, action.kernel),
            posixpath.join(where, action.ramdisk) if action.ramdisk else None,
            args,
        )
    return out


def _public(
    session: Session, ids: list[int]
) -> dict[int, tuple[str | None, str | None, str | None]]:
    """{host id: (IP, netmask, MAC) of its interface on the public network}."""
    query = (
        select(Interface.host_id, Interface.ip, Interface.mac, Network.subnet, Network.netmask)
        .join(Network, Network.id == Interface.network_id)
        .where(Network.name == PUBLIC)
    )
    out = {}
    for host_id, ip, mac, subnet, netmask in where_in(session, query, Interface.host_id, ids):
        mask = str(network_of(subnet, netmask).netmask) if subnet else None
        out[host_id] = (ip, mask, mac)
    return out


def _address_words(name: str, given: dict[str, str | None]) -> list[str]:
    """key=address for each address given; one that is not an address is an error."""
    words = []
    for key, found in given.items():
        found = (found or "").strip()
        if not found:
            continue
        try:
            ipaddress.ip_address(found)
        except ValueError:
            raise CairnError(
                f"{name}'s {key} for its install line, {found!r}, is not an address:"
                " fix it (the Kickstart_Public* attributes, or its public interface)"
            ) from None
        words.append(f"{key}={found}")
    return words
