"""Benchmark: what `start host vm` costs on top of the libvirt calls it makes.

a. 1,000 VMs on 100 containers, in one process, against libvirt's in-process
   test driver (test:///default: every connection in a process shares one
   in-memory host, dropped when the last connection closes). Times
   cairn.lifecycle.start.start() and the whole `start host vm` command run
   in-process, against the same libvirt calls made directly with the same XML
   (defineXML + create + setAutostart; and with the disk volume created too),
   each on a fresh host; prints totals, ms per VM, cairn's overhead per VM and
   a cProfile top-10 of start().
b. One real KVM guest on qemu:///system: `cairn start host vm X` + `cairn
   stop host vm X action=poweroff` as whole `cairn` processes, through a cairn
   service of its own (stopped at the end with `cairn stop service`) and
   in-process (CAIRN_SERVICE=off), against `virsh define` + `start` +
   `destroy` + `undefine` of the XML that `cairn report host vm config X`
   prints; median wall time of --runs runs, each method in turn within a
   run (its disk kept). Needs a running libvirtd (eval "$(bash
   scripts/services.sh)"); skipped otherwise. Run it under
   `flock /tmp/cairn-system.lock`: other tests restart that libvirtd.

    .venv/bin/python benchmarks/lifecycle.py [--vms 1000] [--containers 100] [--runs 3]
        [--skip-kvm | --skip-test-driver]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
from lxml import etree
from sqlalchemy import delete, insert, update

CAIRN = str(Path(sys.executable).parent / "cairn")
TEST_URI = "test:///default"
SYSTEM_URI = "qemu:///system"

libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


# --- a. 1,000 VMs on the test driver ------------------------------------------


def build(url: str, vms: int, containers: int) -> list[str]:
    """A database with `containers` vm-containers and `vms` VMs spread over them."""
    from cairn.attrs.escape import escape
    from cairn.db.models import GlobalAttr
    from cairn.db.session import finish, open_session
    from cairn.inventory.hosts import add_host
    from cairn.vms.define import NewVM, add

    session = open_session(url, writes=True)
    ok = False
    try:
        session.execute(insert(GlobalAttr).values(name="kvm_connection", value=escape(TEST_URI)))
        # As on the real container (nested KVM): no <cpu> element.
        session.execute(delete(GlobalAttr).where(GlobalAttr.name == "cpu_mode"))
        names = []
        for c in range(containers):
            add_host(
                session, f"vm-container-{c // 100}-{c % 100}", "vm-container",
                rack=c // 100, rank=c % 100, cpus=16, os="linux",
            )  # fmt: skip
        for i in range(vms):
            c = i % containers
            name = f"bench-vm-{i:05d}"
            add(
                session,
                NewVM(
                    container=f"vm-container-{c // 100}-{c % 100}",
                    name=name,
                    memory_mb=128,
                    cpus=1,
                    disksizes=[1],
                ),
            )
            names.append(name)
        ok = True
    finally:
        finish(session, ok=ok)
    return names


@contextlib.contextmanager
def fresh_test_host() -> Iterator[libvirt.virConnect]:
    """A connection to a new test:///default host, held open for the run."""
    conn = libvirt.open(TEST_URI)
    if len(conn.listAllDomains(0)) != 1:  # the driver's own "test" domain only
        raise SystemExit("test:///default was not fresh: another connection is still open")
    try:
        yield conn
    finally:
        conn.close()


def cairn_start(
    url: str, profile: cProfile.Profile | None = None, *, allocated: bool = False
) -> tuple[float, int, int]:
    """(seconds, VMs started, SQL statements) of lifecycle.start.start() on every
    VM (database loaded beforehand); with `allocated`, every VM still marked
    allocated, as after VMs went off without cairn."""
    from cairn.db.models import VM
    from cairn.db.session import finish, open_session
    from cairn.hypervisor.connections import Connections
    from cairn.lifecycle.hooks import Hooks
    from cairn.lifecycle.start import start
    from cairn.vms.define import vms_for

    session = open_session(url, writes=True)
    try:
        if allocated:
            session.execute(update(VM).values(allocated=True))
        vms = vms_for(session, [], all_if_empty=True)
        for vm in vms:  # load what start() reads, outside the timing
            _ = (vm.host.name, vm.container.name, vm.disks, vm.allocated)
        hooks = Hooks.load()
        with Connections() as conns, sql_counter() as statements:
            if profile:
                profile.enable()
            t0 = time.perf_counter()
            outcomes = start(session, vms, conns, hooks)
            seconds = time.perf_counter() - t0
            if profile:
                profile.disable()
    finally:
        finish(session, ok=False)  # leave the database as built
    failed = [o for o in outcomes if o.failed]
    if failed:
        raise SystemExit(f"{len(failed)} VMs failed to start, e.g. {failed[0]}")
    return seconds, len(outcomes), statements[0]


