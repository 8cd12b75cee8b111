"""VMs as cluster nodes on the testbed (tests/testbed.py), with real guests that
boot from the network: the proof of issue 9.

One setup for the module: two isolated VXLAN networks (tb-neta, tb-netb) and a
virtual cluster's own (tb-vc), all carried over the private network and served
DHCP by the testbed's frontend. The frontend joins each of them the way cairn
plans it (an interface on each in the database, then `cairn sync host network`
run on the frontend and on every container), and `cairn sync config` starts
dnsmasq in the frontend's namespace from the database: fixed leases, pxelinux
and a PXE file and an iPXE script per MAC, and the boot HTTP server. The guest
of scripts/guest.sh is the TFTP root's kernel and initramfs of the boot
actions.

Every VM here boots as cairn made it, network first (the testbed's preboot
plugin leaves VMs with a boot alone): QEMU's iPXE ROM asks DHCP, is handed
boot.ipxe on the frontend's HTTP server, chains its MAC's script and, for
`install`, loads the guest's kernel and initrd over HTTP (no TFTP, no
pxelinux); the guest asks DHCP again (busybox udhcpc), says its
address on the serial console and pings the peers its boot action names,
saying each result.

The guests:
- tb-pxe-a1 (container 0) and tb-pxe-a2 (container 1) on tb-neta: they ping
  each other; a2 then moves live to container 3 and they still do;
- tb-pxe-b1 (container 2) on tb-netb: it pings the frontend's address there
  (it passes), and from probe addresses it holds inside tb-neta's and tb-vc's
  subnets it pings a1, a2 and the cluster's computes, which must fail: on a
  shared layer 2 those would answer;
- tb-pxe-os, boot os: served the script saying boot from the disk, and no
  kernel;
- the cluster tb-vc (`add cluster tb-vc computes=2`): its computes PXE-boot
  from the physical frontend serving tb-vc and ping each other.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import bedlog
import pxekit
import testbed as tb
import testkit
from pxekit import BASE_ARGS, GUEST

pytestmark = pytest.mark.system

BOOT = 420.0  # bounds a PXE boot of three at once on 2 loaded cores (TCG)
NET_A, NET_B, CLUSTER = "tb-neta", "tb-netb", "tb-vc"
SUB_A, SUB_B, SUB_VC = "198.19.1.0/24", "198.19.2.0/24", "198.19.3.0/24"
FE_A, FE_B, FE_VC = "198.19.1.1", "198.19.2.1", "198.19.3.254"
A1, A2, B1, OS_IP = "198.19.1.11", "198.19.1.12", "198.19.2.11", "198.19.1.13"
PROBE_A, PROBE_VC = "198.19.1.200/24", "198.19.3.200/24"


def wait_for(condition: Any, what: Any, timeout: float = BOOT) -> Any:
    return testkit.wait_for(condition, what, timeout, every=0.5)


@dataclass
class Netboot:
    bed: tb.Testbed
    dir: Path  # where sync config writes (the frontend sees the same path)
    where: dict[str, str]  # VM -> container
    marks: dict[str, int]  # VM -> a point in its console (see `pinging`)
    began: float = 0.0  # when the module set up (the logs written since tell, on a failure)

    def console(self, vm: str) -> Path:
        return self.bed.console(self.where[vm], vm)

    def text(self, vm: str) -> str:
        """Its serial console, without the firmware's terminal escapes."""
        return pxekit.console_text(self.console(vm))

    def log(self) -> str:
        return (self.dir / "dnsmasq.log").read_text(errors="replace")

    def http_log(self) -> str:
        return (self.dir / "http.log").read_text(errors="replace")[-2000:]

    def script(self, vm: str) -> str:
        """Its iPXE script's name (01-aa-bb-..., as pxelinux names its file)."""
        rows = self.bed.cairn("list", "host", "interface", vm, "output-format=json").stdout
        return "01-" + json.loads(rows)[0]["mac"].lower().replace(":", "-")

    def locate(self) -> None:
        listed = self.bed.cairn("list", "host", "vm", "tb-*", "output-format=json").stdout
        self.where = {r["vm-host"]: r["container"] for r in json.loads(listed)}

    def wait_up(self, vm: str, ip: str) -> None:
        line = f"cairn-guest: up, address {ip}/24"
        wait_for(lambda: line in self.text(vm), lambda: self.said(vm, line))

    def said(self, vm: str, line: str, after: int = 0) -> str:
        """What a wait for `line` on `vm`'s console says when its time is up: the
        console then, the netboot servers' logs and the testbed's state."""
        return "\n".join(
            [
                f"{vm} to say {line!r}; its console past {after}:",
                self.text(vm)[after:][-2000:] or "(nothing)",
                "-- dnsmasq:",
                self.log()[-1500:] if (self.dir / "dnsmasq.log").exists() else "(no log)",
                "-- http:",
                self.http_log() if (self.dir / "http.log").exists() else "(no log)",
                bedlog.report(self.bed, self.began),
            ]
        )

    def wait_ping(self, vm: str, target: str, result: str, after: int = 0) -> None:
        """Wait for `vm` to say `ping TARGET RESULT` past character `after` of its console."""
        line = f"cairn-guest: ping {target} {result}"
        wait_for(lambda: line in self.text(vm)[after:], lambda: self.said(vm, line, after))


