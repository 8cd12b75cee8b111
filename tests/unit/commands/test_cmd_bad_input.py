"""Bad input: one line `error - ...`, the right exit status, and the database
exactly as it was (compared with `cairn dump` before and after)."""

from __future__ import annotations

import pytest

from testkit import one_error_line

LONG = "a" * 64

# (command line, exit status, a word the message must contain)
CASES = [
    # things that do not exist
    ("list host no-such-host", 1, "no-such-host"),
    ("list host 'nomatch-*'", 1, "nomatch-*"),
    ("set host attr no-such-host colour red", 1, "no-such-host"),
    ("add host x appliance=nope", 1, "nope"),
    ("add host x appliance=compute os=nope", 1, "nope"),
    ("set host appliance compute-0-0 nope", 1, "nope"),
    ("remove appliance nope", 1, "nope"),
    ("remove network nope", 1, "nope"),
    ("remove host no-such-host", 1, "no-such-host"),
    ("remove host compute-0-1 no-such-host", 1, "no-such-host"),
    ("remove host attr compute-0-0 nope", 1, "nope"),
    ("remove attr nope", 1, "nope"),
    ("remove os attr linux nope", 1, "nope"),
    ("remove appliance attr compute nope", 1, "nope"),
    ("remove host interface compute-0-0 eth9", 1, "eth9"),
    ("set host interface compute-0-1 eth0 ip=10.1.0.9", 1, "eth0"),
    ("set host interface compute-0-0 eth0 subnet=nope", 1, "nope"),
    ("add host interface compute-0-1 eth0 subnet=nope", 1, "nope"),
    ("report host attr compute-0-0 attr=nope", 1, "nope"),
    # things that exist already
    ("add host compute-0-0 appliance=compute", 1, "compute-0-0"),
    ("add appliance compute", 1, "compute"),
    ("add os linux", 1, "linux"),
    ("add attr kvm_connection qemu:///system", 1, "kvm_connection"),
    ("add appliance attr compute kvm_autostart true", 1, "kvm_autostart"),
    ("add host attr compute-0-0 kvm_autostart false", 1, "kvm_autostart"),
    ("add network private", 1, "private"),
    ("add host interface compute-0-0 eth0", 1, "eth0"),
    # invalid names and values
    ("add host Bad_Name appliance=compute", 2, "Bad_Name"),
    ("add host -x appliance=compute", 2, "-x"),
    ("add host x- appliance=compute", 2, "x-"),
    (f"add host {LONG} appliance=compute", 2, LONG),
    ("add host a.b appliance=compute", 2, "a.b"),
    ("add appliance 'bad name'", 2, "bad name"),
    ("add appliance gpu kvm=maybe", 2, "maybe"),
    ("set host attr compute-0-0 kvm maybe", 1, "maybe"),
    ("set attr kvm_autostart perhaps", 1, "perhaps"),
    ("set host attr compute-0-0 rack 3", 1, "rack"),
    ("set appliance attr compute hostname x", 1, "hostname"),
    ("set host cpus compute-0-0 0", 2, "0"),
    ("set host cpus compute-0-0 many", 2, "many"),
    ("set host rank compute-0-0 -1", 2, "-1"),
    ("add host interface compute-0-1 eth0 mac=52:54:00:00:00", 2, "52:54:00:00:00"),
    ("add host interface compute-0-1 eth0 mac=52:54:00:00:00:0g", 2, "0g"),
    ("add host interface compute-0-1 eth0 ip=10.1.255.256", 2, "10.1.255.256"),
    ("add host interface compute-0-1 eth0 ip=nope", 2, "nope"),
    ("add host interface compute-0-1 eth0 vlan=0", 2, "0"),
    ("add host interface compute-0-1 eth0 vlan=4095", 2, "4095"),
    ("add host interface compute-0-1 eth0 vlan=x", 2, "x"),
    ("add host interface compute-0-1 'eth0\n'", 2, "eth0"),
    ("add host interface compute-0-1 averyveryverylongname", 2, "averyveryverylongname"),
    ("add network lab subnet=10.3.0.1/16", 1, "10.3.0.1"),
    ("add network lab subnet=10.3.0.0/33", 1, "10.3.0.0"),
    ("add network lab subnet=nonsense", 1, "nonsense"),
    ("add network lab subnet=10.3.0.0 netmask=255.0.255.0", 1, "255.0.255.0"),
    # duplicate MAC across hosts, in any spelling
    ("add host interface compute-0-1 eth0 mac=52:54:00:00:00:01", 1, "52:54:00:00:00:01"),
    ("add host interface compute-0-1 eth0 mac=52-54-00-00-00-01", 1, "52:54:00:00:00:01"),
    ("add host interface vm-container-0-0 eth0 mac=52:54:00:00:00:01", 1, "compute-0-0"),
    # in use
    ("remove appliance compute", 1, "compute"),
    ("remove appliance login compute", 1, "compute"),
    ("remove network private", 1, "private"),
    ("remove network storage private", 1, "private"),
    # usage
    ("add host x", 2, "appliance="),
    ("set host attr compute-0-0 colour", 2, "VALUE"),
    ("add host x appliance=compute colour=red", 2, "colour"),
    ("add host x appliance=compute rack=1 rack=2", 2, "rack"),
    ("add host x y appliance=compute", 2, "y"),
    ("lst host", 2, "list host"),
    ("set host", 2, "set host attr"),
    # all-or-nothing over several hosts: the first write succeeds, a later one fails
    ("set host attr 'compute-*' kvm maybe", 1, "maybe"),
    ("remove host attr 'compute-*' kvm_autostart", 1, "compute-0-1"),
    ("add host interface 'compute-*' eth1 mac=52:54:00:00:00:77", 1, "52:54:00:00:00:77"),
    ("add host interface 'compute-*' eth0", 1, "eth0"),
]


