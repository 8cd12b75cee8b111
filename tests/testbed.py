"""A cluster on one machine: a frontend and N VM containers, each in namespaces of its own.

`scripts/testbed.sh up [N]` / `down` run this module; system tests and benchmarks
import it (`Testbed.up`, `Testbed.attach`, `down`). Only the standard library is
used, so that it runs before cairn is importable.

Each part is a "space": a holder process that is PID 1 of a new PID namespace
and lives in new network, mount, UTS and IPC namespaces. Everything the part
runs (libvirtd, virtlogd, QEMU, cairn, ping) is entered into them with
`nsenter`, so `pgrep`/`pkill` in a container's profile see only its own
daemons. Ending the holder (SIGKILL from here) ends every process of the space,
and with the last of them go its mounts, its network namespace and so its
veths and bridges: nothing of the machine's own is touched.

- The frontend (host name `testbed-frontend`) holds the bridge `cairn0` of the
  private network and one veth per container; cairn runs there, with its
  database, CA and plugins under the testbed's directory.
- A container `vm-container-0-N` sees its own /etc (an overlay over the
  machine's: its /etc/hosts, /etc/pki, /etc/hostname), its own /etc/libvirt (a
  copy of the machine's configuration files, no domains), /run (tmpfs),
  /var/lib/libvirt, /var/log/libvirt (its libvirtd's log, warnings and errors,
  is libvirtd.log there) and /var/cache/libvirt. Its veth `eth0`
  is a port of its own bridge `cairn0`, which carries its address and its
  guests' NICs.
- Addresses (the private network 198.18.0.0/16; tests make isolated networks
  in 198.19.0.0/16) and names come from the cairn database
  (`add host interface`, `report host` for /etc/hosts); each container is then
  made by applying `cairn report host profile vm-container-0-N` inside it
  (CA-signed certificates, libvirtd listening for TLS), and the frontend reaches
  it at qemu+tls://vm-container-0-N/system, certificates verified.

What `up` made is found again by `down` from the holders' command lines (they
name the testbed's directory), so a killed test or a half-made `up` is cleaned
up too.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("CAIRN_TESTBED_DIR") or "/var/lib/cairn-testbed")
GUEST_CACHE = Path(os.environ.get("CAIRN_GUEST_DIR") or "/var/cache/cairn-guest")
CAIRN = str(REPO / ".venv" / "bin" / "cairn")
PYTHON = str(REPO / ".venv" / "bin" / "python")

FRONTEND = "testbed-frontend"
BRIDGE = "cairn0"
NETWORK = ipaddress.ip_network("198.18.0.0/16")  # 198.19.0.0/16: for isolated networks
FRONTEND_IP = "198.18.0.1"
GUEST_NET = "198.18.1."  # guests' addresses: 198.18.1.1 ...
MARK = "cairn-testbed-holder"
# The guest runs on TCG (10-30 s to boot). Where /dev/kvm comes from kvm_pvm
# (these machines: no vmx/svm in /proc/cpuinfo, /sys/module/kvm_pvm), KVM runs a
# guest kernel's privileged code only if it is built for PVM; Debian's is not, and
# each of its instructions is emulated: with `qemu-system-x86_64 -accel kvm` it
# had not left its decompressor after 300 s (stuck in a `rep movsq`; TCG: at
# userspace in ~10 s). Firmware alone (SeaBIOS) is fast enough, so the VMs that
# boot nothing stay on KVM. CAIRN_TESTBED_DOMAIN_TYPE=kvm where KVM is real
# hardware virtualization.
DOMAIN_TYPE = os.environ.get("CAIRN_TESTBED_DOMAIN_TYPE") or "qemu"
DEADLINE = 60.0

# PID 1 of a space: reaps whatever ends up its child, and nothing else.
_HOLDER = """
import os, sys, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
"""
_NSENTER = ("--net", "--mount", "--uts", "--ipc", "--pid")
_LIBVIRT_SKIP = ("qemu", "storage", "secrets", "lxc", "libxl", "ch")  # domains, pools
# Each container's libvirtd keeps its own log (warnings and errors; info would be
# mostly libvirt's object traces), read by tests/bedlog.py after a failed test.
LIBVIRTD_LOG = "/var/log/libvirt/libvirtd.log"
_LOG_CONF = ("log_outputs", "log_filters", "log_level")  # the machine's own are not copied
# libvirtd takes these over its libvirtd.conf, and a test process has them from
# cairn.hypervisor (LIBVIRT_LOG_OUTPUTS: its client library logs nowhere), so the
# daemons a space starts are not given them, or they would log nowhere too.
_LIBVIRT_LOG_ENV = ("LIBVIRT_LOG_OUTPUTS", "LIBVIRT_LOG_FILTERS", "LIBVIRT_DEBUG")


def daemon_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """`env` (this process's by default) for a daemon a test starts: without
    libvirt's logging variables, so a libvirtd logs as its libvirtd.conf says."""
    given = dict(os.environ) if env is None else env
    return {k: v for k, v in given.items() if k not in _LIBVIRT_LOG_ENV}


class TestbedError(RuntimeError):
    """Something the testbed cannot do; its text is one line that says what to fix."""


def container_name(rank: int) -> str:
    return f"vm-container-0-{rank}"


def container_ip(rank: int) -> str:
    return str(NETWORK.network_address + 10 + rank)


# --- spaces ----------------------------------------------------------------------------


@dataclass
class Space:
    """One holder process: its outside pid, and how to run things inside it."""

    name: str
    pid: int  # PID 1 of its PID namespace, as this machine sees it
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, *words: str) -> list[str]:
        return ["nsenter", "-t", str(self.pid), *_NSENTER, "--", *words]

    def run(
        self,
        *words: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = 120,
        daemons: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """`words` inside the space; `daemons`: they start daemons (libvirtd),
        which log as the space's configuration says, whatever this process's
        environment says about libvirt's logging."""
        env = {**os.environ, **self.env}
        if daemons:
            env = daemon_env(env)
        done = subprocess.run(
            self.argv(*words),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            why = said[-1] if said else f"exit {done.returncode}"
            raise TestbedError(f"{self.name}: {' '.join(words)[:80]} failed: {why}")
        return done

    def sh(self, script: str, timeout: float = 120) -> str:
        return self.run("sh", "-ec", script, timeout=timeout).stdout

    def path(self, inside: str) -> Path:
        """A path as the space sees it (its mounts), reached from outside."""
        return Path(f"/proc/{self.pid}/root") / inside.lstrip("/")

    def alive(self) -> bool:
        return _is_holder(self.pid)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")


def _is_holder(pid: int, root: Path | None = None) -> bool:
    words = _cmdline(pid)
    if MARK not in words:
        return False
    at = words.index(MARK)
    return root is None or words[at + 1 : at + 2] == [str(root)]


def holders(root: Path) -> dict[str, list[int]]:
    """{space name: pids} of every holder (and its unshare parent) of the testbed at root."""
    found: dict[str, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        words = _cmdline(int(entry.name))
        if MARK in words and words[words.index(MARK) + 1 : words.index(MARK) + 2] == [str(root)]:
            name = words[words.index(MARK) + 2] if len(words) > words.index(MARK) + 2 else "?"
            found.setdefault(name, []).append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] in ("Z", "X")


def _wait(condition: object, what: str, timeout: float = DEADLINE, every: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while True:
        if condition():  # type: ignore[operator]
            return
        if time.monotonic() > end:
            raise TestbedError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def new_space(root: Path, name: str) -> Space:
    """A holder in new namespaces; returns once it runs as PID 1 in them."""
    proc = subprocess.Popen(
        ["unshare", *_NSENTER, "--fork", "--mount-proc", "--propagation", "private",
         sys.executable, "-c", _HOLDER, MARK, str(root), name],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    found: list[int] = []

    def started() -> bool:
        if proc.poll() is not None:
            raise TestbedError(f"unshare for {name} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            found[:] = [int(p) for p in children.read_text().split()]
        return bool(found) and _is_holder(found[0], root)

    _wait(started, f"the namespaces of {name}", timeout=30)
    return Space(name, found[0])


# --- the testbed ---------------------------------------------------------------------


@dataclass
class Testbed:
    root: Path
    frontend: Space
    containers: list[Space]

    # --- cairn on the frontend --------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        return cairn_env(self.root)

    def cairn(
        self, *words: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        """`cairn WORDS...` on the frontend (its network, its /etc, the testbed's database)."""
        done = subprocess.run(
            self.frontend.argv("env", *(f"{k}={v}" for k, v in self.env.items()), CAIRN, *words),
            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise TestbedError(
                f"cairn {' '.join(words)}: {done.stderr.strip() or done.stdout.strip()}"
            )
        return done

    def cairn_batch(self, argvs: Sequence[Sequence[str]], timeout: float = 600) -> None:
        """Many cairn commands in one process on the frontend (each alone costs the
        start-up of cairn); TestbedError naming the first that failed."""
        code = (
            "import json, sys\n"
            "from cairn.cli.main import main\n"
            "for words in json.load(sys.stdin):\n"
            "    if main(words) != 0:\n"
            "        sys.exit('failed: cairn ' + ' '.join(words))\n"
        )
        done = subprocess.run(
            self.frontend.argv(
                "env", *(f"{k}={v}" for k, v in self.env.items()), PYTHON, "-c", code
            ),
            input=json.dumps([list(a) for a in argvs]), capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        if done.returncode != 0:
            said = done.stderr.strip().splitlines()
            raise TestbedError(" / ".join(said[-2:]) if said else f"exit {done.returncode}")

    def on_frontend(self, *words: str, **kw: object) -> subprocess.CompletedProcess[str]:
        """Any program on the frontend side, with cairn's environment."""
        return self.frontend.run("env", *(f"{k}={v}" for k, v in self.env.items()), *words, **kw)  # type: ignore[arg-type]

    def container(self, name: str) -> Space:
        for space in self.containers:
            if space.name == name:
                return space
        raise KeyError(name)

    def uri(self, name: str) -> str:
        return f"qemu+tls://{name}/system"

    def libvirtd_pid(self, name: str) -> int | None:
        """The container's libvirtd, as this machine sees its pid."""
        space = self.container(name)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if Path(f"/proc/{entry.name}/comm").read_text().strip() != "libvirtd":
                    continue
                if os.readlink(f"/proc/{entry.name}/ns/pid") != os.readlink(
                    f"/proc/{space.pid}/ns/pid"
                ):
                    continue
            except OSError:
                continue
            if not _gone(int(entry.name)):
                return int(entry.name)
        return None

    def libvirtd_log(self, name: str) -> Path:
        """A container's libvirtd log, seen from here."""
        return self.container(name).path(LIBVIRTD_LOG)

    def start_libvirtd(self, name: str, *, tls: bool = True) -> None:
        """Start a container's libvirtd again (after it was killed), listening for TLS;
        returns once it answers on its socket and (with `tls`) to the frontend."""
        space = self.container(name)
        space.run("libvirtd", "-d", "--listen", daemons=True)
        _wait(
            lambda: space.run("virsh", "version", check=False, timeout=30).returncode == 0,
            f"libvirtd of {name} to answer",
        )
        if tls:
            _wait(lambda: self.answers(name), f"libvirtd of {name} to answer over TLS")

    def restart_libvirtd(self, name: str, *, tls: bool = True) -> None:
        pid = self.libvirtd_pid(name)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            _wait(lambda: _gone(pid), f"libvirtd of {name} to end")
        self.start_libvirtd(name, tls=tls)

    def plugin(self, verb: str, hook: str, code: str) -> None:
        """Install a start/stop plugin on the frontend (`forget_plugins` removes it)."""
        where = self.root / "plugins" / verb / "host" / "vm"
        where.mkdir(parents=True, exist_ok=True)
        for d in [self.root / "plugins", *(self.root / "plugins").rglob("*")]:
            if d.is_dir():
                d.chmod(0o755)
        (where / f"plugin_{hook}.py").write_text(code)
        (where / f"plugin_{hook}.py").chmod(0o644)

    def forget_plugins(self) -> None:
        """Every plugin but the testbed's own preboot."""
        for path in (self.root / "plugins").rglob("plugin_*.py"):
            if path.name != "plugin_preboot.py":
                path.unlink()

    def console(self, container: str, vm: str) -> Path:
        """A testbed guest's serial console file on a container, seen from here."""
        return self.root / container / "lib" / "images" / f"{vm}.console"

    def disk(self, container: str, vm: str, device: str = "vda") -> Path:
        return self.root / container / "lib" / "images" / f"{vm}.{device}"

    def forget_vms(self, pattern: str) -> None:
        """Destroy every domain on every container, then remove the VMs named by
        `pattern` (a cairn HOST word) from the database: a clean slate between tests."""
        for space in self.containers:
            if self.libvirtd_pid(space.name) is None:
                self.start_libvirtd(space.name)
            space.sh(
                "for d in $(virsh -q list --all --name); do"
                ' virsh -q destroy "$d" >/dev/null 2>&1 || true;'
                ' virsh -q undefine --managed-save "$d" >/dev/null 2>&1 || true; done;'
                " rm -f /var/lib/libvirt/images/*"
            )
        self.cairn("remove", "host", pattern, check=False)

    def answers(self, name: str) -> bool:
        done = self.on_frontend("virsh", "-c", self.uri(name), "hostname", check=False, timeout=30)
        return done.returncode == 0 and done.stdout.strip() == name

    # --- bringing it up -----------------------------------------------------------------

    @classmethod
    def attach(cls, root: Path = ROOT) -> Testbed:
        """The testbed that runs at root (TestbedError if none, or only part of one)."""
        try:
            state = json.loads((root / "state.json").read_text())
        except (OSError, ValueError):
            raise TestbedError(f"no testbed at {root}: run scripts/testbed.sh up") from None
        front = Space(FRONTEND, state["frontend"])
        spaces = [Space(n, p) for n, p in state["containers"]]
        for space in [front, *spaces]:
            if not _is_holder(space.pid, root):
                raise TestbedError(
                    f"the testbed at {root} lost {space.name}: run scripts/testbed.sh down, then up"
                )
        return cls(root, front, spaces)

    @classmethod
    def up(cls, count: int = 4, root: Path = ROOT) -> tuple[Testbed, bool]:
        """(the testbed, whether it was made now). One already up with `count`
        containers is reused; with another count it is refused."""
        if holders(root):
            bed = cls.attach(root)
            if len(bed.containers) != count:
                raise TestbedError(
                    f"a testbed with {len(bed.containers)} containers is up at {root}:"
                    " run scripts/testbed.sh down first"
                )
            return bed, False
        missing = prerequisites()
        if missing:
            raise TestbedError(f"cannot start the testbed: {missing}")
        guest_dir = guest()
        try:
            return cls._make(count, root, guest_dir), True
        except BaseException:
            down(root)
            raise

    @classmethod
    def _make(cls, count: int, root: Path, guest_dir: Path) -> Testbed:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True, mode=0o755)
        root.chmod(0o755)
        front = new_space(root, FRONTEND)
        _private(front, root / "frontend", libvirt=False)
        spaces = [new_space(root, container_name(i)) for i in range(count)]
        (root / "state.json").write_text(
            json.dumps({"frontend": front.pid, "containers": [[s.name, s.pid] for s in spaces]})
        )
        bed = cls(root, front, spaces)
        _config_file(root, front)
        _plugins(root, guest_dir)
        bed._inventory(count)
        hosts = bed.cairn("report", "host").stdout
        for space in [front, *spaces]:
            if space is not front:
                _private(space, root / space.name, libvirt=True)
            space.path("/etc/hosts").write_text(hosts)
        bed._network()
        bed._apply_profiles()
        _write_tools(root)
        return bed

    def _inventory(self, count: int) -> None:
        words = [
            ["set", "network", "private", f"subnet={NETWORK}", f"bridge={BRIDGE}"],
            ["add", "host", "interface", FRONTEND, "eth0", f"ip={FRONTEND_IP}", "subnet=private"],
            ["set", "attr", "kvm_connection", "qemu+tls://{host}/system"],
            # Nested KVM cannot run host-passthrough guests (see ENVIRONMENT.md).
            ["remove", "attr", "cpu_mode"],
        ]
        for i in range(count):
            name = container_name(i)
            words += [
                ["add", "host", name, "appliance=vm-container", "rack=0", f"rank={i}", "cpus=2"],
                [
                    "add",
                    "host",
                    "interface",
                    name,
                    "eth0",
                    f"ip={container_ip(i)}",
                    "subnet=private",
                ],
            ]
        self.cairn_batch(words)

    def _addresses(self) -> dict[str, str]:
        rows = json.loads(self.cairn("list", "host", "interface", "output-format=json").stdout)
        return {r["host"]: r["ip"] for r in rows if r.get("ip") and r.get("iface") == "eth0"}

    def _network(self) -> None:
        prefix = NETWORK.prefixlen
        ips = self._addresses()
        self.frontend.run(
            "ip", "-batch", "-",
            input="link set lo up\n"
            f"link add {BRIDGE} type bridge forward_delay 0\n"
            f"addr add {ips[FRONTEND]}/{prefix} dev {BRIDGE}\n"
            f"link set {BRIDGE} up\n",
        )  # fmt: skip
        for i, space in enumerate(self.containers):
            veth = f"vc{i}"
            # Only the network namespace: `netns PID` is a pid as this machine sees it.
            subprocess.run(
                ["nsenter", "-t", str(self.frontend.pid), "--net", "--",
                 "ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                 "netns", str(space.pid)],
                check=True, capture_output=True, timeout=30,
            )  # fmt: skip
            self.frontend.run("ip", "link", "set", veth, "master", BRIDGE, "up")
            space.run(
                "ip", "-batch", "-",
                input="link set lo up\n"
                f"link add {BRIDGE} type bridge forward_delay 0\n"
                f"link set eth0 master {BRIDGE} up\n"
                f"addr add {ips[space.name]}/{prefix} dev {BRIDGE}\n"
                f"link set {BRIDGE} up\n",
            )  # fmt: skip

    def _apply_profiles(self) -> None:
        # The CA, the containers' server and the frontend's client certificates
        # first: a report only reads them.
        self.cairn("create", "keys", FRONTEND, *(s.name for s in self.containers))
        front = self.cairn("report", "host", "profile", FRONTEND).stdout
        self.frontend.run("sh", "-s", input=front)

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(self.containers)) as pool:
            for future in [pool.submit(self.apply_profile, s) for s in self.containers]:
                future.result()

    def apply_profile(self, space: Space) -> None:
        """Make `space` a container as its profile says (its daemons started: also how a
        container switched off by the testbed's BMC, tests/testbed_ha.py, comes back)."""
        script = self.cairn("report", "host", "profile", space.name).stdout
        space.run("sh", "-s", input=script, timeout=180, daemons=True)
        _wait(lambda: self.answers(space.name), f"{space.name} to answer over TLS")


def cairn_env(root: Path) -> dict[str, str]:
    return {
        "CAIRN_DB_URL": f"sqlite:///{root / 'cairn.db'}",
        "CAIRN_CA_DIR": str(root / "ca"),
        "CAIRN_PLUGIN_PATH": str(root / "plugins"),
        "CAIRN_CONFIG": "/etc/cairn/cairn.toml",  # the frontend's own (its /etc is private)
    }


def _private(space: Space, home: Path, *, libvirt: bool) -> None:
    """The space's own /etc (overlay), /run, host name and, for containers, libvirt's dirs."""
    for sub in ("etc-upper", "etc-work", "libvirt-etc", "lib", "log", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    script = [
        f"mount -t overlay overlay -o lowerdir=/etc,upperdir={home}/etc-upper,"
        f"workdir={home}/etc-work /etc",
        "mount -t tmpfs -o mode=755 tmpfs /run",
        "mkdir -m 1777 /run/lock",  # /var/lock: where libvirtd locks a console's pty
        f"hostname {space.name}",
        f"echo {space.name} >/etc/hostname",
    ]
    if libvirt:
        etc = home / "libvirt-etc"
        shutil.copytree(
            "/etc/libvirt", etc, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_LIBVIRT_SKIP)
        )
        conf = etc / "libvirtd.conf"
        kept = [
            line
            for line in (conf.read_text().splitlines() if conf.exists() else [])
            if line.split("=", 1)[0].strip() not in _LOG_CONF
        ]
        ours = ["", "# cairn testbed", f'host_uuid = "{uuid.uuid4()}"']
        ours.append(f'log_outputs = "3:file:{LIBVIRTD_LOG}"')
        conf.write_text("\n".join([*kept, *ours, ""]))
        script += [
            f"mount --bind {etc} /etc/libvirt",
            f"mount --bind {home}/lib /var/lib/libvirt",
            f"mount --bind {home}/log /var/log/libvirt",
            f"mount --bind {home}/cache /var/cache/libvirt",
        ]
    space.sh(" && ".join(script))


def _config_file(root: Path, front: Space) -> None:
    conf = front.path("/etc/cairn/cairn.toml")
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(f'db_url = "sqlite:///{root / "cairn.db"}"\n')


_PREBOOT = '''"""The testbed's guest: boot the small kernel and initramfs of scripts/guest.sh.

Made by tests/testbed.py. VMs with an IP address boot the small guest; the
others boot nothing and halt. The kernel command line gives the guest the address of its
first interface in the database; its serial console is logged to a file next to its
disks (/var/lib/libvirt/images/NAME.console on its container). A VM given a
boot (cairn set host boot) is left to boot as cairn made it, from the network
first; the firmware's screen goes to that file too.
"""

from lxml import etree

KERNEL = {kernel!r}
INITRD = {initrd!r}
PREFIX = {prefix!r}
DOMAIN_TYPE = {domain_type!r}


def run(*, session, vm, xml, **_):
    ips = [i.ip for i in sorted(vm.host.interfaces, key=lambda i: i.name) if i.ip]
    tree = etree.fromstring(xml.encode())
    os_ = tree.find("os")
    if vm.host.boot:
        tree.set("type", DOMAIN_TYPE)
        for old in os_.findall("bios"):
            os_.remove(old)
        # No reboot after a failed boot: an `os` VM with an empty disk halts.
        etree.SubElement(os_, "bios", useserial="yes", rebootTimeout="-1")
        _serial(tree, vm)
        return etree.tostring(tree).decode()
    for tag in ("boot", "kernel", "initrd", "cmdline", "bios"):
        for old in os_.findall(tag):
            os_.remove(old)
    if not ips:
        # No address, no guest: the firmware finds its empty disk unbootable and
        # halts (no network boot, no reboot), which costs no CPU, so that many fit.
        etree.SubElement(os_, "boot", dev="hd")
        etree.SubElement(os_, "bios", rebootTimeout="-1")
        return etree.tostring(tree).decode()
    tree.set("type", DOMAIN_TYPE)
    words = ["console=ttyS0", "quiet", "panic=-1", f"cairn.ip={{ips[0]}}/{{PREFIX}}"]
    etree.SubElement(os_, "kernel").text = KERNEL
    etree.SubElement(os_, "initrd").text = INITRD
    etree.SubElement(os_, "cmdline").text = " ".join(words)
    _serial(tree, vm)
    return etree.tostring(tree).decode()


def _serial(tree, vm):
    devices = tree.find("devices")
    for old in devices.findall("serial") + devices.findall("console"):
        devices.remove(old)
    # A pty (so `cairn open host console` attaches to it), logged to the file.
    serial = etree.SubElement(devices, "serial", type="pty")
    console = f"/var/lib/libvirt/images/{{vm.host.name}}.console"
    etree.SubElement(serial, "log", file=console, append="on")
    etree.SubElement(serial, "target", port="0")
    return etree.tostring(tree).decode()
'''


def _plugins(root: Path, guest_dir: Path) -> None:
    where = root / "plugins" / "start" / "host" / "vm"
    where.mkdir(parents=True, exist_ok=True)
    for d in [root / "plugins", *(root / "plugins").rglob("*")]:
        if d.is_dir():
            d.chmod(0o755)
    text = _PREBOOT.format(
        kernel=str(guest_dir / "vmlinuz"),
        initrd=str(guest_dir / "initrd.gz"),
        prefix=NETWORK.prefixlen,
        domain_type=DOMAIN_TYPE,
    )
    (where / "plugin_preboot.py").write_text(text)
    (where / "plugin_preboot.py").chmod(0o644)


def _write_tools(root: Path) -> None:
    """root/bin/cairn and root/bin/enter: cairn on the frontend, a shell in any part."""
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    env = " ".join(f"{k}={v}" for k, v in cairn_env(root).items())
    tools = {
        "cairn": f'exec "{PYTHON}" "{__file__}" cairn "$@"\n',
        "enter": f'exec "{PYTHON}" "{__file__}" enter "$@"\n',
    }
    for name, body in tools.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n# cairn testbed at {root} ({env})\n{body}")
        path.chmod(0o755)


# --- checks before anything is made ------------------------------------------------------


def prerequisites() -> str:
    """What the testbed needs and is missing, in words ('' when nothing)."""
    if os.geteuid() != 0:
        return "it must run as root (namespaces, mounts, libvirtd)"
    for tool, package in [
        ("unshare", "util-linux"), ("nsenter", "util-linux"), ("ip", "iproute2"),
        ("libvirtd", "libvirt-daemon-system"), ("virtlogd", "libvirt-daemon-system"),
        ("virsh", "libvirt-clients"), ("qemu-system-x86_64", "qemu-system-x86"),
        ("busybox", "busybox-static"),
    ]:  # fmt: skip
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package})"
    if not Path(CAIRN).exists():
        return f"{CAIRN} is missing (run bash scripts/setup.sh)"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "this kernel has no overlay file system (for each container's own /etc)"
    if not Path("/dev/kvm").exists():
        return "/dev/kvm is missing (guests would not run at a usable speed)"
    return ""


def guest() -> Path:
    """The small guest's directory (vmlinuz, initrd.gz), built once by scripts/guest.sh."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "guest.sh"), str(GUEST_CACHE)],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise TestbedError(f"cannot build the guest: {said[-1] if said else done.returncode}")
    return GUEST_CACHE


# --- taking it down ------------------------------------------------------------------------


def down(root: Path = ROOT) -> bool:
    """End every holder of the testbed at root (and with them every process, mount,
    veth and bridge inside), then remove its directory. False if nothing was there."""
    found = holders(root)
    pids = [p for ps in found.values() for p in ps]
    # Holders first (PID 1 of each space: the kernel ends all inside), then their unshare parents.
    for pid in sorted(pids, key=lambda p: not _is_holder_child(p)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        _wait(lambda p=pid: _gone(p), f"testbed process {pid} to end", timeout=30)
    existed = bool(pids) or root.exists()
    if root.exists():
        shutil.rmtree(root, ignore_errors=True)
    return existed


def _is_holder_child(pid: int) -> bool:
    return "unshare" not in Path(_cmdline(pid)[0] or "x").name


# --- command line -----------------------------------------------------------------------


def _main(argv: Sequence[str]) -> int:
    usage = "usage: testbed.sh up [N] | down | status | cairn WORDS... | enter NAME [COMMAND...]"
    if not argv:
        print(usage, file=sys.stderr)
        return 2
    verb, rest = argv[0], list(argv[1:])
    try:
        if verb == "up":
            count = int(rest[0]) if rest else 4
            if not 1 <= count <= 200:
                raise TestbedError("N must be between 1 and 200")
            started = time.monotonic()
            bed, made = Testbed.up(count)
            took = time.monotonic() - started
            print(
                f"testbed: {'up' if made else 'already up'} at {bed.root} with"
                f" {len(bed.containers)} containers ({took:.1f} s);"
                f" cairn there: {bed.root}/bin/cairn"
            )
            return 0
        if verb == "down":
            started = time.monotonic()
            said = "down" if down() else "nothing to take down"
            print(f"testbed: {said} ({time.monotonic() - started:.1f} s)")
            return 0
        if verb == "status":
            bed = Testbed.attach()
            for space in bed.containers:
                print(
                    f"{space.name}  {'answers' if bed.answers(space.name) else 'does not answer'}"
                )
            return 0
        if verb == "cairn":
            bed = Testbed.attach()
            return subprocess.call(
                bed.frontend.argv("env", *(f"{k}={v}" for k, v in bed.env.items()), CAIRN, *rest)
            )
        if verb == "enter":
            bed = Testbed.attach()
            name = rest[0] if rest else FRONTEND
            space = bed.frontend if name == FRONTEND else bed.container(name)
            env = bed.env if space is bed.frontend else {}
            return subprocess.call(
                space.argv("env", *(f"{k}={v}" for k, v in env.items()), *(rest[1:] or ["bash"]))
            )
    except (TestbedError, ValueError, KeyError) as exc:
        print(f"error - {exc}", file=sys.stderr)
        return 1
    print(usage, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
