"""Network boot on the testbed (tests/testbed.py): what the netboot system tests
and benchmarks/networks.py share. Each part of the testbed applies cairn's
network plan itself (`cairn sync host network`, run inside it), the guest of
scripts/guest.sh goes under the TFTP root, and `cairn sync config` starts
dnsmasq and the boot HTTP server (iPXE fetches the guest over HTTP) in the
frontend's namespace from the database.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import testbed as tb

ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-z]|c)")
GUEST = "cairn-guest"  # the guest's directory under the TFTP root
BASE_ARGS = "console=ttyS0 quiet panic=-1"
KERNEL = f"kernel={GUEST}/vmlinuz"
RAMDISK = f"ramdisk={GUEST}/initrd.gz"


def in_space(bed: tb.Testbed, space: tb.Space, *words: str) -> str:
    """`cairn WORDS...` run inside a part of the testbed (with the testbed's database)."""
    env = [f"{k}={v}" for k, v in bed.env.items()]
    return space.run("env", *env, tb.CAIRN, *words, timeout=120).stdout


def sync_networks(bed: tb.Testbed) -> dict[str, str]:
    """Each part of the testbed makes its own bridges and tunnels: {part: what changed}."""
    return {
        space.name: in_space(bed, space, "sync", "host", "network", space.name)
        for space in [bed.frontend, *bed.containers]
    }


def console_text(path: Path) -> str:
    """A guest's serial console file, without the firmware's terminal escapes."""
    return ESCAPE.sub("", path.read_text(errors="replace")) if path.exists() else ""


def put_guest(directory: Path) -> None:
    """The guest's kernel and initramfs under the TFTP root of netboot directory
    `directory`, all readable by dnsmasq (it reads as nobody)."""
    guest_dir = directory / "tftp" / GUEST
    guest_dir.mkdir(parents=True, exist_ok=True)
    for name in ("vmlinuz", "initrd.gz"):
        shutil.copyfile(tb.GUEST_CACHE / name, guest_dir / name)
    for d in (directory, directory / "tftp", guest_dir):
        d.chmod(0o755)


def serve(bed: tb.Testbed, directory: Path) -> str:
    """The guest under the TFTP root, then `cairn sync config` there; what it said."""
    put_guest(directory)
    return bed.cairn("sync", "config", f"frontend={tb.FRONTEND}", f"dir={directory}").stdout


def stop_dnsmasq(bed: tb.Testbed, directory: Path) -> None:
    """End the dnsmasq and the boot HTTP server that sync config started (their
    pids are the frontend's own)."""
    for name in ("dnsmasq.pid", "http.pid"):
        try:
            pid = int((directory / name).read_text())
        except (OSError, ValueError):
            continue
        bed.frontend.run("kill", str(pid), check=False)


def fetched(directory: Path, ip: str, path: str) -> bool:
    """Whether the client at `ip` got `path` from the boot HTTP server (its log)."""
    try:
        log = (directory / "http.log").read_text(errors="replace")
    except OSError:
        return False
    return any(
        line.startswith(f"{ip} ") and f'"GET {path} HTTP/1.' in line and '" 200 ' in line
        for line in log.splitlines()
    )