def check_refused(cli, line: str, code: int, word: str) -> None:
    before = cli.dump()
    result = cli.line("cairn " + line)
    assert result.code == code, result.err
    assert result.out == ""
    assert word in one_error_line(result.err)
    assert cli.dump() == before


REFUSED = [c for c in CASES if c[1] == 1]
USAGE = [c for c in CASES if c[1] == 2]


@pytest.mark.parametrize(("line", "code", "word"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_change_leaves_the_database_as_it_was(example_cluster, line, code, word):
    check_refused(example_cluster, line, code, word)


# Usage errors are found before the database is opened, so one backend is enough.
@pytest.mark.parametrize(("line", "code", "word"), USAGE, ids=[c[0] for c in USAGE])
def test_usage_error_leaves_the_database_as_it_was(sqlite_example_cluster, line, code, word):
    check_refused(sqlite_example_cluster, line, code, word)


def test_glob_add_fails_on_the_second_host_and_stores_nothing(example_cluster):
    c = example_cluster
    c.ok("set", "host", "attr", "compute-0-1", "colour", "red")
    before = c.dump()
    r = c("add", "host", "attr", "compute-*", "colour", "blue")
    assert r.code == 1
    assert "compute-0-1" in one_error_line(r.err)
    assert c.dump() == before
    assert c.ok("list", "host", "attr", "compute-0-0", "attr=colour", "output-header=no") == ""


def test_glob_set_of_a_bad_value_stores_nothing_for_any_host(example_cluster):
    c = example_cluster
    r = c("set", "host", "attr", "compute-*", "kvm", "maybe")
    assert r.code == 1
    out = c.ok("list", "host", "attr", "compute-*", "attr=kvm", "output-header=no")
    assert out == ""


def test_remove_host_with_interfaces_and_attributes_leaves_nothing_behind(example_cluster):
    c = example_cluster
    c.ok("remove", "host", "compute-0-0")
    dumped = c.dump()
    assert "compute-0-0" not in dumped
    # Its MAC is free again, so another host may take it.
    c.ok("add", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:01")
