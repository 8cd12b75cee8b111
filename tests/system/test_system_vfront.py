"""A virtual frontend that installs its own computes, on the testbed
(tests/testbed.py), driven through the Airboss: issue 20's "Proof on the
testbed", parts 1 to 5 (part 6, 2,000 hostile requests, is proved in
tests/unit/airboss/ on the real port).

The virtual frontend is not a VM here: a real frontend VM is too slow under
TCG on this machine (no usable KVM for a guest kernel, see tests/testbed.py:
the testbed's 10 MB guest alone takes about 70 s to PXE-boot; a frontend
installing its own operating system would take far longer than CI allows).
Its software runs instead in a tenant space, namespaces of its own (network,
mount, UTS, PID) made by the test:

- its network is the cluster's: a veth into the physical frontend's bridge of
  the cluster's VXLAN network (which `sync host network` built there), holding
  the frontend VM's MAC and address, so it stands where the VM's eth0 would;
  the physical frontend's Airboss listens there (TLS, the cluster CA's
  certificate), as it would for the frontend VM;
- its mounts hide the physical frontend's: its own home on /home (database,
  config, keys, netboot directory), an empty tmpfs over the testbed's directory
  (the physical database, CA, plugins), /var/lib/cairn, /tmp, /run (sockets,
  libvirt's) and /root (only the Python that cairn runs on is put back
  there): root inside it stands for root of the virtual frontend, not of the
  physical one, and the test checks that it reaches none of these;
- its host name is the cluster's frontend's (tb-vf), and its cairn runs with
  an environment of its own only (env -i) and a database of its own.

The flow: the administrator makes the cluster with dhcp=cluster (the physical
dnsmasq stays off its network) and binds the owner's public key to it; the
tenant space gets only the private key (and the CA's certificate). As a user
who is not root (uid 65534), the tenant lists the cluster's MACs through the
Airboss; its cairn (root there) adds the computes (`insert ethers macs=`; its
own MAC is left out), writes its dnsmasq configuration (`sync config`) and
serves them; the tenant powers the computes into an install through the
Airboss; they PXE-boot from the tenant's dnsmasq, get the tenant's addresses
and ping each other; the tenant watches one's serial console through the
Airboss. Requests the Airboss must refuse are refused, audited and change
nothing; then the tenant powers the computes off, and its frontend stays.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import pxekit
import testbed as tb
import testkit
from pxekit import BASE_ARGS, GUEST

pytestmark = pytest.mark.system

CLUSTER, OTHER, LONE = "tb-vf", "tb-vw", "tb-lone"
SUBNET, VNI = "198.19.5.0/24", 905
FE_ON_VC = "198.19.5.250"  # the physical frontend's address on the cluster's network
AIRBOSS = f"{FE_ON_VC}:8677"
BOOT = 420.0  # two PXE boots under TCG at once on 2 loaded cores (one alone: ~70 s)
HOME = "/home"  # the tenant's home, as it sees it
NOBODY = "65534"
TENANT_ENV = (
    f"CAIRN_DB_URL=sqlite:///{HOME}/cairn.db",
    f"CAIRN_CONFIG={HOME}/cairn.toml",
    f"CAIRN_CA_DIR={HOME}/ca",
    f"PYTHONPATH={tb.REPO / 'src'}",
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
)
TENANT_CONFIG = f"""db_url = "sqlite:///{HOME}/cairn.db"
[airboss]
address = "{AIRBOSS}"
ca = "{HOME}/cacert.pem"
"""
# A request signed as the tenant's cairn signs it, then sent as it is, or
# tampered with, replayed or stale: what the Airboss answers each (run as the
# tenant, with the tenant's key; the client's own connection and reply code).
RAW = """
import json, sys, time
from pathlib import Path
from cairn.airboss import client, envelope, keys
key = keys.load_private(Path(sys.argv[1]))
target, other = sys.argv[2], sys.argv[3]
def send(wire):
    try:
        with client._connected(None, None) as sock:
            sock.sendall(wire)
            return "accepted %d" % len(client._reply(sock))
    except Exception as e:
        return str(e)
