"""The frontend's DHCP and PXE configuration for dnsmasq, made from the database.

`gather` reads the networks with dhcp=yes, the addressed interfaces on them,
the frontend's own interfaces and each host's boot, and the frontend's devices
on networks that a virtual cluster's own frontend serves (dhcp=cluster: dnsmasq
gives no DHCP nor TFTP there); `render` makes the files' text and does no I/O.
Every value that reaches a file is an address, a MAC, a checked interface or
host name, or a checked boot action, so none can add a line or an option. The
commands check them when they are set; `gather` checks them again, because a
row may have been written into the database some other way: a network, lease
or PXE file made from a bad row is left out, with a note naming the row.

Files, under one directory: dnsmasq.conf (read at start), dhcp-hosts (fixed
leases, `MAC,IP,NAME`, re-read on SIGHUP) and tftp/ (pxelinux.0,
ldlinux.c32 and pxelinux.cfg/: a file per MAC, `01-aa-bb-...`, and `default`;
boot.ipxe and ipxe/: the same per MAC as iPXE scripts, served over HTTP).
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from cairn import values
from cairn.db.models import BootAction, Host, Interface, Network
from cairn.errors import CairnError
from cairn.inventory.networks import CLUSTER, dhcp_bounds, network_of
from cairn.netboot import ipxe
from cairn.netboot.actions import boot_args, install_actions, tftp_path

LEASE = "12h"
PXELINUX = "/usr/lib/PXELINUX/pxelinux.0"
LDLINUX = "/usr/lib/syslinux/modules/bios/ldlinux.c32"


@dataclass(frozen=True)
class Served:
    network: str
    address: str  # network address
    netmask: str
    bounds: tuple[str, str] | None
    device: str | None  # the frontend's device on it, where dnsmasq listens
    http: str | None = None  # the frontend's address on it, where iPXE fetches over HTTP


@dataclass(frozen=True)
class Lease:
    mac: str
    ip: str
    name: str


@dataclass(frozen=True)
class Pxe:
    mac: str
    host: str
    action: str  # install | os
    kernel: str | None = None
    ramdisk: str | None = None
    args: str | None = None


@dataclass
class Plan:
    served: list[Served] = field(default_factory=list)
    leases: list[Lease] = field(default_factory=list)
    pxe: list[Pxe] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The frontend's devices on networks that their virtual cluster's own
    # frontend serves (dhcp=cluster): dnsmasq gives no DHCP and no TFTP there.
    quiet: list[str] = field(default_factory=list)


def gather(session: Session, frontend: Host | None) -> Plan:
    plan = Plan()
    nets = session.execute(
        select(Network)
        .where(or_(Network.dhcp.is_(True), Network.dhcp_server == CLUSTER))
        .order_by(Network.name)
    ).scalars()
    # A cluster-served row that also says dhcp=yes (written past cairn) is the
    # cluster's still: two DHCP servers on one network would race.
    theirs = []
    managed = {}
    for n in nets:
        if n.dhcp_server == CLUSTER:
            theirs.append(n)
        elif n.subnet:
            managed[n.id] = n
    quiet = _frontend_devices(session, frontend, theirs, plan.notes)
    plan.quiet = sorted(set(quiet.values()))
    devices = _frontend_devices(session, frontend, list(managed.values()), plan.notes)
    subnets = {}
    for n in managed.values():
        served = _served(n, devices.get(n.id), _frontend_address(frontend, n), plan.notes)
        if served is None:
            continue
        subnets[n.id] = network_of(served.address, served.netmask)
        plan.served.append(served)
        if n.id not in devices:
            plan.notes.append(
                f"the frontend has no interface on network {n.name}: dnsmasq answers there only"
                " if it reaches that network another way"
            )
    # Plain columns, not mapped hosts: 1,000 hosts load in a few milliseconds.
    rows = session.execute(
        select(Interface.mac, Interface.ip, Interface.network_id, Host.id, Host.name, Host.boot)
        .join(Host, Interface.host_id == Host.id)
        .where(
            Interface.network_id.in_(subnets),
            Interface.mac.is_not(None),
            Interface.ip.is_not(None),
        )
    ).all()
    leases = [(lease, r) for r in rows if (lease := _lease(r, subnets[r.network_id], plan.notes))]
    leases.sort(key=lambda pair: (int(ipaddress.IPv4Address(pair[0].ip)), pair[0].mac))
    plan.leases = [lease for lease, _ in leases]
    actions = {a.name: a for a in session.execute(select(BootAction)).scalars()}
    chosen = install_actions(session, {r.id for _, r in leases if r.boot == "install"})
    for lease, r in leases:
        if r.boot == "os":
            plan.pxe.append(Pxe(lease.mac, lease.name, "os"))
        elif r.boot == "install":
            name = chosen[r.id]
            action = actions.get(name)
            if action is None:
                raise CairnError(
                    f"host {r.name} boots install, but there is no boot action {name!r}"
                    f" (cairn add bootaction {name} kernel=... or set its attribute"
                    " installaction)"
                )
            pxe = _install(lease, action, plan.notes)
            if pxe is not None:
                plan.pxe.append(pxe)
    return plan


def _served(n: Network, device: str | None, address: str | None, notes: list[str]) -> Served | None:
    """What dnsmasq serves on network `n`, or None (with a note) when it cannot."""
    try:
        values.label(n.name)
        net = network_of(n.subnet or "", n.netmask)
        bounds = dhcp_bounds(n)
        if bounds is not None and not all(ipaddress.ip_address(b) in net for b in bounds):
            raise ValueError(f"range {n.dhcp_range!r} is not two addresses inside {net}")
    except ValueError as exc:
        notes.append(f"network {n.name!r} skipped: a bad row in the database ({exc})")
        return None
    if net.version != 4:
        notes.append(f"network {n.name} is IPv6: cairn serves DHCPv4 only; skipped")
        return None
    if bounds is not None:
        bounds = (str(ipaddress.ip_address(bounds[0])), str(ipaddress.ip_address(bounds[1])))
    http = None
    with contextlib.suppress(ValueError):
        if address is not None and ipaddress.ip_address(address) in net:
            http = str(ipaddress.ip_address(address))
    return Served(n.name, str(net.network_address), str(net.netmask), bounds, device, http)


def _lease(r: Any, subnet: Any, notes: list[str]) -> Lease | None:
    """The fixed lease of an interface row, or None (with a note) for a bad row."""
    try:
        mac = values.mac(r.mac)
        ip = ipaddress.ip_address(r.ip)
        name = values.label(r.name)
        if ip not in subnet:
            raise ValueError(f"IP {r.ip!r} is not in its network {subnet}")
    except ValueError as exc:
        notes.append(f"host {r.name!r} left out of DHCP and PXE: a bad row in the database ({exc})")
        return None
    return Lease(mac, str(ip), name)


def _install(lease: Lease, action: BootAction, notes: list[str]) -> Pxe | None:
    """The install PXE file of a lease, or None (with a note) for a bad boot action row."""
    try:
        kernel = tftp_path(action.kernel, "kernel")
        ramdisk = tftp_path(action.ramdisk, "ramdisk") if action.ramdisk else None
        args = boot_args(action.args) if action.args else None
    except CairnError as exc:
        notes.append(
            f"host {lease.name} left out of PXE: boot action {action.name!r} is a bad row in"
            f" the database ({exc})"
        )
        return None
    if args and not ipxe.SAFE_ARGS.fullmatch(args):
        notes.append(
            f"host {lease.name} boots with pxelinux over TFTP, not iPXE over HTTP: the args of"
            f" boot action {action.name!r} hold characters an iPXE script would read"
            " (only letters, digits, spaces and _ . , : / = + @ % - go into one)"
        )
    return Pxe(lease.mac, lease.name, "install", kernel, ramdisk, args)


def _frontend_address(frontend: Host | None, n: Network) -> str | None:
    """The frontend's address on network `n` (where its boot HTTP server listens)."""
    if frontend is None:
        return None
    return next((i.ip for i in frontend.interfaces if i.network_id == n.id and i.ip), None)


