"""A second VM container on this machine, for system tests that move VMs.

A second libvirtd runs in its own mount and UTS namespaces: its /etc/libvirt,
/run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt are
directories of its own (bind mounts that only it sees), its host name and
host UUID differ from this machine's, so libvirt treats it as another host
and migrates to it for real. Its socket is reachable from here, which gives
the URI a container's `kvm_connection` names. Its QEMU processes share this
machine's network, so `migration_host` tells the source where to send the
memory (a loopback address other than 127.0.0.1, which libvirt refuses).

Only what runs as root and has `unshare` can start one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from typing import Any

from sysdaemon import gone

import testkit
from testbed import daemon_env

HOSTNAME = "cairn-peer"
MIGRATION_HOST = "127.0.0.2"
_PRIVATE = ("etc", "run", "lib", "log", "cache")
_MOUNTS = {
    "etc": "/etc/libvirt",
    "run": "/run/libvirt",
    "lib": "/var/lib/libvirt",
    "log": "/var/log/libvirt",
    "cache": "/var/cache/libvirt",
}


class Peer:
    """The second libvirtd: its URI, its connection, where its files are seen from here."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uri = f"qemu:///system?socket={root / 'run' / 'libvirt-sock'}"
        self._conn: Any = None

    def outside(self, path: str) -> Path:
        """Where a path the peer sees (under /var/lib/libvirt) is, seen from here."""
        relative = Path(path).relative_to(_MOUNTS["lib"])
        return self.root / "lib" / relative

    @property
    def conn(self) -> Any:
        import libvirt

        if self._conn is None:
            self._conn = libvirt.open(self.uri)
        return self._conn

    def start(self) -> None:
        for name in _PRIVATE:
            (self.root / name).mkdir(parents=True, exist_ok=True)
        shutil.copytree("/etc/libvirt", self.root / "etc", dirs_exist_ok=True)
        with (self.root / "etc" / "libvirtd.conf").open("a") as conf:
            conf.write(f'\nhost_uuid = "{uuid.uuid4()}"\n')
        with (self.root / "etc" / "qemu.conf").open("a") as conf:
            conf.write(f'\nmigration_host = "{MIGRATION_HOST}"\n')
        mounts = " && ".join(
            f"mount --bind {self.root / name} {target}" for name, target in _MOUNTS.items()
        )
        daemons = (
            f"virtlogd -d -p {self.root / 'virtlogd.pid'} && "
            f"libvirtd -d -p {self.root / 'libvirtd.pid'}"
        )
        subprocess.run(
            ["unshare", "--mount", "--uts", "--propagation", "private", "sh", "-ec",
             f"hostname {HOSTNAME} && {mounts} && {daemons}"],
            check=True, timeout=60, stdin=subprocess.DEVNULL, capture_output=True,
            env=daemon_env(),
        )  # fmt: skip
        testkit.wait_for(self._answers, f"the peer libvirtd at {self.uri}", timeout=30)

    def _answers(self) -> bool:
        done = subprocess.run(
            ["virsh", "-c", self.uri, "hostname"], capture_output=True, text=True, timeout=30
        )
        return done.returncode == 0 and done.stdout.strip() == HOSTNAME

    def stop(self) -> None:
        """Destroy its guests and end its daemons; its private mounts go with them."""
        with contextlib.suppress(Exception):
            for dom in self.conn.listAllDomains(0):
                if dom.isActive():
                    dom.destroy()
            self.conn.close()
        self._conn = None
        for name in ("libvirtd", "virtlogd"):
            pidfile = self.root / f"{name}.pid"
            with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                testkit.wait_for(lambda p=pid: gone(p), f"the peer's {name} to end", timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
