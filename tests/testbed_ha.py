"""The testbed (tests/testbed.py) made ready for kvm_ha: shared storage and a BMC.

- Shared storage: `<testbed>/shared` is mounted at SHARED on every container,
  one directory for all of them, as NFS would be; the frontend's config file
  names it in vm_storage_dirs and vm_shared_dirs, so VMs with their disks
  there may be marked kvm_ha.
- A BMC: the frontend, where cairn's watcher runs, sees none of the containers'
  processes (each space has its own PID namespace), as a frontend cannot touch
  a dead node but through its BMC. So a small server runs outside every
  namespace on `<testbed>/bmc.sock`: "off NAME" kills every process of that
  container but its holder (libvirtd, virtlogd, QEMU: its guests stop as at a
  power cut) and answers "off" once none is left; "status NAME" answers "on"
  or "off". The holder and the namespaces stay: `Testbed.apply_profile`
  powers the container on again. examples/testbed/watch/plugin_fence.py asks it.

The server's command line names the testbed (testbed.MARK, its directory), so
`testbed.down` ends it with the rest. Only the standard library is used.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import testbed as tb

SHARED = "/var/lib/libvirt/shared"
_CONFIG = (
    "\n# kvm_ha (tests/testbed_ha.py): <testbed>/shared is on every container\n"
    'vm_storage_dirs = ["/var/lib/libvirt/images", "/var/lib/libvirt/qemu/save",'
    f' "/state/partition1", "{SHARED}"]\n'
    f'vm_shared_dirs = ["{SHARED}"]\n'
)
FENCE_EXAMPLE = tb.REPO / "examples" / "testbed" / "watch" / "plugin_fence.py"


def ready(bed: tb.Testbed) -> None:
    """Shared storage on every container and in the frontend's config, and the BMC
    serving; what is there already is kept (a testbed made earlier gets the rest)."""
    shared = bed.root / "shared"
    shared.mkdir(exist_ok=True)
    shared.chmod(0o755)
    for space in bed.containers:
        if space.run("mountpoint", "-q", SHARED, check=False).returncode != 0:
            space.sh(f"mkdir -p {SHARED} && mount --bind {shared} {SHARED}")
    conf = bed.frontend.path("/etc/cairn/cairn.toml")
    if "vm_shared_dirs" not in conf.read_text():
        with conf.open("a") as fh:
            fh.write(_CONFIG)
    if ask(bed.root, "ping") != "pong":
        log = (bed.root / "bmc.log").open("ab")
        subprocess.Popen(
            [sys.executable, __file__, tb.MARK, str(bed.root), "bmc"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        tb._wait(lambda: ask(bed.root, "ping") == "pong", "the testbed's BMC to answer")


def install_fence(bed: tb.Testbed) -> Path:
    """The testbed's fence example as the frontend's watch/plugin_fence.py
    (`Testbed.forget_plugins` removes it)."""
    where = bed.root / "plugins" / "watch"
    where.mkdir(parents=True, exist_ok=True)
    where.chmod(0o755)
    path = where / "plugin_fence.py"
    path.write_text(FENCE_EXAMPLE.read_text())
    path.chmod(0o644)
    return path


def ask(root: Path, line: str, timeout: float = 60) -> str:
    """The BMC's answer to one line ('' when it does not answer)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        try:
            conn.connect(str(root / "bmc.sock"))
            conn.sendall(f"{line}\n".encode())
            return conn.makefile().readline().strip()
        except OSError:
            return ""


# --- the BMC itself ------------------------------------------------------------------------


def _inside(space: tb.Space) -> list[int]:
    """The live processes of a space but its holder, as this machine numbers them."""
    ns = os.readlink(f"/proc/{space.pid}/ns/pid")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == space.pid:
            continue
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{entry.name}/ns/pid") == ns and not tb._gone(int(entry.name)):
                found.append(int(entry.name))
    return found


def _answer(root: Path, words: list[str]) -> str:
    if words == ["ping"]:
        return "pong"
    if len(words) != 2 or words[0] not in ("off", "status"):
        return "error: say 'off NAME' or 'status NAME'"
    try:
        space = tb.Testbed.attach(root).container(words[1])
    except (tb.TestbedError, KeyError) as exc:
        return f"error: {exc}"
    if words[0] == "off":
        for pid in _inside(space):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            tb._wait(lambda: not _inside(space), f"{space.name} to be off", timeout=30)
        except tb.TestbedError as exc:
            return f"error: {exc}"
    return "on" if _inside(space) else "off"


def _serve(root: Path) -> None:
    path = root / "bmc.sock"
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    path.chmod(0o600)
    server.listen(8)
    while True:
        conn, _ = server.accept()
        with conn:
            words = conn.makefile().readline().split()
            answer = _answer(root, words)
            print(f"bmc: {' '.join(words)} -> {answer}", flush=True)
            conn.sendall(f"{answer}\n".encode())


if __name__ == "__main__":
    _serve(Path(sys.argv[2]))  # argv: MARK, the testbed's directory, "bmc"