def cairn_command(url: str) -> float:
    """Seconds for `cairn start host vm bench-vm-*` run in-process (output discarded)."""
    from cairn.cli.main import main

    os.environ["CAIRN_DB_URL"] = url
    out = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = main(["start", "host", "vm", "bench-vm-*"])
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"start host vm failed (exit {code}): {out.getvalue()[-500:]}")
    return seconds


def domain_xmls(url: str, domain_type: str) -> list[tuple[str, str]]:
    """(disk path, domain XML) per VM: exactly what cairn would define."""
    from cairn.db.session import finish, open_session
    from cairn.vms import config
    from cairn.vms.define import vms_for
    from cairn.vms.facts import VMFacts

    session = open_session(url, writes=False)
    try:
        vms = vms_for(session, [], all_if_empty=True)
        xml = config.build(session, [VMFacts.of(vm) for vm in vms], domain_type=domain_type)
        return [(vm.disks[0].path, xml[vm.id]) for vm in vms]
    finally:
        finish(session, ok=False)


def direct(conn: libvirt.virConnect, jobs: list[tuple[str, str]], with_disks: bool) -> float:
    """The same libvirt calls made directly: [volume create +] define + create + autostart."""
    from cairn.hypervisor.storage import volume_xml

    pool = None
    if with_disks:
        directory = os.path.dirname(jobs[0][0])
        pool_xml = (
            f"<pool type='dir'><name>bench</name><target><path>{directory}</path></target></pool>"
        )
        pool = conn.storagePoolDefineXML(pool_xml, 0)
        pool.build(0)
        pool.create(0)
    t0 = time.perf_counter()
    for disk, xml in jobs:
        if pool is not None:
            pool.createXML(volume_xml(os.path.basename(disk), 1, "raw"), 0)
        dom = conn.defineXML(xml)
        dom.create()
        dom.setAutostart(0)
    return time.perf_counter() - t0


def profile_top(profile: cProfile.Profile, order: str, n: int = 10, only: str = "") -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats(order).print_stats(only, n) if only else stats.sort_stats(order).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    root = str(Path(__file__).resolve().parent.parent) + "/"
    return "\n".join(line.replace(root, "") for line in lines[start : start + n + 1])


# Where start() goes, step by step: (label, module, attribute) wrapped with a timer.
# Phase 1 runs in the calling thread, phase 2 (from "_launch") in the worker.
STEPS = (
    ("phase 1a: _allocate (listing, allocation)", "cairn.lifecycle.start", "_allocate"),
    ("  list_states (one per container)", "cairn.lifecycle.start", "list_states"),
    ("  container_uris (attribute resolve)", "cairn.lifecycle.start", "container_uris"),
    ("phase 1b: _prepare (XML, preboot)", "cairn.lifecycle.start", "_prepare"),
    ("  check_containers (attribute resolve)", "cairn.lifecycle.start", "check_containers"),
    ("  config.build (resolve, XML, RelaxNG)", "cairn.vms.config", "build"),
    ("    schema.validate (RelaxNG)", "cairn.vms.config", "schema.validate"),
    ("  _autostart kvm_autostart (resolve)", "cairn.lifecycle.start", "_autostart"),
    ("phase 2: _launch (per VM, libvirt)", "cairn.lifecycle.start", "_launch"),
    ("  fit_volume (pool scan, refresh, vol)", "cairn.lifecycle.start", "fit_volume"),
    ("  Guest.define", "cairn.hypervisor.guest", "Guest.define"),
    ("  Guest.launch", "cairn.hypervisor.guest", "Guest.launch"),
    ("  Guest.set_autostart", "cairn.hypervisor.guest", "Guest.set_autostart"),
)


