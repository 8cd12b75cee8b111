"""The text of a container profile: the shell script (Debian/Ubuntu) and the
kickstart fragment (RHEL family), which install the cairn-container unit
(`cairn.units`).

Only text is made here, from a `Profile` that `cairn.container.profile`
gathered; every value from the database goes in once, shlex-quoted, at the top
of the script, and the rest is constant text that uses "$var".
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from cairn.container.profile import (
    DEBIAN_PACKAGES,
    RHEL_PACKAGES,
    SSH_PACKAGE,
    Format,
    Profile,
)
from cairn.errors import CairnError
from cairn.units import NETWORK_SCRIPT, container_unit, network_unit

# --- rendering ----------------------------------------------------------------------------

_PRELUDE = r"""
cairn_changes=
cairn_tls_changed=
cairn_changed() {
  cairn_changes="$cairn_changes|$1"
  echo "cairn: $1"
}
# cairn_put PATH MODE TEXT: PATH holds TEXT and a newline, with MODE (as stat %a shows it).
cairn_put() {
  if [ -f "$1" ] && [ "$(cat "$1"; echo .)" = "$(printf '%s\n.' "$3")" ]; then
    if [ "$(stat -c %a "$1")" != "$2" ]; then
      chmod "$2" "$1"
      cairn_changed "mode $2 on $1"
    fi
    return 0
  fi
  mkdir -p "${1%/*}"
  cairn_tmp=$(mktemp "$1.cairn-XXXXXX")
  printf '%s\n' "$3" >"$cairn_tmp"
  chmod "$2" "$cairn_tmp"
  mv -f "$cairn_tmp" "$1"
  cairn_changed "wrote $1"
}
cairn_enable() {
  if [ "$(systemctl is-enabled "$1" 2>/dev/null)" != enabled ]; then
    systemctl enable --quiet "$1"
    cairn_changed "enabled $1"
  fi
}
# cairn_install_unit NAME TEXT: /etc/systemd/system/NAME holds TEXT (systemd reloaded if it
# changed and runs this machine) and NAME is enabled.
cairn_install_unit() {
  cairn_before=$cairn_changes
  cairn_put "/etc/systemd/system/$1" 644 "$2"
  if [ "$cairn_init" = systemd ] && [ "$cairn_changes" != "$cairn_before" ]; then
    systemctl daemon-reload
  fi
  cairn_enable "$1"
}
# systemd: it runs this machine, units are started now. offline: systemctl is here but
# systemd does not run (an installer's chroot, a container): units are only enabled.
if [ "$cairn_live" = yes ] && [ -d /run/systemd/system ]; then
  cairn_init=systemd
elif command -v systemctl >/dev/null 2>&1; then
  cairn_init=offline
else
  cairn_init=none
fi
"""

_PACKAGES = r"""
# Packages (Debian/Ubuntu), installed only when missing.
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "cairn: this script is for Debian/Ubuntu; use format=kickstart for RHEL-family nodes" >&2
  exit 1
fi
cairn_missing=
for cairn_pkg in $cairn_packages; do
  if ! dpkg-query -W -f='${Status}\n' "$cairn_pkg" 2>/dev/null | grep -q 'ok installed$'; then
    cairn_missing="$cairn_missing $cairn_pkg"
  fi
done
if [ -n "$cairn_missing" ]; then
  apt-get update -q
  # One word per package: $cairn_missing is split on purpose.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $cairn_missing
  cairn_changed "installed$cairn_missing"
fi
"""

_KVM = r"""
# /dev/kvm for QEMU, which libvirt runs as an unprivileged user: open to all (as
# systemd's own udev rules make it), now and, through the udev rule, after a reboot.
cairn_put /etc/udev/rules.d/65-cairn-kvm.rules 644 'KERNEL=="kvm", GROUP="kvm", MODE="0666"'
if [ "$cairn_live" = yes ] && [ -c /dev/kvm ] && [ "$(stat -c %a /dev/kvm)" != 666 ]; then
  chmod 0666 /dev/kvm
  cairn_changed "chmod 0666 /dev/kvm"
fi
# Where VM disks and saved VM memory go (attributes kvm_disk_dir, kvm_save_dir).
for cairn_dir in "$cairn_disk_dir" "$cairn_save_dir"; do
  if [ ! -d "$cairn_dir" ]; then
    mkdir -p "$cairn_dir"
    cairn_changed "made $cairn_dir"
  fi
done
# libvirt-guests stays off: cairn-container.service saves and brings back VMs instead.
# It is not stopped here, as stopping it would suspend or shut down running VMs.
if [ "$cairn_init" != none ] &&
  [ "$(systemctl is-enabled libvirt-guests.service 2>/dev/null)" = enabled ]; then
  systemctl disable --quiet libvirt-guests.service
  cairn_changed "disabled libvirt-guests.service"
