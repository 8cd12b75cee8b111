"""The dnsmasq that serves the frontend's DHCP and TFTP (and, beside it, the boot
HTTP server of netboot/httpd.py for iPXE clients): write its files, check
them with dnsmasq itself, then start it, or reload it (SIGHUP re-reads the
fixed leases; PXE files are read as they are asked for), or restart it when
dnsmasq.conf changed. A dnsmasq that cairn did not start, a DHCP or TFTP port
held by another program, and a configuration dnsmasq refuses are each one
clear error, and leave a running cairn dnsmasq as it was.

The directory is cairn's own: one that does not exist yet is made (mode 0755,
as dnsmasq reads its files as nobody); an existing one may hold only what
cairn puts there (OWN: its files and tftp/, where the boot images go) and must
be readable by all already. cairn never changes an existing directory's mode,
and writes nothing when no network has DHCP to serve.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cairn.errors import CairnError
from cairn.netboot import httpd, ipxe
from cairn.netboot.config import LDLINUX, PXELINUX

DNSMASQ = "dnsmasq"
PORTS = {67: "DHCP", 69: "TFTP"}
OWN = frozenset(
    {"dnsmasq.conf", "dnsmasq.conf.check", "dnsmasq.conf.new", "dhcp-hosts", "dhcp-hosts.new"}
    | {"dnsmasq.pid", "dnsmasq.leases", "dnsmasq.log", "tftp"}
    | {httpd.PID, f"{httpd.PID}.new", httpd.LOG}
)
STOP_WAIT = 5.0
_PER_MAC = ("pxelinux.cfg", ipxe.SCRIPTS)  # directories of a file per MAC, under tftp/


@dataclass(frozen=True)
class Outcome:
    written: list[str]
    service: str  # what happened to dnsmasq
    http: str = "not started"  # what happened to the boot HTTP server (netboot/httpd.py)


def _binary() -> str:
    found = shutil.which(DNSMASQ) or next(
        (p for p in ("/usr/sbin/dnsmasq", "/sbin/dnsmasq") if os.path.exists(p)), None
    )
    if found is None:
        raise CairnError("dnsmasq is not installed: apt-get install dnsmasq-base (Debian)")
    return found


def check_directory(directory: Path) -> None:
    """Refuse a `directory` that is not cairn's to write in (see the module's docstring)."""
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise CairnError(
            f"dir={directory} is not a directory (or is a symbolic link): give a directory"
            " for cairn's files"
        )
    if not directory.exists():
        return
    others = sorted(e.name for e in directory.iterdir() if e.name not in OWN)
    if others:
        raise CairnError(
            f"dir={directory} holds files that are not cairn's ({', '.join(others[:3])}"
            f"{' ...' if len(others) > 3 else ''}): give a new or empty directory"
        )
    for sub in (directory, directory / "tftp", directory / "tftp" / "pxelinux.cfg"):
        if sub.is_dir() and sub.stat().st_mode & 0o005 != 0o005:
            raise CairnError(
                f"{sub} is mode {sub.stat().st_mode & 0o777:04o}, but dnsmasq reads it as nobody:"
                f" chmod o+rx {sub} (cairn does not change it), or give a new dir="
            )


def _make_dirs(directory: Path) -> None:
    """Make the directories that are missing, readable by dnsmasq; existing ones stay as
    they are."""
    for sub in (directory, directory / "tftp", *(directory / "tftp" / d for d in _PER_MAC)):
        if not sub.exists():
            sub.mkdir(parents=True)
            sub.chmod(0o755)  # dnsmasq reads as nobody, whatever the umask


def write(directory: Path, texts: dict[str, str]) -> list[str]:
    """Write the files that differ (atomically); the names written. PXE files of
    MACs no longer in the database are removed."""
    written = []
    for name, text in texts.items():
        path = directory / name
        if path.exists() and path.read_text() == text:
            continue
        tmp = path.with_name(path.name + ".new")
        tmp.write_text(text)
        tmp.chmod(0o644)
        tmp.replace(path)
        written.append(name)
    for loader in (PXELINUX, LDLINUX):
        target = directory / "tftp" / Path(loader).name
        if os.path.exists(loader) and not target.exists():
            shutil.copyfile(loader, target)
            target.chmod(0o644)
            written.append(f"tftp/{target.name}")
    for sub in _PER_MAC:
        for old in sorted((directory / "tftp" / sub).glob("01-*")):
            if f"tftp/{sub}/{old.name}" not in texts:
                old.unlink()
                written.append(f"tftp/{sub}/{old.name} (removed)")
    return written


def check(conf: Path, shown: Path | None = None) -> None:
    """Raise the error dnsmasq gives for `conf`, quoting the line it names."""
    done = subprocess.run(
        [_binary(), "--test", f"--conf-file={conf}"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        why = " ".join(done.stderr.replace(str(conf), str(shown or conf)).split()) or "no message"
        found = re.search(r"at line (\d+)", why)
        lines = conf.read_text().splitlines()
        if found and 0 < int(found.group(1)) <= len(lines):
            why += f" ({lines[int(found.group(1)) - 1][:80]!r})"
        raise CairnError(f"dnsmasq refuses the configuration {shown or conf}: {why}")


def _pid(directory: Path) -> int | None:
    """The pid of the cairn dnsmasq of this directory, if it runs."""
    try:
        pid = int((directory / "dnsmasq.pid").read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_dnsmasq(pid) else None


def _is_dnsmasq(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == DNSMASQ
    except OSError:
        return False


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _stray(conf: Path, ours: int | None) -> int | None:
    """A dnsmasq running this configuration that cairn's pid file does not name."""
    for entry in Path("/proc").iterdir():
        pid = int(entry.name) if entry.name.isdigit() else None
        if pid is not None and pid != ours and _is_dnsmasq(pid):  # noqa: SIM102
            if any(str(conf) in word for word in _cmdline(pid)):
                return pid
    return None


