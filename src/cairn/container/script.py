"""The text of a container profile: the shell script (Debian/Ubuntu) and the
kickstart fragment (RHEL family), which install the cairn-container unit
(`cairn.units`).

Only text is made here, from a `Profile` that `cairn.container.profile`
gathered. The shell itself is constant, in the packaged sh/*.sh files (checked
by shellcheck); this module picks the parts a host needs and puts before them
the values block: every value from the database goes in once, shlex-quoted, as
a variable that the parts use as "$var".
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from importlib import resources

from cairn.container.profile import (
    DEBIAN_PACKAGES,
    RHEL_PACKAGES,
    SSH_PACKAGE,
    Format,
    Profile,
)
from cairn.errors import CairnError
from cairn.units import NETWORK_SCRIPT, container_unit, network_unit


def _sh(name: str) -> str:
    """The text of the packaged sh/NAME past its header (its comment lines down to
    the first blank one, which are for shellcheck and the reader of the source)."""
    text = resources.files("cairn.container").joinpath("sh", name).read_text(encoding="utf-8")
    return text.split("\n\n", 1)[1]


def _part(name: str) -> str:
    """A part of the shell, as a block of its own: a blank line before it."""
    return "\n" + _sh(f"{name}.sh")


_CHANGES = _part("changes")
_PRELUDE = _CHANGES + _sh("helpers.sh")  # the helpers follow at once
_PACKAGES = _part("packages")
_KVM = _part("kvm")
_TLS_SERVER = _part("tls_server")
_TLS_CLIENT = _part("tls_client")
_SSH = _part("ssh")
_DAEMONS = _part("daemons")
_SERVICE = _part("service")
_NETWORK = _part("net")
_BRIDGES = _part("bridges")
_FINISH = _part("finish")


def allowed_dn_line(dns: Sequence[str]) -> str:
    """libvirtd.conf's `tls_allowed_dn_list = [...]` for these client DNs. Each DN
    is a libvirt config string (double-quoted; `"` and `\\` escaped), and libvirt
    matches it as a glob, so glob characters are refused."""
    if not dns:
        raise CairnError("no client certificate to let in: tls_allowed_dn_list would be empty")
    for dn in dns:
        if any(c in dn for c in '*?[]"\\') or not dn.isprintable():
            raise CairnError(f"client certificate name {dn!r} cannot be put in tls_allowed_dn_list")
    return "tls_allowed_dn_list = [" + ", ".join(f'"{dn}"' for dn in dns) + "]"


def _comment(text: str) -> str:
    """One comment line: nothing in `text` can end the comment or the line."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return f"# {clean}".rstrip()


_NET_FIELDS = ("bridge", "port", "kind", "parent", "vid", "local", "peers", "address")


def _net_values(p: Profile) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, plan in enumerate(p.network, 1):
        given = {
            "bridge": plan.bridge,
            "port": plan.port,
            "kind": plan.kind,
            "parent": plan.parent or "",
            "vid": "" if plan.vid is None else str(plan.vid),
            "local": plan.local or "",
            "peers": " ".join(plan.peers),
            "address": plan.address or "",
        }
        out |= {f"cairn_net_{i}_{name}": given[name] for name in _NET_FIELDS}
    return out


def _net_calls(p: Profile) -> str:
    lines = [
        "cairn_net " + " ".join(f'"$cairn_net_{i}_{name}"' for name in _NET_FIELDS)
        for i in range(1, len(p.network) + 1)
    ]
    return "\n".join(lines) + "\n"


def _values(p: Profile, fmt: Format) -> dict[str, str]:
    values = {"cairn_host": p.host, "cairn_live": "yes" if fmt == "sh" else "no"}
    if p.container:
        if fmt == "sh":
            packages = [*DEBIAN_PACKAGES, *([SSH_PACKAGE] if p.access == "ssh" else [])]
            values["cairn_packages"] = " ".join(packages)
        values |= {
            "cairn_disk_dir": p.disk_dir,
            "cairn_save_dir": p.save_dir,
            "cairn_command": p.cairn,
            "cairn_unit": container_unit(p.cairn),
            "cairn_tls": "yes" if p.server else "no",
        }
    if p.ca_pem:
        values["cairn_ca_cert"] = p.ca_pem.rstrip("\n")
    if p.server:
        values["cairn_server_cert"] = p.server.cert_pem.rstrip("\n")
        values["cairn_server_key"] = p.server.key_pem.rstrip("\n")
        values["cairn_tls_allowed_dn_list"] = allowed_dn_line(p.clients)
    if p.client:
        values["cairn_client_cert"] = p.client.cert_pem.rstrip("\n")
        values["cairn_client_key"] = p.client.key_pem.rstrip("\n")
    if p.ssh_key:
        values["cairn_ssh_key"] = p.ssh_key.line
        values["cairn_ssh_key_id"] = p.ssh_key.ident
    if p.container and p.network:
        values |= {
            "cairn_net_file": NETWORK_SCRIPT,
            "cairn_net_script": network_part(p).rstrip("\n"),
            "cairn_net_unit": network_unit(),
        }
    return values


