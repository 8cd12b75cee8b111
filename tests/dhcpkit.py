"""A DHCP and TFTP client in a test's network namespace (busybox udhcpc and
tftp), for the tests that run a real dnsmasq from cairn's files."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from netkit import in_ns, ip


def mac(ns: str, dev: str = "eth0") -> str:
    return json.loads(ip("-j", "link", "show", dev, ns=ns))[0]["address"]


def lease(ns: str, tries: int = 4) -> str:
    """The address dnsmasq offers eth0 in `ns` (one DISCOVER a second), or ''."""
    done = in_ns(
        ns,
        "busybox",
        "udhcpc",
        "-i",
        "eth0",
        "-n",
        "-q",
        "-f",
        "-t",
        str(tries),
        "-T",
        "1",
        "-s",
        "/bin/true",
        check=False,
    )
    for line in (done.stdout + done.stderr).splitlines():
        if "lease of" in line:
            return line.split("lease of ")[1].split()[0]
    return ""


def tftp(ns: str, own: str, name: str, server: str = "198.18.5.1") -> str:
    """File `name` fetched by TFTP from `server` with eth0 at `own` (ADDRESS/24
    while it runs), or '' when it is not served."""
    ip("addr", "add", f"{own}/24", "dev", "eth0", ns=ns)
    local = Path(tempfile.mkdtemp()) / "got"
    try:
        done = in_ns(ns, "busybox", "tftp", "-g", "-r", name, "-l", str(local), server, check=False)
        return local.read_text(errors="replace") if done.returncode == 0 else ""
    finally:
        shutil.rmtree(local.parent, ignore_errors=True)
        ip("addr", "del", f"{own}/24", "dev", "eth0", ns=ns)
