"""A DHCP and TFTP client in a test's network namespace (busybox udhcpc and
tftp), for the tests that run a real dnsmasq from cairn's files."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from netkit import Namespaces, in_ns, ip
from testkit import CAIRN


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


def bridge(made: Namespaces, fe: str, name: str, address: str, clients: dict[str, str]) -> None:
    """Bridge `name` in namespace `fe` holding ADDRESS/PREFIX, with eth0 of each
    client namespace on it ({client: the port's name in fe})."""
    ip("link", "add", "name", name, "type", "bridge", ns=fe)
    ip("addr", "add", address, "dev", name, ns=fe)
    ip("link", "set", name, "up", ns=fe)
    for client, port in clients.items():
        made.link(fe, port, None, client, "eth0", None)
        ip("link", "set", port, "master", name, ns=fe)


def sync_config(
    url: str, ns: str, directory: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`cairn sync config frontend=fe dir=DIRECTORY` run in namespace `ns`
    (where its dnsmasq then runs), as JSON."""
    return cairn_in(ns, url, "sync", "config", "frontend=fe", f"dir={directory}", *extra)


def cairn_in(ns: str, url: str, *words: str) -> subprocess.CompletedProcess[str]:
    """`cairn WORDS... output-format=json` in namespace `ns`: a service of its own there."""
    env = {**os.environ, "CAIRN_DB_URL": url}
    return subprocess.run(
        ["ip", "netns", "exec", ns, CAIRN, *words, "output-format=json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def stop_dnsmasq(directory: Path) -> None:
    """End the dnsmasq and the boot HTTP server sync config started there, if
    any, and remove the directory."""
    from cairn.netboot import httpd

    httpd.stop(directory)
    pid_file = directory / "dnsmasq.pid"
    with contextlib.suppress(OSError, ValueError, ProcessLookupError):
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
    shutil.rmtree(directory, ignore_errors=True)
