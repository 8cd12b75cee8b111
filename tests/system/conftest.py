"""System tests: cairn commands against the real libvirtd (qemu:///system) with QEMU/KVM.

Every test here is marked `system`. They are skipped when qemu:///system cannot
be opened (start it with `eval "$(bash scripts/services.sh)"`), except in CI
(CI=true), where that is a failure.

The `lab` fixture gives each test its own SQLite database (through `sqlite_cli`),
its own directory under /var/lib/libvirt/images (disks, ISOs, serial logs: QEMU
runs as libvirt-qemu and cannot read pytest's tmp dirs), VM names with a unique
suffix, and cleans up everything it made on the container even when the test
fails: domains (destroyed, undefined with their managed-save image), the storage
pools cairn defined for its directories, and the files.

Under pytest-xdist (scripts/test.sh) one worker runs every test here, in order
(tests/workers.py): they share the machine's libvirtd and the session's testbed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from watcher import Watch

import testkit
from webkit import browser, page  # noqa: F401  (fixtures of the web page's tests)

SYSTEM_URI = "qemu:///system"
IMAGES = Path("/var/lib/libvirt/images")
DEADLINE = 60.0  # seconds any single wait may take before the test fails


def _open_system() -> Any:
    import libvirt

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    return libvirt.open(SYSTEM_URI)


class Virt:
    """Our own connection to the real libvirtd, to check what cairn did.

    Reopened when it died (a libvirtd restarted by someone else between tests).
    """

    def __init__(self) -> None:
        self._conn = _open_system()

    @property
    def conn(self) -> Any:
        try:
            # isAlive() stays true after libvirtd restarts until a call fails: ask for real.
            self._conn.getLibVersion()
            alive = True
        except Exception:
            alive = False
        if not alive:
            # libvirtd restarted (other system tests restart it): wait for the new one.
            deadline = time.monotonic() + 30
            while True:
                try:
                    self._conn = _open_system()
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        return self._conn

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()


@pytest.fixture(scope="session")
def _virt() -> Iterator[Virt]:
    try:
        holder = Virt()
    except Exception as exc:  # ImportError, libvirtError: either way, no libvirtd
        message = f"cannot open {SYSTEM_URI}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {message}; system tests must run", pytrace=False)
        pytest.skip(f'{message} (start it: eval "$(bash scripts/services.sh)")')
    try:
        yield holder
    finally:
        holder.close()


@pytest.fixture(autouse=True)
def virt(_virt: Virt) -> Any:
    """The libvirt connection (every test here asks for it: skip/fail without libvirtd)."""
    return _virt.conn


def wait_for(
    condition: Callable[[], Any],
    what: str | Callable[[], str],
    timeout: float = DEADLINE,
    every: float = 0.1,
) -> Any:
    """`testkit.wait_for` with the longer deadline real guests need."""
    return testkit.wait_for(condition, what, timeout, every)


class Lab:
    """One test's corner of the real container: names, files, VMs, plugins."""

    def __init__(self, cli: Any, virt: Virt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        self.cli = cli
        self._virt = virt
        self.tmp = tmp_path
        self._monkeypatch = monkeypatch
        self.tag = uuid.uuid4().hex[:8]
        self.dir = IMAGES / f"cairn-systest-{self.tag}"
        self.dir.mkdir(mode=0o755)
        self.dir.chmod(0o755)
        self.names: list[str] = []
        self.pool_dirs: list[str] = [str(self.dir)]
        self.plugin_log = tmp_path / "plugins.log"
        try:
            cli.ok("set", "host", "attr", "localhost", "kvm", "true")
            # Under nested KVM a host-passthrough/host-model CPU crashes QEMU at start.
            cli.ok("remove", "attr", "cpu_mode")
            cli.ok("set", "host", "attr", "localhost", "kvm_disk_dir", str(self.dir))
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise

    @property
    def virt(self) -> Any:
        return self._virt.conn

    # --- VMs -------------------------------------------------------------

    def name(self, label: str) -> str:
        name = f"cst-{self.tag}-{label}"
        self.names.append(name)
        return name

    def add_vm(self, label: str, *, cpus: int = 1, extra: tuple[str, ...] = ()) -> str:
        name = self.name(label)
        self.cli.ok(
            "add", "host", "vm", "localhost", f"name={name}", "mem=128", f"cpus={cpus}",
            "disksize=1", *extra,
        )  # fmt: skip
        return name

    def attr(self, host: str, name: str, value: str) -> None:
        self.cli.ok("set", "host", "attr", host, name, value)

    def serial_log(self, vm: str, label: str = "serial") -> Path:
        """Make the BIOS write to a file: kvm_bios_useserial + a file serial as kvm_device_0."""
        path = self.dir / f"{vm}.{label}.log"
        self.attr(vm, "kvm_bios_useserial", "true")
        self.attr(vm, "kvm_device_0", f"<serial type='file'><source path='{path}'/></serial>")
        return path

    def iso(self) -> Path:
        """A small, non-bootable ISO image that QEMU can read."""
        src = self.tmp / "iso"
        src.mkdir(exist_ok=True)
        (src / "README.txt").write_text("cairn system test\n")
        made = self.tmp / "cd.iso"
        subprocess.run(["genisoimage", "-quiet", "-o", str(made), str(src)], check=True, timeout=60)
        target = self.dir / "cd.iso"
        shutil.copyfile(made, target)
        target.chmod(0o644)
        return target

    wait_for = staticmethod(wait_for)

    def run(self, *words: str) -> str:
        return str(self.cli.ok(*words))

    def verb(self, *words: str, code: int = 0) -> dict[str, str]:
        """Run a lifecycle command on one VM; its one result row (host, result, detail...)."""
        outcome = self.cli(*words, "output-format=json")
        assert outcome.code == code, (
            f"cairn {' '.join(words)}: exit {outcome.code}, not {code}: {outcome.out}{outcome.err}"
        )
        (row,) = json.loads(outcome.out)
        return dict(row)

    def status(self, vm: str) -> str:
        out = self.cli.ok("list", "host", "vm", vm, "status=yes", "output-format=json")
        (row,) = json.loads(out)
        return str(row["status"])

    def dom(self, vm: str) -> Any:
        return self.virt.lookupByName(vm)

    def state(self, vm: str) -> int:
        return int(self.dom(vm).state()[0])

    # --- plugins -----------------------------------------------------------

    def plugins(self, **bodies: str) -> Path:
        """Plugin files in a fresh CAIRN_PLUGIN_PATH dir; `bodies` by hook name.

        Each default hook appends "<hook> <vm> [reason]" to `plugin_log`.
        """
        root = self.tmp / "plugins"
        log = str(self.plugin_log)
        default = {
            "allocate": (
                "start",
                "def run(*, session, vm):\n"
                f"    with open({log!r}, 'a') as f:\n"
                "        f.write(f'allocate {vm.host.name}\\n')\n",
            ),
            "disallocate": (
                "stop",
                "def run(*, session, vm, reason):\n"
                f"    with open({log!r}, 'a') as f:\n"
                "        f.write(f'disallocate {vm.host.name} {reason}\\n')\n",
            ),
        }
        files = {hook: (verb, code) for hook, (verb, code) in default.items()}
        for hook, code in bodies.items():
            files[hook] = ("start" if hook in ("allocate", "preboot") else "stop", code)
        for hook, (verb, code) in files.items():
            directory = root / verb / "host" / "vm"
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"plugin_{hook}.py"
            path.write_text(code)
            path.chmod(0o644)
        for directory in [root, *root.rglob("*")]:
            if directory.is_dir():
                directory.chmod(0o755)
        # After the cli fixture, which sets CAIRN_PLUGIN_PATH="".
        self._monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(root))
        return root

    def plugin_calls(self) -> list[str]:
        if not self.plugin_log.exists():
            return []
        return self.plugin_log.read_text().splitlines()

    # --- cleanup -----------------------------------------------------------

    def pools_under(self, prefixes: list[str]) -> list[Any]:
        from lxml import etree

        found = []
        for pool in self.virt.listAllStoragePools(0):
            target = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path") or ""
            if any(target == p or target.startswith(p.rstrip("/") + "/") for p in prefixes):
                found.append(pool)
        return found

    def cleanup(self) -> None:
        errors: list[str] = []
        for name in self.names:
            self._retrying(functools.partial(self._remove_domain, name), f"domain {name}", errors)
        self._retrying(self._remove_pools, "storage pools", errors)
        shutil.rmtree(self.dir, ignore_errors=True)
        assert not errors, f"cleanup left things behind: {errors}"

    def _retrying(self, action: Callable[[], None], what: str, errors: list[str]) -> None:
        """Run `action`; once more on a new connection if libvirtd went away meanwhile
        (other system tests restart it), so nothing is left behind silently."""
        import libvirt

        for attempt in range(2):
            try:
                action()
                return
            except libvirt.libvirtError as exc:
                if attempt or exc.get_error_code() not in _connection_lost_codes():
                    errors.append(f"{what}: {exc}")
                    return

    def _remove_domain(self, name: str) -> None:
        import libvirt

        try:
            dom = self.virt.lookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return
            raise
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(
            libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
            | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        )

    def _remove_pools(self) -> None:
        for pool in self.pools_under(self.pool_dirs):
            if pool.isActive():
                pool.destroy()
            pool.undefine()