def _networks_and_vms(bed: tb.Testbed) -> None:
    fe = tb.FRONTEND
    c = [tb.container_name(i) for i in range(4)]
    kernel, initrd = pxekit.KERNEL, pxekit.RAMDISK
    bed.cairn_batch(
        [
            ["add", "network", NET_A, f"subnet={SUB_A}", "isolation=vxlan", "id=901", "dhcp=yes"],
            ["add", "network", NET_B, f"subnet={SUB_B}", "isolation=vxlan", "id=902", "dhcp=yes"],
            ["add", "host", "interface", fe, "vxa", f"ip={FE_A}", f"subnet={NET_A}"],
            ["add", "host", "interface", fe, "vxb", f"ip={FE_B}", f"subnet={NET_B}"],
            ["add", "host", "vm", c[0], "name=tb-pxe-a1", "mem=128", "disksize=1",
             f"subnet={NET_A}", f"ip={A1}"],
            ["add", "host", "vm", c[1], "name=tb-pxe-a2", "mem=128", "disksize=1",
             f"subnet={NET_A}", f"ip={A2}"],
            ["add", "host", "vm", c[2], "name=tb-pxe-b1", "mem=128", "disksize=1",
             f"subnet={NET_B}", f"ip={B1}"],
            ["add", "host", "vm", c[3], "name=tb-pxe-os", "mem=128", "disksize=1",
             f"subnet={NET_A}", f"ip={OS_IP}"],
            ["add", "cluster", CLUSTER, "computes=2", f"subnet={SUB_VC}", "public=none",
             "mem=128", "id=903"],
            ["add", "host", "interface", fe, "vxc", f"ip={FE_VC}", f"subnet={CLUSTER}"],
            ["set", "host", "boot", "tb-pxe-a*", "action=install"],
            ["set", "host", "boot", "tb-pxe-b1", "action=install"],
            ["set", "host", "boot", "tb-pxe-os", "action=os"],
        ]
    )  # fmt: skip
    rows = json.loads(bed.cairn("list", "host", "interface", "output-format=json").stdout)
    computes = sorted(r["ip"] for r in rows if r["host"].startswith(f"{CLUSTER}-compute-"))
    assert len(computes) == 2, rows
    pings_a = f"cairn.ping={A1},{A2}"
    pings_b = f"cairn.alias={PROBE_A},{PROBE_VC} cairn.ping={FE_B},{A1},{A2},{','.join(computes)}"
    bed.cairn_batch(
        [
            # `install`, the default installaction: what the cluster's computes boot.
            ["add", "bootaction", "install", kernel, initrd,
             f"args={BASE_ARGS} cairn.ping={','.join(computes)}"],
            ["add", "bootaction", "tb-guest-a", kernel, initrd, f"args={BASE_ARGS} {pings_a}"],
            ["add", "bootaction", "tb-guest-b", kernel, initrd, f"args={BASE_ARGS} {pings_b}"],
            ["set", "host", "attr", "tb-pxe-a*", "installaction", "tb-guest-a"],
            ["set", "host", "attr", "tb-pxe-b1", "installaction", "tb-guest-b"],
        ]
    )  # fmt: skip


def _undo(bed: tb.Testbed, netboot_dir: Path) -> None:
    """Leave the testbed as the other system tests expect it."""
    pxekit.stop_dnsmasq(bed, netboot_dir)
    bed.forget_vms("tb-*")
    for words in (
        ["remove", "cluster", CLUSTER, "force=yes"],
        ["remove", "host", "interface", tb.FRONTEND, "vxa"],
        ["remove", "host", "interface", tb.FRONTEND, "vxb"],
        ["remove", "host", "interface", tb.FRONTEND, "vxc"],
        ["remove", "network", NET_A],
        ["remove", "network", NET_B],
        ["remove", "network", CLUSTER],
        ["remove", "bootaction", "install"],
        ["remove", "bootaction", "tb-guest-a"],
        ["remove", "bootaction", "tb-guest-b"],
    ):
        bed.cairn(*words, check=False)
    for space in [bed.frontend, *bed.containers]:
        space.sh(
            "for d in br-vx901 br-vx902 br-vx903 vx901 vx902 vx903; do"
            ' ip link del "$d" 2>/dev/null || true; done'
        )


