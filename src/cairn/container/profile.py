"""What a node needs to run VMs, as a shell script (Debian) or a kickstart fragment (RHEL).

`gather` reads the database and the frontend (the cluster CA, root's SSH key)
into a `Profile`; `render_sh` and `render_kickstart` turn it into text and do
no I/O. Not here: running anything on the node (the admin applies the text),
or how VMs are booted and shut down (power.py, `cairn container ...`).

Safety of the generated shell: every value from the database or the frontend
(host name, paths, the cairn command, certificates, keys) appears exactly once,
in a block of `name=<shlex-quoted value>` assignments at the top. Everything
after it is constant text that refers to those variables only as "$name", so
no value is ever read as shell code, whatever it holds. Values are still
checked (plain absolute paths, host names) so that the files they end up in
(a systemd unit, authorized_keys) get sane ones. A kickstart %post section
ends at any line starting with %, so the rendered fragment is refused if a
value would produce one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.resolve import resolve
from cairn.attrs.scopes import Resolved
from cairn.container.ca import Authority, Issued, client_dn
from cairn.container.sshkey import PublicKey, frontend_key
from cairn.db.models import Appliance, Host
from cairn.errors import CairnError
from cairn.inventory.netplan import BridgePlan, plans
from cairn.units import check_command, default_cairn_command
from cairn.vms.disks import DEFAULT_DIR, check_path
from cairn.vms.reach import reach

Access = Literal["tls", "ssh", "local", "other"]
Format = Literal["sh", "kickstart"]

DEBIAN_PACKAGES = ("libvirt-daemon-system", "libvirt-clients", "qemu-system-x86", "qemu-utils")
RHEL_PACKAGES = ("qemu-kvm", "qemu-img", "libvirt", "libvirt-client")
SSH_PACKAGE = "openssh-server"
DEFAULT_SAVE_DIR = "/var/lib/libvirt/qemu/save"
FRONTEND = "frontend"


@dataclass(frozen=True)
class Profile:
    host: str
    container: bool
    reason: str = ""  # why the host is not a container
    uri: str = ""
    access: Access = "local"
    save_dir: str = DEFAULT_SAVE_DIR
    disk_dir: str = DEFAULT_DIR
    cairn: str = "/usr/local/bin/cairn"
    ssh_key: PublicKey | None = None
    ca_pem: str | None = None
    server: Issued | None = None
    client: Issued | None = None
    network: tuple[BridgePlan, ...] = ()  # bridges for VMs (see inventory.netplan)
    clients: tuple[str, ...] = ()  # DNs of the client certificates a TLS server lets in
    notes: list[str] = field(default_factory=list, compare=False)


# --- reading the database and the frontend --------------------------------------


def access_of(uri: str) -> Access:
    """How libvirt reaches a container at `uri`: TLS, SSH, locally, or otherwise."""
    parts = urlsplit(uri)
    driver, _, transport = parts.scheme.partition("+")
    if driver == "test":
        return "other"
    if not parts.netloc and transport in ("", "unix"):
        return "local"
    if transport == "tls" or (transport == "" and parts.netloc):
        return "tls"  # libvirt's default transport for a remote URI is TLS
    if transport in ("ssh", "libssh", "libssh2"):
        return "ssh"
    return "other"


def _attr(attrs: dict[str, Resolved], name: str, default: str) -> str:
    found = wellknown.text(attrs, name)
    return default if found is None else found


def _tls_in_use(session: Session) -> bool:
    """Whether cairn reaches any container through TLS."""
    from cairn.inventory.containers import container_uris, is_container

    hosts = list(session.execute(select(Host)).scalars())
    resolved = resolve(session, hosts)
    containers = [h for h in hosts if is_container(h, resolved[h.id])]
    return any(access_of(u) == "tls" for u in container_uris(session, containers).values())


def _server_names(host: Host, uri: str, local: bool) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) a container's server certificate must carry."""
    dns, ips = [host.name], []
    for iface in sorted(host.interfaces, key=lambda i: i.name):
        if iface.ip:
            try:
                ips.append(str(ipaddress.ip_address(iface.ip)))
            except ValueError:
                continue
    reached = urlsplit(uri).hostname
    if reached:
        try:
            ips.append(str(ipaddress.ip_address(reached)))
        except ValueError:
            dns.append(reached)
    if local:
        dns.append("localhost")
        ips.extend(["127.0.0.1", "::1"])
    return list(dict.fromkeys(dns)), list(dict.fromkeys(ips))


