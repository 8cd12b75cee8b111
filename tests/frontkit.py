"""Two frontends on one PostgreSQL database, on the testbed (tests/testbed.py):
what tests/system/test_system_twofront.py and benchmarks share.

- The database: a new PostgreSQL database of the machine's server. The spaces
  have their own network and /run, so neither 127.0.0.1:5432 nor
  /run/postgresql is theirs; a relay (socat, a process of the machine) listens
  on a Unix socket under the testbed's directory, which every space sees, and
  forwards to the server. cairn reaches it at postgresql://...@/DB?host=DIR.
- Frontend one is the testbed's frontend space, with a configuration file of
  its own (so its cairn service is not the one of the testbed's SQLite
  database); frontend two is a new space, `testbed-frontend-2`, on the private
  network (a veth into the frontend's bridge). What it is given is what a
  second frontend needs: the database URL, the CA's directory
  (CAIRN_CA_DIR), the libvirt client certificate and key with the CA's
  certificate (/etc/pki), the plugins and /etc/hosts.
- `Front` is a Testbed whose cairn runs in one frontend's space with that
  database: `front.cairn(...)`, `front.cairn_batch(...)`.
- `Resident`: a long-running `cairn watch` (the frontend's service, for good)
  in a frontend's space, its log in a file, killed by its own pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import testbed as tb

SECOND = "testbed-frontend-2"
SECOND_IP = "198.18.0.2"
SOCKET = ".s.PGSQL.5432"  # the name libpq looks for in host=DIR
PKI = ("CA/cacert.pem", "libvirt/clientcert.pem", "libvirt/private/clientkey.pem")


@dataclass
class Front(tb.Testbed):
    url: str = ""
    config: str = ""

    @property
    def env(self) -> dict[str, str]:
        return {**tb.cairn_env(self.root), "CAIRN_DB_URL": self.url, "CAIRN_CONFIG": self.config}


def relay(root: Path, admin_url: str) -> tuple[subprocess.Popen[bytes], Path]:
    """socat from a Unix socket under `root` to the server of `admin_url`: (it, its dir)."""
    target = urllib.parse.urlsplit(admin_url)
    where = root / "pg"
    where.mkdir(exist_ok=True)
    where.chmod(0o755)
    (where / SOCKET).unlink(missing_ok=True)
    proc = subprocess.Popen(
        ["socat", f"UNIX-LISTEN:{where / SOCKET},fork,mode=666",
         f"TCP:{target.hostname or '127.0.0.1'}:{target.port or 5432}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    tb._wait(lambda: (where / SOCKET).exists(), "the PostgreSQL relay's socket")
    return proc, where


def space_url(admin_url: str, database: str, socket_dir: Path) -> str:
    """The URL of `database` through the relay (user and password of `admin_url`)."""
    u = urllib.parse.urlsplit(admin_url)
    user = f"{u.username}:{u.password}" if u.password else (u.username or "")
    query = urllib.parse.urlencode({"host": str(socket_dir)})
    return f"postgresql://{user}@/{database}?{query}"


def configure(root: Path, name: str, url: str) -> str:
    """A configuration file (under the testbed's directory) naming the database."""
    path = root / "twofront" / f"{name}.toml"
    path.parent.mkdir(exist_ok=True)
    path.parent.chmod(0o755)
    path.write_text(f'db_url = "{url}"\n')
    path.chmod(0o644)
    return str(path)


def second_frontend(bed: tb.Testbed) -> tb.Space:
    """testbed-frontend-2: a space on the private network with the frontend's keys."""
    space = tb.new_space(bed.root, SECOND)
    tb._private(space, bed.root / SECOND, libvirt=False)
    veth = "vf2"
    subprocess.run(
        ["nsenter", "-t", str(bed.frontend.pid), "--net", "--",
         "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
         "netns", str(space.pid)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    bed.frontend.run("ip", "link", "set", veth, "master", tb.BRIDGE, "up")
    space.run(
        "ip", "-batch", "-",
        input=f"link set lo up\nlink set eth0 up\n"
        f"addr add {SECOND_IP}/{tb.NETWORK.prefixlen} dev eth0\n",
    )  # fmt: skip
    shutil.copyfile(bed.frontend.path("/etc/hosts"), space.path("/etc/hosts"))
    for name in PKI:
        source, dest = bed.frontend.path(f"/etc/pki/{name}"), space.path(f"/etc/pki/{name}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
    return space


def end_space(space: tb.Space) -> None:
    """SIGKILL its holder: every process of the space ends, and its network with it."""
    try:
        os.kill(space.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    tb._wait(lambda: not space.alive(), f"{space.name} to end")


class Resident:
    """`cairn watch refresh=1` in a frontend's space: that frontend's service."""

    def __init__(self, front: Front, log: Path) -> None:
        self.front, self.log = front, log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                front.frontend.argv(
                    "env", *(f"{k}={v}" for k, v in front.env.items()),
                    tb.CAIRN, "watch", "refresh=1",
                ),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def count(self, fragment: str) -> int:
        return self.text().count(fragment)

    def wait_line(self, fragment: str, times: int = 1, timeout: float = 120) -> None:
        def seen() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"cairn watch exited ({self.proc.returncode}):\n{self.text()}")
            return self.count(fragment) >= times

        tb._wait(seen, f"{fragment!r} x{times} in {self.log}:\n{self.text()[-3000:]}", timeout)

    def service_pid(self) -> int:
        """The cairn process itself (under nsenter and env), as this machine sees it."""
        pid = self.proc.pid
        while Path(f"/proc/{pid}/comm").read_text().strip() in ("nsenter", "env"):
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            if not children:
                break
            pid = int(children[0])
        return pid

    def kill(self) -> None:
        """SIGKILL to the service: no clean stop, no goodbye to the database."""
        os.kill(self.service_pid(), signal.SIGKILL)
        self.proc.wait(timeout=30)

    def end(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(self.service_pid(), signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def answered(front: Front, words: list[str], seconds: float) -> tuple[int, int]:
    """(answered, failed): `cairn WORDS` run one after another on `front` for `seconds`."""
    ok = failed = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        done = front.cairn(*words, check=False, timeout=60)
        if done.returncode == 0:
            ok += 1
        else:
            failed += 1
    return ok, failed
