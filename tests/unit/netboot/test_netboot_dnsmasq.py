"""DHCP and PXE from the database, served by a real dnsmasq in a network
namespace the test makes: a client namespace gets its database address by DHCP
(busybox udhcpc) and fetches its PXE file by TFTP; `os` is sent to its disk;
a reload serves a new host; a held port, a stray dnsmasq and a configuration
dnsmasq cannot run are each one clear error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from dhcpkit import bridge, lease, mac, stop_dnsmasq, sync_config, tftp
from netkit import namespaces

pytestmark = pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq-base missing")


@pytest.fixture
def served(sqlite_cli):
    directory = Path(tempfile.mkdtemp(prefix="cairn-netboot-"))
    directory.chmod(0o755)
    with namespaces() as ns:
        fe, cl, cl2 = ns.add("fe"), ns.add("cl"), ns.add("cx")
        bridge(ns, fe, "br0", "198.18.5.1/24", {cl: "p1", cl2: "p2"})
        c = sqlite_cli
        c.ok("add", "network", "lab", "subnet=198.18.5.0/24", "dhcp=yes")
        c.ok("add", "host", "fe", "appliance=frontend")
        c.ok("add", "host", "interface", "fe", "br0", "ip=198.18.5.1", "subnet=lab")
        c.ok("add", "host", "node1", "appliance=compute")
        c.ok(
            "add",
            "host",
            "interface",
            "node1",
            "eth0",
            f"mac={mac(cl)}",
            "ip=198.18.5.20",
            "subnet=lab",
        )
        c.ok(
            "add",
            "bootaction",
            "install",
            "kernel=vmlinuz-6.1",
            "ramdisk=initrd.img",
            "args=console=ttyS0",
        )
        c.ok("set", "host", "boot", "node1", "action=install")

        def sync(*extra: str) -> subprocess.CompletedProcess[str]:
            return sync_config(c.url, fe, directory, *extra)

        try:
            yield SimpleNamespace(c=c, sync=sync, fe=fe, cl=cl, cl2=cl2, directory=directory)
        finally:
            stop_dnsmasq(directory)


def test_a_known_mac_gets_its_address_and_its_install_kernel(served):
    _c, sync, cl, cl2 = served.c, served.sync, served.cl, served.cl2
    done = sync()
    assert done.returncode == 0, done.stderr
    rows = {r["what"]: r["change"] for r in json.loads(done.stdout)}
    assert rows["dnsmasq"].startswith("started (pid ")
    assert lease(cl) == "198.18.5.20"
    pxe = tftp(cl, "198.18.5.20", "pxelinux.cfg/01-" + mac(cl).replace(":", "-"))
    assert "kernel vmlinuz-6.1" in pxe and "append initrd=initrd.img console=ttyS0" in pxe
    assert tftp(cl, "198.18.5.20", "pxelinux.0").startswith("")  # served at all
    # No range: an unknown MAC gets nothing.
    assert lease(cl2) == ""
    # The same again: nothing written, dnsmasq reloaded, not restarted.
    again = {r["what"]: r["change"] for r in json.loads(sync().stdout)}
    assert again["files"] == "unchanged" and again["dnsmasq"].startswith("reloaded")


def test_os_is_not_served_a_kernel_and_a_reload_serves_new_hosts(served):
    c, sync, cl, cl2 = served.c, served.sync, served.cl, served.cl2
    assert sync().returncode == 0
    c.ok("set", "host", "boot", "node1", "action=os")
    c.ok("add", "host", "node2", "appliance=compute")
    c.ok(
        "add",
        "host",
        "interface",
        "node2",
        "eth0",
        f"mac={mac(cl2)}",
        "ip=198.18.5.21",
        "subnet=lab",
    )
    rows = {r["what"]: r["change"] for r in json.loads(sync().stdout)}
    assert rows["dnsmasq"].startswith("reloaded")
    assert lease(cl2) == "198.18.5.21"
    pxe = tftp(cl, "198.18.5.20", "pxelinux.cfg/01-" + mac(cl).replace(":", "-"))
    assert "localboot 0" in pxe and "kernel" not in pxe


def test_a_range_serves_unknown_macs_after_a_restart(served):
    c, sync, _cl, cl2 = served.c, served.sync, served.cl, served.cl2
    assert sync().returncode == 0
    c.ok("set", "network", "lab", "range=198.18.5.100-198.18.5.110")
    rows = {r["what"]: r["change"] for r in json.loads(sync().stdout)}
    assert rows["dnsmasq"].startswith("restarted")
    got = lease(cl2)
    assert got.startswith("198.18.5.1") and 100 <= int(got.rsplit(".", 1)[1]) <= 110


def test_an_ipv6_dhcp_network_beside_is_skipped_not_a_crash(served):
    c, sync, cl = served.c, served.sync, served.cl
    c.ok("add", "network", "six", "subnet=fd00:5::/64", "dhcp=yes")
    c.ok("add", "host", "node6", "appliance=compute")
    c.ok("add", "host", "interface", "node6", "eth0", "mac=52:54:00:00:06:01", "ip=fd00:5::6")
    c.ok("set", "host", "interface", "subnet", "node6", "eth0", "six")
    done = sync()
    assert done.returncode == 0, done.stderr
    assert "network six is IPv6: cairn serves DHCPv4 only; skipped" in done.stderr
    assert lease(cl) == "198.18.5.20"


def test_a_held_port_is_one_clear_error(served):
    _c, sync, fe = served.c, served.sync, served.fe
    holder = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            fe,
            "python3",
            "-c",
            "import socket,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
            " s.bind(('0.0.0.0', 67)); print('ok', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        done = sync()
        assert done.returncode == 1
        assert done.stderr.startswith("error - port 67 (DHCP) is in use by python3 (pid "), (
            done.stderr
        )
        assert done.stderr.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()


def test_a_dnsmasq_cairn_did_not_start_is_refused(served):
    _c, sync, _cl, _cl2 = served.c, served.sync, served.cl, served.cl2
    directory = served.directory
    assert sync().returncode == 0
    pid_file = directory / "dnsmasq.pid"
    ours = int(pid_file.read_text())
    pid_file.unlink()  # cairn no longer knows it: a stray dnsmasq runs its file
    try:
        done = sync()
        assert done.returncode == 1
        assert (
            f"a dnsmasq that cairn did not start already runs {directory}/dnsmasq.conf (pid {ours})"
            in done.stderr
        )
    finally:
        os.kill(ours, 15)


def test_a_configuration_dnsmasq_refuses_changes_nothing(served):
    """cairn's own values cannot make a bad file; a damaged one (here: a line
    dnsmasq does not know) is refused before anything is written or signalled."""
    from cairn.errors import CairnError
    from cairn.netboot import dnsmasq

    _c, sync, _fe = served.c, served.sync, served.fe
    assert sync().returncode == 0
    conf = directory_conf = served.directory / "dnsmasq.conf"
    good = conf.read_text()
    pid = (served.directory / "dnsmasq.pid").read_text()
    texts = {"dnsmasq.conf": good + "no-such-option=1\n", "dhcp-hosts": ""}
    with pytest.raises(CairnError) as caught:
        dnsmasq.apply(served.directory, texts, serve=True)
    message = str(caught.value)
    assert message.startswith("dnsmasq refuses the configuration") and "no-such-option" in message
    assert "\n" not in message
    assert directory_conf.read_text() == good
    assert (served.directory / "dnsmasq.pid").read_text() == pid


def test_the_files_are_made_from_the_database_only(sqlite_cli):
    c = sqlite_cli
    c.ok("add", "network", "lab", "subnet=198.18.5.0/24", "dhcp=yes")
    c.ok("add", "host", "n1", "appliance=compute")
    c.ok(
        "add",
        "host",
        "interface",
        "n1",
        "eth0",
        "mac=52:54:00:00:00:aa",
        "ip=198.18.5.9",
        "subnet=lab",
    )
    out = c.ok("report", "host", "dhcpd", f"dir=/tmp/x{uuid.uuid4().hex[:4]}")
    assert "52:54:00:00:00:aa,198.18.5.9,n1" in out
    assert "dhcp-range=set:lab,198.18.5.0,static,255.255.255.0,12h" in out
    bad = c("add", "bootaction", "evil", "kernel=../../etc/shadow")
    assert bad.code == 1 and "is not a path under the TFTP root" in bad.err
    bad = c("add", "bootaction", "evil", "kernel=k", "args=a\nkernel /x")
    assert bad.code == 1 and "one line of printable text" in bad.err
