"""`report host`: /etc/hosts lines from the database, one name per address."""

from __future__ import annotations

from cairn.inventory.hostsfile import HEADER, Address, lines


def test_the_first_interface_carries_the_name_and_the_others_their_own():
    got = lines(
        ["fe", "vm-container-0-0", "bare"],
        [
            Address("vm-container-0-0", "eth10", "10.2.0.10"),
            Address("vm-container-0-0", "eth2", "198.18.0.10"),
            Address("fe", "eth0", "198.18.0.1"),
        ],
    )
    assert got[len(HEADER) :] == [
        "198.18.0.1\tfe",
        "198.18.0.10\tvm-container-0-0",
        "10.2.0.10\tvm-container-0-0-eth10",
    ]


def test_values_that_would_add_fields_or_lines_are_left_out():
    got = lines(
        ["h", "bad name", "x\ny"],
        [
            Address("h", "eth0", "10.0.0.1 evil"),
            Address("h", "eth1", "10.0.0.2"),
            Address("h", "eth 2", "10.0.0.3"),
            Address("bad name", "eth0", "10.0.0.4"),
            Address("x\ny", "eth0", "10.0.0.5"),
        ],
    )
    assert got[len(HEADER) :] == ["10.0.0.2\th"]


def test_the_command_prints_them(sqlite_cli):
    sqlite_cli.ok("set", "network", "private", "subnet=198.18.0.0/15")
    sqlite_cli.ok("add", "host", "vm-container-0-0", "appliance=vm-container")
    sqlite_cli.ok(
        "add", "host", "interface", "vm-container-0-0", "eth0", "ip=198.18.0.10", "subnet=private"
    )
    out = sqlite_cli.ok("report", "host", "vm-container-*")
    assert out.splitlines() == [*HEADER, "198.18.0.10\tvm-container-0-0"]