def _frontends(session: Session, me: str) -> list[str]:
    """The hosts whose client certificates reach containers: this machine (which
    makes the profiles and runs cairn) and every host of appliance frontend."""
    names = session.execute(
        select(Host.name).join(Host.appliance).where(Appliance.name == FRONTEND)
    ).scalars()
    return sorted({me, *names})


def gather(
    session: Session, host: Host, *, client: bool | None = None, create: bool = False
) -> Profile:
    """Everything the profile of `host` needs. With `create`, makes the cluster CA,
    certificates and root's SSH key that are missing and says so in the notes;
    without it (a report), writes nothing and a missing one is an error.

    client: include the TLS client part (None: when `host` is this machine or a
    frontend and some container is reached through TLS).
    """
    from cairn.db.hostfacts import local_hostname
    from cairn.inventory.containers import check_container, container_uris

    notes: list[str] = []
    me = local_hostname()
    local = host.name == me
    attrs = resolve(session, [host])[host.id]
    reason = ""
    try:
        check_container(session, host)
    except CairnError as exc:
        reason = str(exc)
    if client is None:
        client = (local or host.appliance.name == FRONTEND) and _tls_in_use(session)

    ca: Authority | None = None

    def authority() -> Authority:
        nonlocal ca
        if ca is None:
            ca = Authority.open(common_name=me, create=create)
            if ca.created:
                notes.append(f"made the cluster CA in {ca.directory} (keep cakey.pem private)")
        return ca

    client_cert = authority().issue("client", host.name, create=create) if client else None
    if reason:
        return Profile(
            host=host.name,
            container=False,
            reason=reason,
            ca_pem=ca.cert_pem if ca else None,
            client=client_cert,
            notes=notes,
        )

    uri = container_uris(session, [host])[host.id]
    access = access_of(uri)
    where = f"attribute {{}} of host {host.name}"
    within = reach()  # the profile makes these directories as root
    save_dir = within.file(
        check_path(_attr(attrs, "kvm_save_dir", DEFAULT_SAVE_DIR), where.format("kvm_save_dir")),
        where.format("kvm_save_dir"),
    )
    disk_dir = within.file(
        check_path(_attr(attrs, "kvm_disk_dir", DEFAULT_DIR), where.format("kvm_disk_dir")),
        where.format("kvm_disk_dir"),
    )
    command = check_command(
        _attr(attrs, "cairn_command", "") or default_cairn_command(), where.format("cairn_command")
    )
    server = ssh_key = None
    clients: tuple[str, ...] = ()
    if access == "tls":
        dns, ips = _server_names(host, uri, local)
        server = authority().issue("server", host.name, dns=dns, ips=ips, create=create)
        clients = tuple(client_dn(name) for name in _frontends(session, me))
    elif access == "ssh":
        ssh_key = frontend_key(create=create)
        if ssh_key.generated:
            notes.append(
                f"made the SSH key {ssh_key.path.with_suffix('')} (no passphrase) for cairn's"
                " qemu+ssh:// connections"
            )
    return Profile(
        host=host.name,
        container=True,
        network=tuple(plans(session, [host])[host.id]),
        uri=uri,
        access=access,
        save_dir=save_dir,
        disk_dir=disk_dir,
        cairn=command,
        ssh_key=ssh_key,
        ca_pem=ca.cert_pem if ca else None,
        server=server,
        client=client_cert,
        clients=clients,
        notes=notes,
    )