fi
"""

_TLS_SERVER = r"""
# TLS (kvm_connection qemu+tls://): the cluster CA, this node's certificate and key
# where libvirtd looks for them, and libvirtd listening for TLS (port 16514).
cairn_before=$cairn_changes
cairn_put /etc/pki/CA/cacert.pem 644 "$cairn_ca_cert"
cairn_put /etc/pki/libvirt/servercert.pem 644 "$cairn_server_cert"
cairn_put /etc/pki/libvirt/private/serverkey.pem 600 "$cairn_server_key"
cairn_conf=/etc/libvirt/libvirtd.conf
# cairn_set_conf KEY LINE: LINE is the one setting of KEY (a constant name) in $cairn_conf.
cairn_set_conf() {
  if ! grep -qxF -- "$2" "$cairn_conf" 2>/dev/null ||
    [ "$(grep -Ec "^[[:space:]]*$1[[:space:]]*=" "$cairn_conf")" != 1 ]; then
    if [ -f "$cairn_conf" ]; then
      sed -i "/^[[:space:]]*$1[[:space:]]*=/d" "$cairn_conf"
    fi
    printf '%s\n' "$2" >>"$cairn_conf"
    cairn_changed "$1 in $cairn_conf"
  fi
}
cairn_set_conf listen_tls 'listen_tls = 1'
# Only the frontend's client certificate may connect, and certificates are checked.
cairn_set_conf tls_allowed_dn_list "$cairn_tls_allowed_dn_list"
cairn_set_conf tls_no_verify_certificate 'tls_no_verify_certificate = 0'
if [ "$cairn_changes" != "$cairn_before" ]; then
  cairn_tls_changed=yes
fi
if [ "$cairn_init" != none ]; then
  cairn_enable libvirtd-tls.socket
fi
"""

_TLS_CLIENT = r"""
# TLS client: libvirt's client certificate for root, so that cairn on this machine
# reaches the qemu+tls:// containers.
cairn_put /etc/pki/CA/cacert.pem 644 "$cairn_ca_cert"
cairn_put /etc/pki/libvirt/clientcert.pem 644 "$cairn_client_cert"
cairn_put /etc/pki/libvirt/private/clientkey.pem 600 "$cairn_client_key"
"""

_SSH = r"""
# SSH (kvm_connection qemu+ssh://): the frontend's key may log in as root.
cairn_keys=/root/.ssh/authorized_keys
if [ ! -d /root/.ssh ]; then
  mkdir -m 700 /root/.ssh
fi
if ! grep -qF -- "$cairn_ssh_key_id" "$cairn_keys" 2>/dev/null; then
  if [ -s "$cairn_keys" ] && [ -n "$(tail -c 1 "$cairn_keys")" ]; then
    echo >>"$cairn_keys"
  fi
  printf '%s\n' "$cairn_ssh_key" >>"$cairn_keys"
  chmod 600 "$cairn_keys"
  cairn_changed "authorized the frontend's key in $cairn_keys"
  if command -v restorecon >/dev/null 2>&1; then
    restorecon -R /root/.ssh
  fi
fi
"""

_DAEMONS = r"""
# libvirtd now. Under systemd, a TLS change means restarting libvirtd, which takes its
# sockets from systemd only when it starts. Without systemd this script starts the
# daemons itself (nothing starts them at boot); with TLS libvirtd needs --listen.
# Running VMs go on while libvirtd restarts. Only this machine's own daemons count,
# not those in PID namespaces below this one (a testbed's containers, LXC), which a
# plain pgrep or pkill would see and kill too.
cairn_pgrep() { pgrep --ns $$ --nslist pid "$@"; }
cairn_wait() {
  cairn_i=0
  while ! eval "$1"; do
    cairn_i=$((cairn_i + 1))
    if [ "$cairn_i" -gt 300 ]; then
      echo "cairn: timed out waiting for: $1" >&2
      exit 1
    fi
    sleep 0.1
  done
}
if [ "$cairn_live" = yes ] && [ "$cairn_init" = systemd ]; then
  if [ "$cairn_tls" = yes ]; then
    if [ -n "$cairn_tls_changed" ] || ! systemctl is-active --quiet libvirtd-tls.socket; then
      systemctl stop libvirtd.service
      systemctl restart libvirtd-tls.socket
      systemctl start libvirtd.service
      cairn_changed "restarted libvirtd with TLS"
    fi
  fi