def _parts(p: Profile, fmt: Format) -> list[str]:
    parts = []
    if p.container:
        if fmt == "sh":
            parts.append(_PACKAGES)
        parts.append(_KVM)
        if p.server:
            parts.append(_TLS_SERVER)
        if p.ssh_key:
            parts.append(_SSH)
    if p.client:
        parts.append(_TLS_CLIENT)
    if p.container:
        parts += [_DAEMONS, _SERVICE]
    if p.container and p.network:
        parts.append(_BRIDGES)
    return parts


def _about(p: Profile) -> list[str]:
    lines = []
    if not p.container:
        lines.append(f"No KVM part: {p.reason}")
    else:
        lines.append(f"kvm_connection: {p.uri}")
        lines.append(
            {
                "tls": "reached through TLS: the cluster CA and a server certificate are installed",
                "ssh": "reached through SSH: the frontend's root key is authorized",
                "local": "reached on this machine only: nothing remote to set up",
                "other": "cairn sets up no remote access for this kind of URI",
            }[p.access]
        )
    if p.network:
        made = ", ".join(f"{b.bridge} ({b.network}, {b.kind})" for b in p.network)
        lines.append(f"bridges for VMs, made at every boot by cairn-network.service: {made}")
    if p.client:
        lines.append("TLS client part: cairn on this machine reaches qemu+tls:// containers")
    if p.server or p.client:
        lines.append("This text holds private keys: keep it where only root can read it.")
    return lines


def network_part(p: Profile) -> str:
    """The script that makes the bridges of `p` (the profile installs it as
    /etc/cairn/network.sh): its values, then constant text. It prints a line for
    each change and nothing when there is none to make."""
    values = _net_values(p)
    head = [
        "#!/bin/sh",
        _comment(f"cairn: the bridges for VMs of {p.host} (from cairn report host profile)."),
        "set -eu",
        *(f"{name}={shlex.quote(value)}" for name, value in values.items()),
    ]
    return "\n".join(head) + _CHANGES + _NETWORK + _net_calls(p)


def _script(p: Profile, fmt: Format) -> str:
    """The shell after the header: values, helpers, parts."""
    values = _values(p, fmt)
    out = ["# Values from the cairn database and the frontend. Each is quoted; none is executed."]
    out += [f"{name}={shlex.quote(value)}" for name, value in values.items()]
    out.append("# End of values.")
    return "\n".join(out) + _PRELUDE + "".join(_parts(p, fmt)) + _FINISH


def render_sh(p: Profile) -> str:
    head = [
        "#!/bin/sh",
        _comment(
            f"cairn profile of {p.host} (format sh, Debian/Ubuntu): what it needs to run VMs."
        ),
        _comment(f"Made by: cairn report host profile {p.host} format=sh"),
        "# Apply it as root on that node: sh profile.sh. Running it again changes nothing.",
        *(_comment(line) for line in _about(p)),
        "set -eu",
        "umask 022",
    ]
    if not p.container and not p.client:
        return "\n".join([*head, "echo 'cairn: not a VM container; nothing to do'"]) + "\n"
    return "\n".join(head) + "\n" + _script(p, "sh")


def render_kickstart(p: Profile) -> str:
    head = [
        _comment(f"cairn profile of {p.host} (kickstart fragment for RHEL-family installs)."),
        _comment(f"Made by: cairn report host profile {p.host} format=kickstart"),
        "# Put it into the node's kickstart file (or %include it).",
        *(_comment(line) for line in _about(p)),
    ]
    out = list(head)
    if p.container:
        packages = [*RHEL_PACKAGES, *([SSH_PACKAGE] if p.access == "ssh" else [])]
        out += ["", "%packages", *packages, "%end"]
    if p.container or p.client:
        body = _script(p, "kickstart")
        for line in body.splitlines():
            if line.lstrip().startswith("%"):
                raise CairnError(
                    f"the kickstart profile of {p.host} would have a line starting with %,"
                    f" which ends a kickstart section: {line[:60]!r}"
                )
        out += [
            "",
            "%post --log=/root/cairn-profile.log",
            "set -eu",
            "umask 022",
            body.rstrip("\n"),
            "%end",
        ]
    return "\n".join(out) + "\n"


def render(p: Profile, fmt: Format) -> str:
    return render_sh(p) if fmt == "sh" else render_kickstart(p)