@contextlib.contextmanager
def sql_counter() -> Iterator[list[int]]:
    """Counts the SQL statements every engine runs meanwhile."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    count = [0]

    def one(*_args: object) -> None:
        count[0] += 1

    event.listen(Engine, "before_cursor_execute", one)
    try:
        yield count
    finally:
        event.remove(Engine, "before_cursor_execute", one)


@contextlib.contextmanager
def step_timers() -> Iterator[dict[str, float]]:
    import importlib
    import threading

    totals: dict[str, float] = {label: 0.0 for label, _, _ in STEPS}
    lock = threading.Lock()
    undo = []
    for label, module_name, dotted in STEPS:
        owner: object = importlib.import_module(module_name)
        *path, attr = dotted.split(".")
        for part in path:
            owner = getattr(owner, part)
        raw = owner.__dict__[attr] if isinstance(owner, type) else getattr(owner, attr)
        original = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw

        def timed_call(*a: object, _f: object = original, _l: str = label, **k: object) -> object:
            t0 = time.perf_counter()
            try:
                return _f(*a, **k)  # type: ignore[operator]
            finally:
                with lock:
                    totals[_l] += time.perf_counter() - t0

        wrapped: object = classmethod(timed_call) if isinstance(raw, classmethod) else timed_call
        setattr(owner, attr, wrapped)
        undo.append((owner, attr, raw))
    try:
        yield totals
    finally:
        for owner, attr, raw in reversed(undo):
            setattr(owner, attr, raw)


def bench_test_driver(vms: int, containers: int) -> None:
    print(f"a. {vms} VMs on {containers} containers, libvirt {TEST_URI} (in-process)")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        os.environ["CAIRN_PLUGIN_PATH"] = ""  # no plugins: measure cairn itself
        t0 = time.perf_counter()
        build(url, vms, containers)
        print(f"   database built in {time.perf_counter() - t0:.1f} s (SQLite)")

        with fresh_test_host() as conn:
            seconds, started, sql = cairn_start(url)
            active = conn.numOfDomains() - 1  # minus the driver's "test" domain
        if started != vms or active != vms:
            raise SystemExit(f"expected {vms} running VMs, got {active}")
        with fresh_test_host() as conn:
            held, started, held_sql = cairn_start(url, allocated=True)
            active = conn.numOfDomains() - 1
        if started != vms or active != vms:
            raise SystemExit(f"expected {vms} running VMs (still allocated), got {active}")
        with fresh_test_host() as conn:
            from cairn.hypervisor.capabilities import domain_type

            jobs = domain_xmls(url, domain_type(conn))
            plain = direct(conn, jobs, with_disks=False)
        with fresh_test_host() as conn:
            with_disks = direct(conn, jobs, with_disks=True)
        with fresh_test_host():
            command = cairn_command(url)
        profile = cProfile.Profile()
        with fresh_test_host():
            cairn_start(url, profile)
        with fresh_test_host(), step_timers() as steps:
            stepped, _, _ = cairn_start(url)

    def row(label: str, s: float) -> None:
        print(f"   {label:52s} {s:7.3f} s  {s / vms * 1000:7.3f} ms/VM")

    row("cairn lifecycle.start.start() (first call in process)", seconds)
    row("cairn start() with every VM still marked allocated", held)
    row("cairn `start host vm bench-vm-*` (in-process command)", command)
    row("direct: defineXML + create + setAutostart", plain)
    row("direct: + storage volume createXML", with_disks)
    for label, total, count in (("", seconds, sql), (" (still allocated)", held, held_sql)):
        over = (total - plain) / vms * 1000
        print(
            f"   cairn overhead per VM{label}: {over:.3f} ms vs define+create+autostart,"
            f" {(total - with_disks) / vms * 1000:.3f} ms vs the same with the volume"
            f" (target < 2 ms): {'OK' if over < 2 else 'OVER TARGET'};"
            f" {count} SQL statements for {vms} VMs ({count / vms:.2f} per VM)"
        )
    print(f"   where start() spends its time (one more run, {stepped:.3f} s with timers):")
    for label, total in steps.items():
        print(f"     {label:44s} {total:7.3f} s  {total / vms * 1000:7.3f} ms/VM")
    print("   cProfile of start(), calling thread only (phase 2 runs in a worker thread")
    print("   and shows as lock waits), top 10 of cairn's functions by cumulative time:")
    for line in profile_top(profile, "cumulative", only="src/cairn").splitlines():
        print("     " + line)
    print("   ... and top 10 of all functions by own time:")
    for line in profile_top(profile, "tottime").splitlines():
        print("     " + line)


# --- b. one real KVM guest --------------------------------------------------------


def run(cmd: list[str], env: dict[str, str] | None = None, **kw: object) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, **kw)  # type: ignore[call-overload]
    if done.returncode:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({done.returncode}):"
            f" {done.stdout.strip()} {done.stderr.strip()}"
        )
    return str(done.stdout)


def timed(action: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    action()
    return time.perf_counter() - t0


def open_system(timeout: float = 30.0) -> libvirt.virConnect:
    """A new qemu:///system connection, waiting a while for a libvirtd being restarted."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return libvirt.open(SYSTEM_URI)
        except libvirt.libvirtError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def remove_domain(name: str) -> None:
    """Destroy and undefine `name`, over a new connection each time: libvirtd may
    have been restarted meanwhile by someone else (other tests share it)."""
    conn = open_system()
    try:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return
            raise
        if dom.isActive():
            dom.destroy()
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    finally:
        conn.close()