elif [ "$cairn_live" = yes ]; then
  if ! cairn_pgrep -x virtlogd >/dev/null; then
    virtlogd -d
    cairn_changed "started virtlogd"
  fi
  if [ "$cairn_tls" = yes ]; then
    if cairn_pgrep -x libvirtd >/dev/null; then
      if [ -n "$cairn_tls_changed" ] || ! cairn_pgrep -a -x libvirtd | grep -q -- ' --listen'; then
        pkill --ns $$ --nslist pid -x libvirtd
        cairn_wait '! cairn_pgrep -x libvirtd >/dev/null'
        libvirtd -d --listen
        cairn_changed "restarted libvirtd -d --listen"
      fi
    else
      libvirtd -d --listen
      cairn_changed "started libvirtd -d --listen"
    fi
  elif ! cairn_pgrep -x libvirtd >/dev/null; then
    libvirtd -d
    cairn_changed "started libvirtd"
  fi
  cairn_wait 'virsh -c qemu:///system version >/dev/null 2>&1'
fi
"""

_SERVICE = r"""
# cairn-container.service runs `cairn container boot` once libvirtd runs and
# `cairn container shutdown` before it stops, so VMs survive a restart of the node.
if [ "$cairn_init" = none ]; then
  echo "cairn: no systemd here: nothing runs cairn container boot/shutdown at boot" \
    "and shutdown; run them yourself"
else
  cairn_install_unit cairn-container.service "$cairn_unit"
  if [ "$cairn_init" = systemd ] && ! systemctl is-active --quiet cairn-container.service; then
    if [ -x "$cairn_command" ]; then
      systemctl start cairn-container.service
      cairn_changed "started cairn-container.service"
    else
      echo "cairn: $cairn_command is not on this node (yet):" \
        "cairn-container.service will fail until it is" >&2
    fi
  elif [ "$cairn_init" = offline ] && [ "$cairn_live" = yes ]; then
    echo "cairn: systemd does not run this machine: cairn-container.service is enabled" \
      "for when it does; until then nothing runs cairn container boot/shutdown"
  fi
fi
"""

_FINISH = r"""
if [ -n "$cairn_changes" ]; then
  echo "cairn: profile of $cairn_host applied"
else
  echo "cairn: profile of $cairn_host: nothing to change"
fi
"""


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


_NETWORK = r"""
# cairn_net BRIDGE PORT KIND PARENT ID LOCAL PEERS ADDRESS
cairn_net() {
  if ! ip link show dev "$1" >/dev/null 2>&1; then
    ip link add name "$1" type bridge
    cairn_changed "bridge $1"
  fi
  ip link set dev "$1" up
  if ! ip link show dev "$2" >/dev/null 2>&1; then
    case "$3" in
      vlan) ip link add link "$4" name "$2" type vlan id "$5" ;;
      vxlan) ip link add "$2" type vxlan id "$5" local "$6" dstport 4789 ;;
      *) echo "cairn: there is no device $2 to put on bridge $1" >&2; exit 1 ;;
    esac
    cairn_changed "$3 device $2"
  fi
  if [ "$3" = vxlan ]; then
    for cairn_peer in $7; do
      if ! bridge fdb show dev "$2" | grep -q "dst $cairn_peer "; then
        bridge fdb append 00:00:00:00:00:00 dev "$2" dst "$cairn_peer"
        cairn_changed "$2 floods to $cairn_peer"
      fi
    done
  fi
  if ! ip link show dev "$2" | grep -q "master $1 "; then
    ip link set dev "$2" master "$1"
    cairn_changed "$2 on bridge $1"
  fi
  ip link set dev "$2" up
  if [ -n "$8" ]; then
    if ! ip -o addr show dev "$1" | grep -q " $8 "; then
      ip addr add "$8" dev "$1"
      cairn_changed "address $8 on $1"
    fi
    if ip -o addr show dev "$2" | grep -q " $8 "; then
      ip addr del "$8" dev "$2"
      cairn_changed "address $8 off $2"
    fi
  fi
}
"""

_BRIDGES = r"""
# Bridges for VMs: $cairn_net_file makes them (cairn sync host network does the same
# from the frontend), now and, through cairn-network.service, at every boot.
cairn_put "$cairn_net_file" 700 "$cairn_net_script"
if [ "$cairn_init" = none ]; then
  echo "cairn: no systemd here: run $cairn_net_file at every boot, before libvirtd"
else
  cairn_install_unit cairn-network.service "$cairn_net_unit"
fi
if [ "$cairn_live" = yes ]; then
  cairn_net_out=$(sh "$cairn_net_file")
  if [ -n "$cairn_net_out" ]; then
    printf '%s\n' "$cairn_net_out"
    cairn_changes="$cairn_changes|bridges"
  fi
fi
"""

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
    return "\n".join(head) + _PRELUDE.split("# cairn_put")[0] + _NETWORK + _net_calls(p)


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