def port_holder(port: int) -> str | None:
    """Who holds UDP `port` in this network namespace: 'NAME (pid N)', or 'a
    process' when its owner cannot be seen; None when it is free."""
    inodes = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    link = os.readlink(fd)
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        name = (proc / "comm").read_text().strip()
                        return f"{name} (pid {proc.name})"
    return "a process"


def apply(
    directory: Path, texts: dict[str, str], *, serve: bool, http: list[str] | None = None
) -> Outcome:
    """Write the files and (re)start dnsmasq, and the boot HTTP server on the
    frontend's addresses `http` (stopped when there are none)."""
    conf = directory / "dnsmasq.conf"
    before = conf.read_text() if conf.exists() else None
    ours = _pid(directory)
    stray = _stray(conf, ours)
    if stray is not None:
        raise CairnError(
            f"a dnsmasq that cairn did not start already runs {conf} (pid {stray}): stop it,"
            " then run cairn sync config again"
        )
    if not serve:  # nothing to serve: nothing is written
        web = httpd.stop(directory) or "not started"
        if ours is not None:
            _stop(ours)
            return Outcome([], f"stopped (pid {ours}): no network has dhcp=yes", web)
        return Outcome([], "not started: no network has dhcp=yes", web)
    check_directory(directory)
    _make_dirs(directory)
    staged = directory / "dnsmasq.conf.check"
    staged.write_text(texts["dnsmasq.conf"])
    try:
        check(staged, conf)
    finally:
        staged.unlink(missing_ok=True)
    web = _serve_http(directory, http or [])
    written = write(directory, texts)
    if ours is not None and before == texts["dnsmasq.conf"]:
        os.kill(ours, signal.SIGHUP)
        return Outcome(written, f"reloaded (pid {ours})", web)
    if ours is not None:
        _stop(ours)
    pid = _start(conf, directory)
    return Outcome(written, f"{'restarted' if ours else 'started'} (pid {pid})", web)


def _serve_http(directory: Path, addresses: list[str]) -> str:
    """The boot HTTP server on `addresses`, before any file changes (a port held by
    another program is refused with nothing written)."""
    if not addresses:
        return httpd.stop(directory) or "not started: the frontend has no address to serve from"
    try:
        return httpd.ensure(directory, addresses, ipxe.PORT)
    except RuntimeError as exc:
        raise CairnError(
            f"the boot HTTP server (iPXE) cannot start: {exc}; stop what holds port {ipxe.PORT}"
            " on the frontend"
        ) from exc


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    while _is_dnsmasq(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _is_dnsmasq(pid):
        raise CairnError(f"the cairn dnsmasq (pid {pid}) did not stop within {STOP_WAIT:.0f} s")


def _start(conf: Path, directory: Path) -> int:
    for port, what in PORTS.items():
        holder = port_holder(port)
        if holder is not None:
            raise CairnError(
                f"port {port} ({what}) is in use by {holder}: another {what} server runs here;"
                " stop it, or serve from another host or network namespace"
            )
    log = directory / "dnsmasq.log"
    done = subprocess.run(
        [_binary(), f"--conf-file={conf}", f"--log-facility={log}"],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        why = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        if "in use" in why:
            raise CairnError(f"dnsmasq cannot take its ports: {why}; stop what holds them")
        raise CairnError(f"dnsmasq did not start: {why}")
    pid = _pid(directory)
    if pid is None:
        raise CairnError(f"dnsmasq started but wrote no pid to {directory / 'dnsmasq.pid'}")
    return pid