def bench_kvm(runs: int) -> None:
    print(f"b. one real KVM guest (mem=128 MB, 1 vcpu, 1 GB disk) on {SYSTEM_URI}")
    try:
        libvirt.open(SYSTEM_URI).close()
    except libvirt.libvirtError as exc:
        print(f"   skipped: cannot open {SYSTEM_URI}: {exc.get_error_message()}")
        return
    tag = uuid.uuid4().hex[:8]
    name = f"cairn-bench-{tag}"
    directory = Path(f"/var/lib/libvirt/images/cairn-bench-{tag}")
    directory.mkdir(mode=0o755)
    tmp = Path(tempfile.mkdtemp())
    env = {
        **os.environ,
        "CAIRN_DB_URL": f"sqlite:///{tmp}/bench.db",
        "CAIRN_PLUGIN_PATH": "",
        "CAIRN_SERVICE": "off",
    }
    served = {**env, "CAIRN_SERVICE": "on", "CAIRN_SOCKET": str(tmp / "cairn.sock")}
    try:
        for words in (
            ["set", "host", "attr", "localhost", "kvm", "true"],
            ["remove", "attr", "cpu_mode"],  # nested KVM: no <cpu> element
            ["set", "host", "attr", "localhost", "kvm_disk_dir", str(directory)],
            ["add", "host", "vm", "localhost", f"name={name}", "mem=128", "disksize=1"],
        ):
            run([CAIRN, *words], env)
        # Warm-up (not counted): creates the storage pool and the disk, warms caches.
        run([CAIRN, "start", "host", "vm", name], env)
        remove_domain(name)
        xml_file = tmp / "domain.xml"
        # The XML as `report host vm config` prints it; it already says type='kvm',
        # which is what start chooses here, so nothing needs adjusting.
        xml_file.write_text(run([CAIRN, "report", "host", "vm", "config", name], env))

        here = env
        run([CAIRN, "list", "host", "vm", name], served)  # starts the service (not counted)
        start = [CAIRN, "start", "host", "vm", name]
        stop = [CAIRN, "stop", "host", "vm", name, "action=poweroff"]
        virsh = ["virsh", "-q", "-c", SYSTEM_URI]
        times: dict[str, list[float]] = {"service": [], "in-process": [], "virsh": []}
        for _ in range(runs):
            for label, cairn_env in (("service", served), ("in-process", here)):
                times[label].append(timed(lambda e=cairn_env: (run(start, e), run(stop, e))))
                remove_domain(name)
            times["virsh"].append(
                timed(
                    lambda: (
                        run([*virsh, "define", str(xml_file)]),
                        run([*virsh, "start", name]),
                        run([*virsh, "destroy", name]),
                        run([*virsh, "undefine", name]),
                    )
                )
            )
            remove_domain(name)
        v = statistics.median(times["virsh"])
        for label, what in (
            ("virsh", "virsh define + start + destroy + undefine"),
            ("service", "cairn start + stop action=poweroff, service"),
            ("in-process", "the same, CAIRN_SERVICE=off"),
        ):
            m = statistics.median(times[label])
            runs_ms = ", ".join(f"{s * 1000:.0f}" for s in times[label])
            print(f"   {what:45s} {m * 1000:6.0f} ms  {m / v:4.2f}x virsh  (runs: {runs_ms})")
        print("   target: the service <= 1.3x virsh")
    finally:
        subprocess.run([CAIRN, "stop", "service"], env=served, capture_output=True, timeout=120)
        remove_domain(name)
        conn = open_system()
        for pool in conn.listAllStoragePools(0):
            target = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path")
            if target == str(directory):
                if pool.isActive():
                    pool.destroy()
                pool.undefine()
        conn.close()
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=1000)
    ap.add_argument("--containers", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-kvm", action="store_true", help="only the test-driver benchmark (a)")
    ap.add_argument("--skip-test-driver", action="store_true", help="only the KVM benchmark (b)")
    args = ap.parse_args()
    if not args.skip_test_driver:
        bench_test_driver(args.vms, args.containers)
    if not (args.skip_kvm or args.skip_test_driver):
        print()
    if not args.skip_kvm:
        bench_kvm(args.runs)


if __name__ == "__main__":
    main()