def _frontend_devices(
    session: Session, frontend: Host | None, nets: list[Network], notes: list[str]
) -> dict[int, str]:
    """{network id: the frontend's device holding its address there}: the
    network's bridge when the network plan puts the address on one (an
    isolated network; a plain one on a frontend that runs VMs), else the
    interface."""
    if frontend is None:
        return {}
    from cairn.inventory.reach import vm_capable_host

    runs_vms = vm_capable_host(session, frontend)
    out = {}
    for n in nets:
        for iface in frontend.interfaces:
            if iface.network_id == n.id and iface.ip:
                bridged = n.bridge and (n.isolation is not None or runs_vms)
                device = n.bridge if bridged and n.bridge else iface.name
                try:
                    out[n.id] = values.iface_name(device)
                except ValueError as exc:
                    notes.append(f"frontend device on network {n.name} left out: {exc}")
    return out


def devices_on(session: Session, frontend: Host | None, network: Network) -> set[str] | None:
    """The frontend's device on `network`, where dnsmasq hears its hosts; None
    when the database does not say (dnsmasq may reach it another way)."""
    return set(_frontend_devices(session, frontend, [network], []).values()) or None


def render_conf(plan: Plan, directory: str) -> str:
    lines = [
        "# Made by cairn from its database (cairn sync config); edits are overwritten.",
        "port=0",  # DHCP and TFTP only: no DNS
        "bind-dynamic",
        "dhcp-authoritative",
        f"pid-file={directory}/dnsmasq.pid",
        f"dhcp-leasefile={directory}/dnsmasq.leases",
        f"dhcp-hostsfile={directory}/dhcp-hosts",
        "enable-tftp",
        f"tftp-root={directory}/tftp",
        *ipxe.dnsmasq_lines((s.network, s.http) for s in plan.served),
    ]
    for device in sorted({s.device for s in plan.served if s.device}):
        lines.append(f"interface={device}")
    if not any(s.device for s in plan.served):
        lines.append("except-interface=lo")
    # Listening on every device (above) would reach these: say so explicitly.
    lines.extend(f"no-dhcp-interface={device}" for device in plan.quiet)
    for s in plan.served:
        tag = f"set:{s.network}"
        if s.bounds:
            lines.append(f"dhcp-range={tag},{s.bounds[0]},{s.bounds[1]},{s.netmask},{LEASE}")
        else:
            lines.append(f"dhcp-range={tag},{s.address},static,{s.netmask},{LEASE}")
    return "\n".join(lines) + "\n"


