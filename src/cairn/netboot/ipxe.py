"""Network boot over HTTP with iPXE: the scripts and the dnsmasq lines that hand
them out. Pure text, no I/O.

QEMU's NIC ROMs (and Debian's undionly.kpxe/ipxe.efi) are iPXE, which says so in
its DHCP user class. dnsmasq answers such a client with the URL of boot.ipxe on
the frontend's HTTP server (netboot/httpd.py) instead of pxelinux.0 over TFTP,
which moves the kernel and initrd at HTTP speed rather than TFTP's one block per
round trip. boot.ipxe chains the script of the client's MAC (ipxe/01-aa-bb-...,
named as pxelinux's files are) and, when there is none, pxelinux.0 over TFTP, so
a host cairn serves no script still boots as before.

iPXE expands `${...}` and splits `||`/`&&` in a script's lines, so a boot
action's arguments go into a script only when they are made of characters that
mean nothing to iPXE (SAFE_ARGS); any other host keeps its pxelinux file over
TFTP, and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TAG = "cairn_ipxe"  # not a DNS label, so no network's name (its dhcp-range tag) is this
PORT = 4480  # the frontend's boot HTTP server; Rocks' Apache keeps 80
BOOT_SCRIPT = "boot.ipxe"
SCRIPTS = "ipxe"  # under the TFTP root, which the HTTP server serves
SAFE_ARGS = re.compile(r"[A-Za-z0-9_.,:/=+@%\- ]*")


def script_name(pxe_file: str) -> str:
    """The iPXE script's path under the root for a pxelinux file name (01-aa-bb-...)."""
    return f"{SCRIPTS}/{pxe_file}"


def boot_script() -> str:
    """What every iPXE client is handed: its MAC's script, else pxelinux over TFTP."""
    return (
        "#!ipxe\n"
        "# cairn: the script of this MAC, or pxelinux over TFTP when cairn wrote none\n"
        f"chain {SCRIPTS}/01-${{netX/mac:hexhyp}} || chain tftp://${{next-server}}/pxelinux.0\n"
    )


def install_script(host: str, kernel: str, ramdisk: str | None, args: str | None) -> str | None:
    """The install script (kernel and initrd over HTTP), or None when `args` hold a
    character iPXE would read as part of the script."""
    if args and not SAFE_ARGS.fullmatch(args):
        return None
    lines = ["#!ipxe", f"# {host}: install", f"kernel /{kernel} {args or ''}".rstrip()]
    if ramdisk:
        lines.append(f"initrd /{ramdisk}")
    lines.append("boot")
    return "\n".join(lines) + "\n"


def os_script(host: str) -> str:
    """Back to the firmware, which boots the next device: the VM's own disk."""
    return f"#!ipxe\n# {host}: boot from its own disk\necho cairn: boot from the local disk\nexit\n"


def dnsmasq_lines(http: Iterable[tuple[str, str | None]], port: int = PORT) -> list[str]:
    """dhcp-boot lines for [(network, the frontend's address there or None)]: iPXE
    clients get boot.ipxe over HTTP where the frontend has an address to serve it
    from, pxelinux.0 over TFTP elsewhere; other PXE clients get pxelinux.0."""
    lines = [f"dhcp-userclass=set:{TAG},iPXE", f"dhcp-boot=tag:!{TAG},pxelinux.0"]
    for network, address in http:
        target = f"http://{address}:{port}/{BOOT_SCRIPT}" if address else "pxelinux.0"
        lines.append(f"dhcp-boot=tag:{TAG},tag:{network},{target}")
    return lines
