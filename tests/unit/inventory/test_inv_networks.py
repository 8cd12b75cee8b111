"""Inventory: networks and host interfaces."""

from __future__ import annotations

import pytest

from testkit import one_error_line, table


def nets(cli) -> dict[str, tuple]:
    return {
        r["network"]: (r["subnet"], r["netmask"], r["bridge"])
        for r in table(cli, "list", "network")
    }


def ifaces(cli, *hosts: str) -> list[tuple]:
    return [
        (r["host"], r["iface"], r["mac"], r["ip"], r["subnet"], r["vlan"])
        for r in table(cli, "list", "host", "interface", *hosts)
    ]


def test_example_networks(example_cluster):
    got = nets(example_cluster)
    assert got == {
        "private": ("10.1.0.0", "255.255.0.0", "br0"),
        "storage": ("10.2.0.0", "255.255.0.0", None),
        "public": (None, None, "br-public"),  # Rocks' networks are in every new database
    }
    out = example_cluster.ok("list", "network", "output-header=no")
    first = out.splitlines()[0].split()
    assert first[:4] == ["private", "10.1.0.0", "255.255.0.0", "br0"]


@pytest.mark.parametrize(
    "params",
    [
        ["subnet=10.3.0.0/24"],
        ["subnet=10.3.0.0", "netmask=255.255.255.0"],
        ["subnet=10.3.0.0/255.255.255.0"],
    ],
)
def test_add_network_prefix_or_netmask(example_cluster, params):
    example_cluster.ok("add", "network", "lab", *params, "bridge=br-lab")
    assert nets(example_cluster)["lab"] == ("10.3.0.0", "255.255.255.0", "br-lab")


def test_add_network_without_subnet(example_cluster):
    example_cluster.ok("add", "network", "user")
    assert nets(example_cluster)["user"] == (None, None, None)


def test_remove_network(example_cluster):
    example_cluster.ok("remove", "network", "storage")
    assert set(nets(example_cluster)) == {"private", "public"}
    example_cluster.ok("remove", "host", "interface", "compute-0-0", "eth0")
    example_cluster.ok("remove", "network", "private")  # no longer in use
    assert set(nets(example_cluster)) == {"public"}


def test_example_interface(example_cluster):
    assert ifaces(example_cluster) == [
        ("compute-0-0", "eth0", "52:54:00:00:00:01", "10.1.255.254", "private", None)
    ]


