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
from netkit import in_ns, ip, namespaces

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


def _boot_file(ns: str, *option: str) -> str:
    """The boot file name DHCP hands a client in `ns` (udhcpc, with `option`s sent)."""
    script = Path(tempfile.mkdtemp()) / "say"
    script.write_text('#!/bin/sh\n[ "$1" = bound ] && echo "boot_file=$boot_file"\n')
    script.chmod(0o755)
    try:
        done = in_ns(ns, "busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "4",
                     "-T", "1", *option, "-s", str(script), check=False)  # fmt: skip
    finally:
        shutil.rmtree(script.parent, ignore_errors=True)
    return next((w[10:] for w in done.stdout.split() if w.startswith("boot_file=")), "")


def _http(ns: str, own: str, url: str, method: str = "GET") -> tuple[int, str]:
    """(status, body) of `url` fetched from `ns` holding address `own`."""
    ip("addr", "add", f"{own}/24", "dev", "eth0", ns=ns)
    code = (
        "import sys, urllib.request, urllib.error\n"
        "req = urllib.request.Request(sys.argv[1], method=sys.argv[2])\n"
        "try:\n"
        "    r = urllib.request.urlopen(req, timeout=10)\n"
        "    print(r.status); print(r.read().decode())\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
    )
    try:
        done = in_ns(ns, "python3", "-c", code, url, method, check=False)
        status, _, body = done.stdout.partition("\n")
        return (int(status) if status.strip().isdigit() else 0), body
    finally:
        ip("addr", "del", f"{own}/24", "dev", "eth0", ns=ns)


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


def test_ipxe_is_sent_to_http_where_its_script_loads_the_kernel_and_nothing_else_is_served(
    served,
):
    c, sync, fe, cl = served.c, served.sync, served.fe, served.cl
    done = sync()
    assert done.returncode == 0, done.stderr
    rows = {r["what"]: r["change"] for r in json.loads(done.stdout)}
    assert rows["http"].startswith("started (pid "), rows
    base = "http://198.18.5.1:4480"
    # iPXE says so in its user class (77): it is handed the HTTP script; others pxelinux.
    assert _boot_file(cl, "-x", "0x4d:69505845") == f"{base}/boot.ipxe"
    assert _boot_file(cl) == "pxelinux.0"
    status, boot = _http(cl, "198.18.5.20", f"{base}/boot.ipxe")
    assert status == 200 and "chain ipxe/01-${netX/mac:hexhyp}" in boot, boot
    mac_ = mac(cl).replace(":", "-")
    status, script = _http(cl, "198.18.5.20", f"{base}/ipxe/01-{mac_}")
    assert status == 200, script
    assert "kernel /vmlinuz-6.1 console=ttyS0\ninitrd /initrd.img\nboot" in script, script
    (served.directory / "tftp" / "vmlinuz-6.1").write_text("the kernel")
    assert _http(cl, "198.18.5.20", f"{base}/vmlinuz-6.1") == (200, "the kernel\n")
    # Read-only, inside the TFTP root only: no way out, no listing, no writes.
    (served.directory / "tftp" / "out").symlink_to("/etc/passwd")
    for path in ("/../dnsmasq.conf", "/%2e%2e/dnsmasq.conf", "/out", "/", "/ipxe/", "/.x"):
        assert _http(cl, "198.18.5.20", base + path)[0] == 404, path
    assert _http(cl, "198.18.5.20", f"{base}/boot.ipxe", "PUT")[0] == 501
    # Listening on the frontend's address on the served network only.
    listening = [line.split()[3] for line in in_ns(fe, "ss", "-Hltn").stdout.splitlines()]
    assert [a for a in listening if a.endswith(":4480")] == ["198.18.5.1:4480"], listening
    # Unsafe args for iPXE: that host keeps pxelinux over TFTP, and the note says why.
    c.ok("set", "host", "boot", "node1", "action=os")
    c.ok("remove", "bootaction", "install")
    c.ok("add", "bootaction", "install", "kernel=vmlinuz-6.1", "args=x=${net0/ip}||shell")
    c.ok("set", "host", "boot", "node1", "action=install")
    done = sync()
    assert "boots with pxelinux over TFTP, not iPXE over HTTP" in done.stderr, done.stderr
    assert _http(cl, "198.18.5.20", f"{base}/ipxe/01-{mac_}")[0] == 404
    assert "x=${net0/ip}||shell" in tftp(cl, "198.18.5.20", f"pxelinux.cfg/01-{mac}")
    # No network to serve: the server ends with dnsmasq.
    c.ok("set", "network", "lab", "dhcp=no")
    rows = {r["what"]: r["change"] for r in json.loads(sync().stdout)}
    assert rows["http"].startswith("stopped (pid "), rows
    assert "4480" not in in_ns(fe, "ss", "-Hltn").stdout


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
