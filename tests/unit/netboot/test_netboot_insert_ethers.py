"""`cairn insert ethers`, Rocks' insert-ethers: a frontend's cairn learns its
computes from their DHCP requests to its own real dnsmasq (in a network
namespace the test makes), or from a `list host macs` listing, adds them with
the next names and addresses, and `sync config` then serves them."""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from dhcpkit import bridge, cairn_in, lease, mac, stop_dnsmasq, sync_config, tftp
from netkit import namespaces

pytestmark = pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq-base missing")


def _frontend(c) -> None:
    c.ok("add", "network", "lab", "subnet=198.18.5.0/24", "dhcp=yes")
    c.ok("add", "host", "fe", "appliance=frontend")
    c.ok("add", "host", "interface", "fe", "br0", "ip=198.18.5.1", "subnet=lab")
    c.ok("add", "bootaction", "install", "kernel=vmlinuz-6.1", "args=console=ttyS0")


def _rows(done) -> list[dict]:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_computes_that_ask_dnsmasq_become_hosts_that_it_then_serves(sqlite_cli):
    c = sqlite_cli
    _frontend(c)
    directory = Path(tempfile.mkdtemp(prefix="cairn-netboot-"))
    directory.chmod(0o755)
    with namespaces() as ns:
        fe, one, two = ns.add("fe"), ns.add("c1"), ns.add("c2")
        bridge(ns, fe, "br0", "198.18.5.1/24", {one: "p1", two: "p2"})
        try:
            assert sync_config(c.url, fe, directory).returncode == 0
            # Nothing asked yet: nothing added.
            first = cairn_in(fe, c.url, "insert", "ethers", f"dir={directory}")
            assert _rows(first) == [] and "no new MAC: nothing added" in first.stderr
            assert lease(one, tries=2) == ""  # unknown: no address, but dnsmasq heard it
            # count=2 waits for the second compute, which asks while it waits.
            asker = threading.Thread(target=lease, args=(two, 2))
            asker.start()
            done = cairn_in(
                fe, c.url, "insert", "ethers", "count=2", "timeout=30", f"dir={directory}"
            )
            asker.join()
            rows = _rows(done)
            assert rows == [
                {"host": "compute-0-0", "mac": mac(one), "ip": "198.18.5.254"},
                {"host": "compute-0-1", "mac": mac(two), "ip": "198.18.5.253"},
            ]
            boots = json.loads(c.ok("list", "host", "boot", "compute-*", "output-format=json"))
            assert {b["action"] for b in boots} == {"install"}
            # Heard again: known now, not added twice.
            assert lease(one, tries=1) == ""
            again = cairn_in(fe, c.url, "insert", "ethers", f"dir={directory}")
            assert _rows(again) == []
            # sync config serves them: an address and the install file.
            assert sync_config(c.url, fe, directory).returncode == 0
            assert lease(one) == "198.18.5.254"
            pxe = tftp(one, "198.18.5.254", "pxelinux.cfg/01-" + mac(one).replace(":", "-"))
            assert "kernel vmlinuz-6.1" in pxe
        finally:
            stop_dnsmasq(directory)


def test_count_not_reached_adds_what_was_heard_and_says_so(sqlite_cli):
    c = sqlite_cli
    _frontend(c)
    directory = Path(tempfile.mkdtemp(prefix="cairn-netboot-"))
    directory.chmod(0o755)
    with namespaces() as ns:
        fe, one = ns.add("fe"), ns.add("c1")
        bridge(ns, fe, "br0", "198.18.5.1/24", {one: "p1"})
        try:
            assert sync_config(c.url, fe, directory).returncode == 0
            assert lease(one, tries=1) == ""
            done = cairn_in(
                fe, c.url, "insert", "ethers", "count=2", "timeout=1", f"dir={directory}"
            )
            assert [r["mac"] for r in _rows(done)] == [mac(one)]
            assert "1 new MAC(s) of the 2 asked for within 1 s" in done.stderr
        finally:
            stop_dnsmasq(directory)


def test_a_listing_adds_the_computes_but_not_this_frontend_nor_known_macs(sqlite_cli):
    """Rocks' `list host macs` output as it is: its header skipped, the
    frontend's own MAC (a device of the namespace it runs in) left out."""
    c = sqlite_cli
    _frontend(c)
    c.ok("add", "host", "old", "appliance=compute", "rack=0", "rank=7")
    c.ok("add", "host", "interface", "old", "eth0", "mac=52:54:00:00:09:07", "subnet=lab")
    with namespaces() as ns:
        fe = ns.add("fe")
        ns.link(fe, "eth0", None, ns.add("x"), "eth0", None)
        own = mac(fe)
        listing = (
            f"MACS IN CLUSTER\n{own.upper()}\n52:54:00:00:09:01\n"
            "52:54:00:00:09:07\n52:54:00:00:09:02  up\n"
        )
        rows = _rows(cairn_in(fe, c.url, "insert", "ethers", f"macs={listing}"))
    assert [(r["host"], r["mac"]) for r in rows] == [
        ("compute-0-8", "52:54:00:00:09:01"),
        ("compute-0-9", "52:54:00:00:09:02"),
    ]


def test_bad_input_is_one_line_and_adds_nothing(sqlite_cli):
    c = sqlite_cli
    _frontend(c)
    c.ok("add", "network", "other", "subnet=198.18.9.0/24", "dhcp=yes")
    before = c.ok("dump")
    for words, says in (
        (
            ("macs=52:54:00:00:09:01",),
            "give network= for the new hosts (networks with DHCP: lab, other)",
        ),
        (("macs=52:54:00:00:09:01", "network=nope"), "no network named 'nope'"),
        (("macs=52:54:00:00:09:01", "network=lab", "appliance=nope"), "no appliance 'nope'"),
        (("network=lab", "basename=a;b", "macs=52:54:00:00:09:01"), "basename="),
        (("network=lab", "count=0"), "count="),
    ):
        done = c("insert", "ethers", *words)
        assert done.code != 0 and says in done.err, (words, done.err)
        assert done.err.count("\n") == 1
    assert c.ok("dump") == before