@pytest.fixture(scope="module")
def netboot(_testbed: tb.Testbed) -> Iterator[Netboot]:
    bed = _testbed
    directory = bed.root / "netboot"
    began = time.time()
    try:
        _networks_and_vms(bed)
        # The frontend and each container apply their own network plan, there.
        for part, said in pxekit.sync_networks(bed).items():
            assert "vx901" in said, (part, said)  # each joins tb-neta, the frontend included
        for part, said in pxekit.sync_networks(bed).items():
            assert "nothing to change" in said and "vx9" not in said, (part, said)
        said = pxekit.serve(bed, directory)
        assert "started" in said, said
        nb = Netboot(bed, directory, {}, {}, began)
        nb.locate()
        yield nb
    finally:
        _undo(bed, directory)


@pytest.fixture(scope="module")
def pinging(netboot: Netboot) -> Netboot:
    """a1, a2 and b1 started at once (one `start host vm`), each up with its lease;
    `marks`: where each console stood once all were up (before then a ping may be
    answered by a peer's iPXE, which answers ping: the firmware, not the guest)."""
    netboot.bed.cairn("start", "host", "vm", "tb-pxe-a1", "tb-pxe-a2", "tb-pxe-b1")
    for vm, ip in (("tb-pxe-a1", A1), ("tb-pxe-a2", A2), ("tb-pxe-b1", B1)):
        netboot.wait_up(vm, ip)
    netboot.marks = {vm: len(netboot.text(vm)) for vm in ("tb-pxe-a1", "tb-pxe-a2", "tb-pxe-b1")}
    return netboot


def test_two_vms_on_an_isolated_network_pxe_boot_get_their_addresses_and_ping_each_other(
    pinging: Netboot,
) -> None:
    nb = pinging
    assert nb.where["tb-pxe-a1"] != nb.where["tb-pxe-a2"]
    for vm, ip in (("tb-pxe-a1", A1), ("tb-pxe-a2", A2)):
        # Booted from the network: no kernel in its domain; the frontend's HTTP server
        # sent iPXE boot.ipxe, its MAC's script and the guest (TFTP sent nothing); DHCP
        # gave it the database's address.
        xml = nb.bed.container(nb.where[vm]).run("virsh", "dumpxml", vm).stdout
        assert "<kernel>" not in xml and "<boot dev='network'/>" in xml, xml
        log = nb.log()
        for path in ("/boot.ipxe", f"/ipxe/{nb.script(vm)}", f"/{GUEST}/vmlinuz"):
            assert pxekit.fetched(nb.dir, ip, path), (path, nb.http_log())
        assert pxekit.fetched(nb.dir, ip, f"/{GUEST}/initrd.gz"), nb.http_log()
        assert f"to {ip}" not in "".join(ln for ln in log.splitlines(True) if " sent " in ln)
        assert re.search(rf"DHCPACK\(br-vx901\) {re.escape(ip)} \S+ {vm}\n", log), log
        assert "iPXE" in nb.text(vm) and "PXELINUX" not in nb.text(vm)
    nb.wait_ping("tb-pxe-a1", A2, "ok", nb.marks["tb-pxe-a1"])
    nb.wait_ping("tb-pxe-a2", A1, "ok", nb.marks["tb-pxe-a2"])


def test_a_vm_on_another_isolated_network_cannot_reach_them(pinging: Netboot) -> None:
    nb = pinging
    vm = "tb-pxe-b1"
    nb.wait_ping("tb-pxe-a1", A2, "ok", nb.marks["tb-pxe-a1"])
    nb.wait_ping("tb-pxe-a2", A1, "ok", nb.marks["tb-pxe-a2"])
    # a1 and a2 answer each other now; from here on b1 must fail to reach them.
    mark = len(nb.text(vm))
    nb.wait_ping(vm, FE_B, "ok", mark)  # the control: its own network works
    nb.wait_ping(vm, A1, "fail", mark)
    nb.wait_ping(vm, A2, "fail", mark)
    text = nb.text(vm)
    # It held an address inside tb-neta's subnet: with one layer 2 they would answer.
    assert f"cairn-guest: also address {PROBE_A}" in text, text[-2000:]
    assert f"ping {A1} ok" not in text and f"ping {A2} ok" not in text, text[-2000:]