def _connection_lost_codes() -> frozenset[int]:
    """libvirt's error codes for a connection that died under us."""
    import libvirt

    return frozenset(
        {libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_ERR_RPC,
         libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_INVALID_CONN}
    )  # fmt: skip


@pytest.fixture
def lab(
    sqlite_cli: Any, _virt: Virt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Lab]:
    made = Lab(sqlite_cli, _virt, tmp_path, monkeypatch)
    try:
        yield made
    finally:
        made.cleanup()


@pytest.fixture
def daemon(lab: Any, _virt: Any) -> Iterator[Any]:
    """Control of libvirtd; after the test (and before `lab` cleans up) it is running."""
    from sysdaemon import PIDFILE, Daemon, libvirtd_pid

    assert libvirtd_pid() is not None, f"libvirtd is not running (no live pid in {PIDFILE})"
    made = Daemon(_virt)
    try:
        yield made
    finally:
        made.ensure_running()


@pytest.fixture
def watch(lab: Any, tmp_path: Path) -> Iterator[Callable[..., Watch]]:
    """Starts `cairn watch PARAMS...` (watcher.py); each is stopped after the test."""
    started: list[Watch] = []

    def start(*params: str) -> Watch:
        w = Watch(lab, tmp_path / f"watch{len(started)}.log", *params)
        started.append(w)
        return w

    try:
        yield start
    finally:
        for w in started:
            w.stop()


