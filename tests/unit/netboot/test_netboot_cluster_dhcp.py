"""dhcp=cluster: a virtual cluster's network served by its own frontend VM.
The frontend's dnsmasq gives it no lease, no PXE file and no TFTP (checked on
the rendered files and on a real dnsmasq in network namespaces), while its
network plan still carries it; the setting is listed, dumped and replayed."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from dhcpkit import bridge, lease, mac, stop_dnsmasq, sync_config, tftp
from netkit import namespaces

VC = ("add", "network", "vc", "subnet=198.18.6.0/24", "isolation=vxlan", "id=6006")


def _fe_with_two_networks(c, *, lab_iface: bool = True) -> None:
    """lab (dhcp=yes) on br0, vc (dhcp=cluster) on br1, a compute on each."""
    c.ok("add", "network", "lab", "subnet=198.18.5.0/24", "bridge=br0", "dhcp=yes")
    c.ok(*VC, "bridge=br1", "carrier=lab", "dhcp=cluster")
    c.ok("add", "host", "fe", "appliance=frontend")
    if lab_iface:
        c.ok("add", "host", "interface", "fe", "br0", "ip=198.18.5.1", "subnet=lab")
    c.ok("add", "host", "interface", "fe", "eth1", "ip=198.18.6.1", "subnet=vc")
    c.ok("add", "bootaction", "install", "kernel=vmlinuz-6.1")


def _compute(c, name: str, mac_: str, ip_: str, net: str) -> None:
    c.ok("add", "host", name, "appliance=compute")
    c.ok("add", "host", "interface", name, "eth0", f"mac={mac_}", f"ip={ip_}", f"subnet={net}")
    c.ok("set", "host", "boot", name, "action=install")


def test_the_files_leave_a_cluster_served_network_to_its_frontend(sqlite_cli, tmp_path):
    c = sqlite_cli
    _fe_with_two_networks(c)
    _compute(c, "n-lab", "52:54:00:00:05:01", "198.18.5.20", "lab")
    _compute(c, "n-vc", "52:54:00:00:06:01", "198.18.6.20", "vc")
    out = c.ok("report", "host", "dhcpd", "frontend=fe", f"dir={tmp_path / 'nb'}")
    assert "interface=br0" in out and "dhcp-range=set:lab," in out
    assert "no-dhcp-interface=br1" in out
    assert "198.18.6." not in out and "set:vc" not in out
    assert "52:54:00:00:06:01" not in out and "01-52-54-00-00-06-01" not in out
    assert "52:54:00:00:05:01,198.18.5.20,n-lab" in out
    rows = {r["network"]: r for r in json.loads(c.ok("list", "network", "output-format=json"))}
    assert rows["vc"]["dhcp"] == "cluster" and rows["lab"]["dhcp"] == "yes"
    # Back to the frontend: served here again.
    c.ok("set", "network", "vc", "dhcp=yes")
    out = c.ok("report", "host", "dhcpd", "frontend=fe", f"dir={tmp_path / 'nb'}")
    assert "52:54:00:00:06:01,198.18.6.20,n-vc" in out and "no-dhcp-interface" not in out
    bad = c("set", "network", "vc", "dhcp=tenant")
    assert bad.code != 0 and "'tenant' is not a boolean" in bad.err


def test_a_row_that_says_both_stays_with_the_cluster(sqlite_cli, tmp_path):
    """dhcp true and dhcp_server cluster, written past cairn: never two DHCP servers."""
    from testkit import write_behind

    c = sqlite_cli
    _fe_with_two_networks(c)
    _compute(c, "n-vc", "52:54:00:00:06:01", "198.18.6.20", "vc")
    write_behind(c.url, "UPDATE networks SET dhcp = 1 WHERE name = 'vc'")
    out = c.ok("report", "host", "dhcpd", "frontend=fe", f"dir={tmp_path / 'nb'}")
    assert "52:54:00:00:06:01" not in out and "no-dhcp-interface=br1" in out


def test_add_cluster_dhcp_cluster_and_the_dump_replays_it(sqlite_example_cluster):
    c = sqlite_example_cluster
    c.ok("add", "host", "interface", "vm-container-0-0", "eth9", "ip=10.1.0.10", "subnet=private")
    c.ok("add", "cluster", "vc", "computes=1", "public=none", "mem=64", "dhcp=cluster")
    rows = {r["network"]: r for r in json.loads(c.ok("list", "network", "output-format=json"))}
    assert rows["vc"]["dhcp"] == "cluster"
    dump = c.ok("dump")
    assert "network=vc" in dump and "dhcp=cluster" in dump
    # The network plan still carries it to the container.
    vm = json.loads(c.ok("list", "host", "vm", "vc-compute-0", "output-format=json"))[0]
    plan = c.ok("sync", "host", "network", vm["container"], "dry-run=yes")
    assert rows["vc"]["bridge"] in plan
    c.ok("remove", "cluster", "vc", "force=yes")
    line = next(x for x in dump.splitlines() if x.startswith("cairn add network network=vc "))
    assert c.line(line.removeprefix("cairn ")).code == 0
    rows = {r["network"]: r for r in json.loads(c.ok("list", "network", "output-format=json"))}
    assert rows["vc"]["dhcp"] == "cluster"


pytestmark_dnsmasq = pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="no dnsmasq")


@pytestmark_dnsmasq
@pytest.mark.parametrize("lab_iface", [True, False], ids=["interface-lines", "every-device"])
def test_a_real_dnsmasq_stays_off_the_cluster_network(sqlite_cli, lab_iface):
    """Clients on lab and on vc; only lab's gets an address. vc's gets no
    lease, and no TFTP from the frontend's address on vc, whether dnsmasq
    listens on named devices or (no frontend interface on lab) on all."""
    c = sqlite_cli
    directory = Path(tempfile.mkdtemp(prefix="cairn-netboot-"))
    directory.chmod(0o755)
    with namespaces() as ns:
        fe, on_lab, on_vc = ns.add("fe"), ns.add("cl"), ns.add("cv")
        bridge(ns, fe, "br0", "198.18.5.1/24", {on_lab: "p1"})
        bridge(ns, fe, "br1", "198.18.6.1/24", {on_vc: "p2"})
        _fe_with_two_networks(c, lab_iface=lab_iface)
        # eth1 is the frontend's interface on vc; its device here is br1 as on a
        # frontend that runs VMs or sits on an isolated network.
        _compute(c, "n-lab", mac(on_lab), "198.18.5.20", "lab")
        _compute(c, "n-vc", mac(on_vc), "198.18.6.20", "vc")
        try:
            done = sync_config(c.url, fe, directory)
            assert done.returncode == 0, done.stderr
            conf = (directory / "dnsmasq.conf").read_text()
            assert "no-dhcp-interface=br1" in conf
            assert ("interface=br0" in conf) is lab_iface
            assert lease(on_lab) == "198.18.5.20"
            assert lease(on_vc, tries=3) == ""
            assert tftp(on_lab, "198.18.5.20", "pxelinux.cfg/default")
            assert tftp(on_vc, "198.18.6.20", "pxelinux.cfg/default", "198.18.6.1") == ""
        finally:
            stop_dnsmasq(directory)