on = envelope.sign(key, "power", target, {"action": "on"})
listed = envelope.sign(key, "macs", sys.argv[4])
print(json.dumps({
    "tampered": send(on.replace(target.encode(), other.encode())),
    "stale": send(envelope.sign(key, "power", target, {"action": "on"}, now=time.time() - 120)),
    "first": send(listed),
    "replayed": send(listed),
}))
"""


@dataclass
class Tenant:
    """The virtual frontend's stand-in: its space and its home as seen from here."""

    space: tb.Space
    home: Path

    def argv(self, *words: str, user: str | None = None) -> list[str]:
        """WORDS as root of the tenant space, or as uid `user` (no groups), with
        the tenant's environment only."""
        who = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []
        home = f"HOME={HOME}/{'nobody' if user else 'root'}"
        return [*who, "env", "-i", home, *TENANT_ENV, *words]

    def run(self, *words: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.space.run(*self.argv(*words, user=user), check=False, timeout=300)

    def console(self, vm: str, key: str, until: bytes, timeout: float = 60) -> str:
        """What `open host console VM key=...` (as uid 65534, no terminal: it
        streams) shows until `until` or `timeout`; then it is ended."""
        argv = self.argv(tb.CAIRN, "open", "host", "console", vm, key, "readonly=yes", user=NOBODY)
        proc = subprocess.Popen(
            self.space.argv(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        assert proc.stdout is not None
        got, deadline = b"", time.monotonic() + timeout
        try:
            while until not in got and time.monotonic() < deadline:
                if select.select([proc.stdout], [], [], 1)[0]:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    got += chunk
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # nsenter and the cairn it runs in the space
            _, err = proc.communicate(timeout=30)
        return got.decode(errors="replace") + err.decode(errors="replace")

    def cairn(self, *words: str, user: str | None = None) -> str:
        done = self.run(tb.CAIRN, *words, user=user)
        assert done.returncode == 0, f"tenant: cairn {' '.join(words)}: {done.stderr}"
        return done.stdout

    def log(self) -> str:
        path = self.home / "netboot" / "dnsmasq.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _interfaces(bed: tb.Testbed, *hosts: str) -> list[dict[str, str]]:
    listed = bed.cairn("list", "host", "interface", *hosts, "output-format=json").stdout
    return json.loads(listed)


def _tenant(bed: tb.Testbed, home: Path, mac: str, ip: str) -> Tenant:
    """The tenant space, its mounts, its keys, and its veth on the cluster's network."""
    home.chmod(0o755)  # dnsmasq reads its netboot directory as nobody
    (home / "cairn.toml").write_text(TENANT_CONFIG)
    for sub, owner in (("root", 0), ("nobody", int(NOBODY))):
        (home / sub).mkdir()
        os.chown(home / sub, owner, owner)
    # Handed over: the owner's private key (and another cluster's), the CA's certificate.
    for name in ("owner", "other"):
        shutil.copyfile(bed.root / name, home / f"{name}.key")
        os.chown(home / f"{name}.key", int(NOBODY), int(NOBODY))
        (home / f"{name}.key").chmod(0o600)
    shutil.copyfile(bed.root / "ca" / "cacert.pem", home / "cacert.pem")
    space = tb.new_space(bed.root, CLUSTER)
    tb._private(space, home / "sys", libvirt=False)  # /etc, /run, host name tb-vf
    # cairn's Python lives under /root (0700), which the tenant's user cannot
    # enter: the tenant gets its own /root holding only that.
    space.sh(
        "mkdir /run/pyenv && mount --bind /root/.pyenv /run/pyenv"
        " && mount -t tmpfs -o mode=755 tmpfs /root && mkdir /root/.pyenv"
        " && mount --move /run/pyenv /root/.pyenv"
        f" && mount --bind {home} {HOME}"
        f" && mount -t tmpfs -o mode=755 tmpfs {bed.root}"
        " && mount -t tmpfs -o mode=1777 tmpfs /tmp"
        " && { test ! -d /var/lib/cairn || mount -t tmpfs tmpfs /var/lib/cairn; }"
    )
    subprocess.run(
        ["nsenter", "-t", str(bed.frontend.pid), "--net", "--",
         "ip", "link", "add", "vfv0", "type", "veth", "peer", "name", "eth0",
         "netns", str(space.pid)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    bed.frontend.run("ip", "link", "set", "vfv0", "master", f"br-vx{VNI}", "up")
    space.run(
        "ip", "-batch", "-",
        input="link set lo up\n"
        f"link set eth0 address {mac}\n"
        f"addr add {ip}/24 dev eth0\n"
        "link set eth0 up\n",
    )  # fmt: skip
    return Tenant(space, home)


def _reaches_nothing_physical(bed: tb.Testbed, tenant: Tenant) -> None:
    """Root in the tenant space sees no physical database, socket, CA or libvirt."""
    # Where the physical frontend's cairn service listens (the test session's
    # runtime directory, else root's /run/cairn in the frontend's own /run).
    sockets = os.environ.get("CAIRN_RUNTIME_DIR") or "/run/cairn"
    seen = Path(sockets) if "CAIRN_RUNTIME_DIR" in os.environ else bed.frontend.path(sockets)
    bed.cairn("list", "host", tb.FRONTEND)
    assert list(seen.glob("*.sock")), f"no cairn service socket in {sockets}"
    probe = (
        f"test ! -e {bed.root}/cairn.db && test ! -e {bed.root}/ca"
        f" && test ! -e {sockets} && test ! -e /run/libvirt/libvirt-sock"
        " && ! virsh -c qemu:///system list >/dev/null 2>&1"
        f" && ! timeout 10 virsh -c {bed.uri(tb.container_name(0))} hostname >/dev/null 2>&1"
        f" && ! busybox ping -c 1 -W 1 {tb.FRONTEND_IP} >/dev/null 2>&1"
        " && echo isolated"
    )
    assert tenant.run("sh", "-c", probe).stdout.strip() == "isolated"


def _airboss_on(bed: tb.Testbed) -> str:
    """Turn the physical frontend's Airboss on (its cairn service restarted); the
    config file as it was."""
    conf = bed.frontend.path("/etc/cairn/cairn.toml")
    before = conf.read_text()
    conf.write_text(before + f'[airboss]\nlisten = "{AIRBOSS}"\n')
    bed.cairn("stop", "service")
    bed.cairn("list", "host", tb.FRONTEND)  # a new service, with the Airboss
    return before


@pytest.fixture(scope="module")
def cluster(_testbed: tb.Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tenant]:
    bed = _testbed
    tenant, config = None, None
    try:
        # 1. The administrator: the cluster, served by its own frontend; the
        # owner's key bound to it; another cluster and a VM in none beside it.
        c0 = tb.container_name(0)
        bed.cairn_batch(
            [
                ["add", "cluster", CLUSTER, "computes=2", f"subnet={SUBNET}", "public=none",
                 "mem=128", f"id={VNI}", "dhcp=cluster"],
                ["add", "cluster", OTHER, "computes=1", "subnet=198.19.6.0/24", "public=none",
                 "mem=64", "id=906", "dhcp=cluster"],
                ["add", "host", "vm", c0, f"name={LONE}", "mem=64"],
                # The physical frontend joins the cluster's network to hand it to the
                # tenant space (the frontend VM's NIC would be on it by itself).
                ["add", "host", "interface", tb.FRONTEND, "vxf", f"ip={FE_ON_VC}",
                 f"subnet={CLUSTER}"],
            ]
        )  # fmt: skip
        for name, frontend in (("owner", CLUSTER), ("other", OTHER)):
            bed.cairn("create", "keys", f"key={bed.root / name}", "passphrase=no")
            bed.cairn("add", "host", "key", frontend, f"key={bed.root / name}.pub")
        for part, said in pxekit.sync_networks(bed).items():
            assert f"vx{VNI}" in said, (part, said)  # carried everywhere, dhcp=cluster or not
        config = _airboss_on(bed)
        front = next(r for r in _interfaces(bed, CLUSTER) if r["iface"] == "eth0")
        tenant = _tenant(bed, tmp_path_factory.mktemp("tenant"), front["mac"], front["ip"])
        yield tenant
    finally:
        if tenant is not None:
            os.kill(tenant.space.pid, signal.SIGKILL)  # its dnsmasq and cairn service too
        if config is not None:
            bed.frontend.path("/etc/cairn/cairn.toml").write_text(config)
            bed.cairn("stop", "service", check=False)
        bed.forget_vms(f"{CLUSTER}-*")
        bed.forget_vms(f"{OTHER}-*")
        for words in (
            ["remove", "cluster", CLUSTER, "force=yes"],
            ["remove", "cluster", OTHER, "force=yes"],
            ["remove", "host", LONE],
            ["remove", "host", "interface", tb.FRONTEND, "vxf"],
        ):
            bed.cairn(*words, check=False)
        for space in [bed.frontend, *bed.containers]:
            space.sh(
                f"for d in vfv0 br-vx{VNI} vx{VNI}; do ip link del $d 2>/dev/null || true; done"
            )
        for name in ("owner", "owner.pub", "other", "other.pub"):
            (bed.root / name).unlink(missing_ok=True)


def _state(bed: tb.Testbed) -> tuple[str, dict[str, str]]:
    """The physical database (as dump prints it) and every VM's libvirt state."""
    listed = bed.cairn("list", "host", "vm", "status=yes", "output-format=json").stdout
    return bed.cairn("dump").stdout, {r["vm-host"]: r["status"] for r in json.loads(listed)}


def _refused(bed: tb.Testbed, tenant: Tenant, computes: list[str]) -> None:
    """4. Each request the Airboss must refuse: refused, audited, nothing changed."""
    before = _state(bed)
    owner, other = f"key={HOME}/owner.key", f"key={HOME}/other.key"
    wrong = (
        (owner, f"{OTHER}-compute-0", "is a VM of another cluster, not of yours"),
        (owner, LONE, "is a VM in no cluster, not a VM of your cluster"),
        (owner, tb.container_name(0), "is a physical host, not a VM of your cluster"),
        (other, computes[0], "is a VM of another cluster, not of yours"),  # the wrong key
    )
    for key, target, why in wrong:
        done = tenant.run(tb.CAIRN, "set", "host", "power", target, "action=on", key, user=NOBODY)
        assert done.returncode != 0 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith("error - ") and "Traceback" not in done.stderr
        assert why in done.stderr, done.stderr
    script = tenant.run(
        tb.PYTHON, "-c", RAW, f"{HOME}/owner.key", computes[0], computes[1], CLUSTER, user=NOBODY
    )
    said = json.loads(script.stdout)
    assert said["first"].startswith("accepted"), said
    for case in ("tampered", "stale", "replayed"):
        assert not said[case].startswith("accepted"), (case, said)
    assert _state(bed) == before
    log = json.loads(
        bed.cairn("list", "airboss", "log", "refused=yes", "output-format=json").stdout
    )
    targets = [r["target"] for r in log]
    for _, target, _ in wrong:
        assert target in targets, log
    assert len(log) >= len(wrong) + 3, log


def test_a_virtual_frontend_installs_its_own_computes_through_the_airboss(
    _testbed: tb.Testbed, cluster: Tenant
) -> None:
    bed, tenant = _testbed, cluster
    _reaches_nothing_physical(bed, tenant)
    listed = _interfaces(bed, f"{CLUSTER}*")
    computes = sorted(r["host"] for r in listed if r["host"].startswith(f"{CLUSTER}-compute-"))
    macs = {r["host"]: r["mac"] for r in listed if r["iface"] == "eth0"}
    # The physical dnsmasq leaves the cluster's network alone, though it is on it.
    physical = bed.cairn("report", "host", "dhcpd", f"frontend={tb.FRONTEND}").stdout
    assert f"no-dhcp-interface=br-vx{VNI}" in physical, physical
    assert not any(macs[vm] in physical for vm in computes), physical

    # 2. The tenant: its MACs through the Airboss, as a user with only the key.
    key = f"key={HOME}/owner.key"
    listing = tenant.cairn("list", "host", "macs", CLUSTER, key, user=NOBODY)
    rows = [line.split()[0] for line in listing.splitlines()[1:]]
    assert sorted(rows) == sorted(macs[h] for h in (CLUSTER, *computes)), listing
    # Its cairn, root of the virtual frontend, with its own database.
    front_ip = next(r["ip"] for r in listed if r["host"] == CLUSTER)
    tenant.cairn("set", "network", "private", f"subnet={SUBNET}", "dhcp=yes")
    tenant.cairn(
        "add", "host", "interface", "localhost", "eth0", f"mac={macs[CLUSTER]}",
        f"ip={front_ip}", "subnet=private",
    )  # fmt: skip
    added = json.loads(tenant.cairn("insert", "ethers", f"macs={listing}", "output-format=json"))
    assert sorted(r["mac"] for r in added) == sorted(macs[vm] for vm in computes), added
    ips = {r["mac"]: r["ip"] for r in added}
    tenant.cairn(
        "add", "bootaction", "install", pxekit.KERNEL, pxekit.RAMDISK,
        f"args={BASE_ARGS} cairn.ping={','.join(sorted(ips.values()))}",
    )  # fmt: skip
    netboot = tenant.home / "netboot"
    pxekit.put_guest(netboot)
    said = tenant.cairn("sync", "config", f"dir={HOME}/netboot")
    assert "started" in said, said

    _refused(bed, tenant, computes)

    began = time.monotonic()
    powered = tenant.cairn("set", "cluster", "power", CLUSTER, "action=install", key, user=NOBODY)
    assert all(vm in powered for vm in computes) and f"{CLUSTER} " not in powered, powered
    listed_vms = bed.cairn("list", "host", "vm", f"{CLUSTER}*", "output-format=json").stdout
    where = {r["vm-host"]: r["container"] for r in json.loads(listed_vms)}

    def text(vm: str) -> str:
        return pxekit.console_text(bed.console(where[vm], vm))

    address = {vm: ips[macs[vm]] for vm in computes}
    for vm in computes:
        line = f"cairn-guest: up, address {address[vm]}/24"
        testkit.wait_for(lambda vm=vm, line=line: line in text(vm), f"{vm}: {line}", BOOT, 0.5)
    # Both up: an answer from here on is the guests' own, not iPXE's.
    marks = {vm: len(text(vm)) for vm in computes}
    one, two = computes

    def pinged() -> bool:
        return (
            f"cairn-guest: ping {address[two]} ok" in text(one)[marks[one] :]
            or f"cairn-guest: ping {address[one]} ok" in text(two)[marks[two] :]
        )

    testkit.wait_for(pinged, f"{one} and {two} to ping each other", BOOT, 0.2)
    took = time.monotonic() - began
    print(f"\n[vfront] set cluster power action=install -> first ping: {took:.0f} s")
    # Served by the tenant's dnsmasq, on its eth0, with the tenant's names and files.
    log = tenant.log()
    named = {r["mac"]: r["host"] for r in added}
    for vm in computes:
        ack = f"DHCPACK(eth0) {address[vm]} {macs[vm]} {named[macs[vm]]}"
        assert ack in log, log[-3000:]
        # The kernel: over HTTP to iPXE (QEMU's NIC firmware), from the tenant's own
        # boot HTTP server; over TFTP to any other PXE client.
        assert (
            pxekit.fetched(tenant.home / "netboot", address[vm], f"/{GUEST}/vmlinuz")
            or f"sent {HOME}/netboot/tftp/{GUEST}/vmlinuz to {address[vm]}" in log
        ), log[-3000:]
    for vm, other in ((one, two), (two, one)):
        said = f"cairn-guest: ping {address[other]} ok"
        testkit.wait_for(
            lambda vm=vm, said=said: said in text(vm)[marks[vm] :], f"{vm}: {said}", BOOT, 0.5
        )

    # 3. A compute's serial console through the Airboss, as the tenant.
    shown = tenant.console(one, key, f"cairn-guest: ping {address[two]}".encode())
    assert f"cairn-guest: ping {address[two]}" in shown, shown[-2000:]

    # 5. Off: the computes stop; the tenant's frontend (its dnsmasq) stays up.
    off = tenant.cairn("set", "cluster", "power", CLUSTER, "action=off", key, user=NOBODY)
    assert all(vm in off for vm in computes) and f"{CLUSTER} " not in off, off
    states = _state(bed)[1]
    assert all(states[vm] not in ("running", "paused", "unreachable") for vm in computes), states
    pid = (netboot / "dnsmasq.pid").read_text().strip()
    assert tenant.run("kill", "-0", pid).returncode == 0
    assert tenant.space.alive()