def render_hosts(plan: Plan) -> str:
    return "".join(f"{lease.mac},{lease.ip},{lease.name}\n" for lease in plan.leases)


def pxe_name(mac: str) -> str:
    return "01-" + mac.lower().replace(":", "-")


def render_pxe(p: Pxe) -> str:
    if p.action == "os":
        return f"# {p.host}: boot from its own disk\ndefault os\nlabel os\n  localboot 0\n"
    append = " ".join(x for x in (f"initrd={p.ramdisk}" if p.ramdisk else "", p.args or "") if x)
    out = f"# {p.host}: install\ndefault install\nlabel install\n  kernel {p.kernel}\n"
    return out + (f"  append {append}\n" if append else "")


DEFAULT_PXE = (
    "# cairn: a MAC cairn does not know boots from its own disk\n"
    "default os\nlabel os\n  localboot 0\n"
)


def files(plan: Plan, directory: str) -> dict[str, str]:
    """{path relative to the directory: text} of every file made from the database."""
    out = {"dnsmasq.conf": render_conf(plan, directory), "dhcp-hosts": render_hosts(plan)}
    out["tftp/pxelinux.cfg/default"] = DEFAULT_PXE
    out[f"tftp/{ipxe.BOOT_SCRIPT}"] = ipxe.boot_script()
    for p in plan.pxe:
        out[f"tftp/pxelinux.cfg/{pxe_name(p.mac)}"] = render_pxe(p)
        script = (
            ipxe.os_script(p.host)
            if p.action == "os"
            else ipxe.install_script(p.host, p.kernel or "", p.ramdisk, p.args)
        )
        if script is not None:
            out[f"tftp/{ipxe.script_name(pxe_name(p.mac))}"] = script
    return out