# --- the testbed: a cluster of four containers in namespaces (tests/testbed.py) ----------

# CAIRN_SYSTEST_TESTBED_DIR: another directory, so that two sessions never share one.
TESTBED_ROOT = Path(os.environ.get("CAIRN_SYSTEST_TESTBED_DIR") or "/var/lib/cairn-testbed-systest")


@pytest.fixture(scope="session")
def _testbed() -> Iterator[Any]:
    """Four VM containers reached over TLS, made once for the session, in a directory
    of their own (a user's testbed is left alone); removed after, even on failure."""
    import testbed as tb

    tb.down(TESTBED_ROOT)  # what a killed run left
    missing = tb.prerequisites()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the testbed cannot start: {missing}", pytrace=False)
        pytest.skip(f"the testbed cannot start: {missing}")
    try:
        bed, _made = tb.Testbed.up(4, TESTBED_ROOT)
        yield bed
    finally:
        tb.down(TESTBED_ROOT)


@pytest.fixture
def testbed(_testbed: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The session's testbed; after each test its VMs (tb-*) and extra plugins are
    gone. After a failed test, what the containers and services saw is printed."""
    import bedlog

    began = time.time()
    try:
        yield _testbed
    finally:
        if getattr(request.node, "failed_call", False):
            print(bedlog.report(_testbed, began))
        _testbed.forget_plugins()
        _testbed.forget_vms("tb-*")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Marks a test whose own body failed (`failed_call`), for its fixtures' teardown."""
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True  # type: ignore[attr-defined]
    return report