def test_add_list_set_remove_interface(example_cluster):
    c = example_cluster
    c.ok("add", "network", "v12", "isolation=vlan", "id=12")  # carried on private
    c.ok(
        "add",
        "host",
        "interface",
        "compute-0-1",
        "eth0",
        "mac=52:54:00:AB:CD:EF",
        "ip=10.1.255.253",
        "subnet=private",
        "vlan=12",
    )
    c.ok("add", "host", "interface", "compute-0-1", "ib0")
    assert ifaces(c, "compute-0-1") == [
        ("compute-0-1", "eth0", "52:54:00:ab:cd:ef", "10.1.255.253", "v12", 12),
        ("compute-0-1", "ib0", None, None, None, None),
    ]
    # set changes what it names and keeps the rest.
    c.ok("set", "host", "interface", "compute-0-1", "eth0", "ip=10.2.0.9", "subnet=storage")
    assert ifaces(c, "compute-0-1")[0] == (
        "compute-0-1",
        "eth0",
        "52:54:00:ab:cd:ef",
        "10.2.0.9",
        "storage",
        None,  # storage's VLAN: none
    )
    c.ok("set", "host", "interface", "compute-0-1", "eth0", "mac=52-54-00-00-00-02")
    assert ifaces(c, "compute-0-1")[0][2] == "52:54:00:00:00:02"
    # Setting a MAC to the one the interface has is fine.
    c.ok("set", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:02")
    c.ok("remove", "host", "interface", "compute-0-1", "ib0")
    assert [i[1] for i in ifaces(c, "compute-0-1")] == ["eth0"]
    # All hosts, in host order.
    assert [(i[0], i[1]) for i in ifaces(c)] == [("compute-0-0", "eth0"), ("compute-0-1", "eth0")]


def test_interface_on_several_hosts(example_cluster):
    c = example_cluster
    c.ok("add", "host", "interface", "vm-container", "ib0", "subnet=storage")
    assert [(i[0], i[1], i[4]) for i in ifaces(c, "vm-container")] == [
        ("vm-container-0-0", "ib0", "storage"),
        ("vm-container-0-1", "ib0", "storage"),
    ]


def test_ipv6_address(example_cluster):
    example_cluster.ok("add", "host", "interface", "compute-0-1", "eth0", "ip=FD00::0001")
    assert ifaces(example_cluster, "compute-0-1")[0][3] == "fd00::1"


def test_mac_moves_between_hosts_only_when_freed(example_cluster):
    c = example_cluster
    r = c("add", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:01")
    assert r.code == 1
    c.ok("set", "host", "interface", "compute-0-0", "eth0", "mac=52:54:00:00:00:99")
    c.ok("add", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:01")
    assert {i[2] for i in ifaces(c)} == {"52:54:00:00:00:99", "52:54:00:00:00:01"}


def refusals(c, *commands: list[str]) -> list[str]:
    """The one error line of each command, none of which changes the database."""
    before = c.dump()
    lines = [one_error_line(c(*words).err) for words in commands]
    assert c.dump() == before
    return lines


def test_an_ip_used_on_the_network_is_refused(example_cluster):
    """compute-0-0 eth0 holds 10.1.255.254 on private (the example cluster)."""
    c = example_cluster
    lines = refusals(
        c,
        ["add", "host", "interface", "compute-0-1", "eth0", "ip=10.1.255.254", "subnet=private"],
        ["add", "host", "vm", "vm-container-0-0", "ip=10.1.255.254", "subnet=private"],
    )
    assert set(lines) == {
        "error - IP 10.1.255.254 is already used by compute-0-0 eth0 on network private"
    }
    # The same address on another network is another address.
    c.ok("add", "host", "interface", "compute-0-1", "eth1", "ip=10.2.255.254", "subnet=storage")
    c.ok("set", "host", "interface", "compute-0-1", "eth1", "ip=10.2.0.1")
    c.ok("set", "host", "interface", "compute-0-1", "eth1", "ip=10.2.0.1")  # its own: fine


def test_an_ip_outside_its_network_is_refused(example_cluster):
    lines = refusals(
        example_cluster,
        ["add", "host", "interface", "compute-0-1", "eth0", "ip=10.9.9.9", "subnet=private"],
        ["set", "host", "interface", "compute-0-0", "eth0", "ip=10.2.0.1"],
        ["set", "host", "interface", "compute-0-0", "eth0", "subnet=storage"],
    )
    for line in lines:
        assert "is not in network" in line and "give an address in it" in line, line


def test_ipv6_networks_hold_their_addresses_and_replay_from_a_dump(example_cluster):
    c = example_cluster
    c.ok("add", "network", "v6", "subnet=fd00::/64")
    c.ok("add", "host", "interface", "compute-0-0", "eth3", "ip=fd00::5", "subnet=v6")
    line = one_error_line(
        c("add", "host", "interface", "compute-0-0", "eth4", "ip=fd01::5", "subnet=v6").err
    )
    assert line.startswith("error - IP fd01::5 is not in network v6 (fd00::/64)")
    # What `dump` writes for it (subnet and netmask apart) is accepted back.
    c.ok("add", "network", "v6b", "subnet=fd02::", "netmask=ffff:ffff:ffff:ffff::")
    rows = {r["network"]: r for r in table(c, "list", "network")}
    assert (rows["v6b"]["subnet"], rows["v6b"]["netmask"]) == ("fd02::", "ffff:ffff:ffff:ffff::")


def test_a_netmask_with_holes_is_refused_saying_what_to_give(example_cluster):
    r = example_cluster("add", "network", "bad", "subnet=10.0.0.0", "netmask=255.0.255.0")
    line = one_error_line(r.err)
    assert "not a run of leading one bits" in line and "subnet=10.1.0.0/16" in line


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        (
            ("add", "host", "interface", "compute-0-1", "eth1", "ip=10.2.0.0", "subnet=storage"),
            "network",
        ),
        (
            (
                "add",
                "host",
                "interface",
                "compute-0-1",
                "eth1",
                "ip=10.2.255.255",
                "subnet=storage",
            ),
            "broadcast",
        ),
        (("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.255.255"), "broadcast"),
        (("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.1.0.0"), "network"),
        (("set", "network", "storage", "subnet=10.2.0.128/25"), "network"),
    ],
)
def test_an_interface_cannot_have_its_networks_own_addresses(example_cluster, words, kind):
    example_cluster.ok("add", "host", "interface", "compute-0-1", "eth2", "ip=10.2.0.128")
    example_cluster.ok("set", "host", "interface", "subnet", "compute-0-1", "eth2", "storage")
    before = example_cluster.dump()
    line = one_error_line(example_cluster(*words).err)
    assert f"is the {kind} address of network" in line, line
    assert example_cluster.dump() == before


def test_a_point_to_point_subnet_uses_both_addresses(example_cluster):
    c = example_cluster
    c.ok("add", "network", "p2p", "subnet=10.7.0.0/31")
    c.ok("add", "host", "interface", "compute-0-1", "eth1", "ip=10.7.0.0", "subnet=p2p")
    c.ok("add", "host", "interface", "compute-0-1", "eth2", "ip=10.7.0.1", "subnet=p2p")