def test_after_a_live_move_to_a_third_container_they_still_ping_each_other(
    pinging: Netboot,
) -> None:
    nb = pinging
    vm, dest = "tb-pxe-a2", tb.container_name(3)
    assert nb.where[vm] != dest and nb.where["tb-pxe-a1"] != dest
    moved = nb.bed.cairn("move", "host", "vm", vm, dest, "copy-storage=yes")
    assert f"migrated to {dest}" in moved.stdout  # paused: a TCG guest (move.py)
    nb.locate()
    assert nb.where[vm] == dest
    mark = len(nb.text("tb-pxe-a1"))
    # The same guest (it did not boot again) pings a1 from the third container, and back.
    nb.wait_ping(vm, A1, "ok")
    assert "cairn-guest: up," not in nb.text(vm)
    nb.wait_ping("tb-pxe-a1", A2, "ok", mark)
    # No answer lost for good: the last word of each about the other is ok.
    nb.wait_ping("tb-pxe-a1", A2, "ok", len(nb.text("tb-pxe-a1")))


def test_a_vm_whose_boot_is_os_is_not_served_a_kernel(netboot: Netboot) -> None:
    nb = netboot
    vm = "tb-pxe-os"
    name = nb.script(vm)
    rendered = (nb.dir / "tftp" / "pxelinux.cfg" / name).read_text()
    assert "localboot 0" in rendered and "kernel" not in rendered, rendered
    script = (nb.dir / "tftp" / "ipxe" / name).read_text()
    assert "exit" in script and "kernel" not in script, script
    nb.bed.cairn("start", "host", "vm", vm)
    try:
        # It asks: DHCP answers, iPXE fetches its script over HTTP and goes to the disk.
        wait_for(
            lambda: pxekit.fetched(nb.dir, OS_IP, f"/ipxe/{name}"),
            f"the frontend to send {name} to {vm}:\n{nb.http_log()}",
        )
        wait_for(
            lambda: "cairn: boot from the local disk" in nb.text(vm),
            f"iPXE on {vm} to boot from the disk:\n{nb.text(vm)[-2000:]}",
        )
        assert not pxekit.fetched(nb.dir, OS_IP, f"/{GUEST}/vmlinuz")
        assert not pxekit.fetched(nb.dir, OS_IP, f"/{GUEST}/initrd.gz")
        assert "cairn-guest" not in nb.text(vm)
    finally:
        nb.bed.cairn("stop", "host", "vm", vm, "action=poweroff", check=False)


def test_a_virtual_cluster_pxe_boots_its_computes_which_only_reach_each_other(
    pinging: Netboot,
) -> None:
    nb = pinging
    listed = json.loads(nb.bed.cairn("list", "cluster", "output-format=json").stdout)
    roles = sorted((r["cluster"], r["role"], r["host"]) for r in listed)
    assert roles == [
        (CLUSTER, "compute", f"{CLUSTER}-compute-0"),
        (CLUSTER, "compute", f"{CLUSTER}-compute-1"),
        (CLUSTER, "frontend", CLUSTER),
    ], listed
    nb.bed.cairn("start", "cluster", CLUSTER)
    try:
        computes = sorted(v for v in nb.where if v.startswith(f"{CLUSTER}-compute-"))
        ips = json.loads(
            nb.bed.cairn("list", "host", "interface", *computes, "output-format=json").stdout
        )
        address = {r["host"]: r["ip"] for r in ips}
        # Spread by the allocation rule (most free memory) over the containers.
        assert nb.where[computes[0]] != nb.where[computes[1]], nb.where
        for vm in computes:
            nb.wait_up(vm, address[vm])
            assert pxekit.fetched(nb.dir, address[vm], f"/{GUEST}/vmlinuz"), nb.http_log()
        one, two = computes
        # Both up: answers from here on are the guests', not iPXE's.
        marks = {vm: len(nb.text(vm)) for vm in computes}
        nb.wait_ping(one, address[two], "ok", marks[one])
        nb.wait_ping(two, address[one], "ok", marks[two])
        # From outside the cluster's network (b1 on tb-netb, with a probe address
        # in the cluster's subnet) nothing reaches them while they answer each other.
        mark = len(nb.text("tb-pxe-b1"))
        for vm in computes:
            nb.wait_ping("tb-pxe-b1", address[vm], "fail", mark)
        text = nb.text("tb-pxe-b1")
        assert f"cairn-guest: also address {PROBE_VC}" in text
        assert not any(f"ping {address[vm]} ok" in text for vm in computes), text[-2000:]
    finally:
        nb.bed.cairn("stop", "cluster", CLUSTER, "action=poweroff", check=False)
