"""Networks that say how VMs attach: isolation kinds and ids, carriers, bridges,
DHCP ranges, and an interface's VLAN that always means its network's 802.1Q id.
Each refusal is one line and stores nothing."""

from __future__ import annotations

import json

import pytest


def nets(cli) -> dict[str, dict[str, str]]:
    return {r["network"]: r for r in json.loads(cli.ok("list", "network", "output-format=json"))}


def refused(cli, *words: str) -> str:
    before = cli.dump()
    done = cli(*words)
    assert done.code == 1, f"{words}: accepted"
    assert done.err.startswith("error - ") and done.err.count("\n") == 1, done.err
    assert cli.dump() == before
    return done.err


def test_an_isolated_network_gets_its_carrier_and_bridge(example_cluster):
    c = example_cluster
    c.ok("add", "network", "lab", "subnet=10.9.0.0/24", "isolation=vxlan", "id=900")
    c.ok(
        "add", "network", "blue", "subnet=10.8.0.0/24", "isolation=vlan", "id=12", "carrier=storage"
    )
    got = nets(c)
    assert (got["lab"]["isolation"], got["lab"]["carrier"], got["lab"]["bridge"]) == (
        "vxlan:900",
        "private",
        "br-vx900",
    )
    assert (got["blue"]["isolation"], got["blue"]["carrier"], got["blue"]["bridge"]) == (
        "vlan:12",
        "storage",
        "br-vl12",
    )


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (("subnet=10.1.128.0/24",), "subnet 10.1.128.0/24 of network x overlaps network private"),
        (("subnet=10.0.0.0/8",), "overlaps network private (10.1.0.0/16)"),
        (("isolation=vxlan",), "isolation=vxlan needs its id="),
        (("id=5",), "id=5 needs isolation=vlan|vxlan"),
        (("isolation=vlan", "id=5000"), "a vlan id is 1-4094, not 5000"),
        (("isolation=vxlan", "id=9", "carrier=nope"), "there is no network named 'nope'"),
        (("bridge=br0",), "bridge br0 is already the bridge of network private"),
        (("subnet=10.7.0.0/24", "range=10.7.1.1-10.7.1.9"), "range 10.7.1.1-10.7.1.9 of network x"),
        (("range=10.7.1.1-10.7.1.9",), "network x has no subnet for its DHCP range"),
    ],
)
def test_bad_networks_are_refused(example_cluster, words, says):
    err = refused(example_cluster, "add", "network", "x", *words)
    assert says in err, err


def test_an_id_is_one_networks_and_a_carrier_is_plain(example_cluster):
    c = example_cluster
    c.ok("add", "network", "lab", "isolation=vxlan", "id=900")
    err = refused(c, "add", "network", "lab2", "isolation=vxlan", "id=900")
    assert "vxlan id 900 is already used by network lab" in err
    c.ok("add", "network", "v900", "isolation=vlan", "id=900")  # another kind, another id space
    err = refused(c, "add", "network", "deep", "isolation=vxlan", "id=901", "carrier=lab")
    assert "its carrier lab must be a plain (not isolated) network" in err
    err = refused(c, "set", "network", "v900", "id=900", "isolation=vxlan")
    assert "vxlan id 900 is already used by network lab" in err


def test_set_network_changes_only_what_it_names(example_cluster):
    c = example_cluster
    c.ok("set", "network", "private", "dhcp=yes", "range=10.1.200.0-10.1.200.99")
    got = nets(c)["private"]
    assert (got["subnet"], got["bridge"], got["dhcp"], got["range"]) == (
        "10.1.0.0",
        "br0",
        "yes",
        "10.1.200.0-10.1.200.99",
    )
    c.ok("set", "network", "private", "range=none", "bridge=none")
    got = nets(c)["private"]
    assert (got["bridge"], got["range"]) == (None, None)
    nothing = c("set", "network", "private")
    assert nothing.code == 2 and "changes nothing without one of its parameters" in nothing.err


def test_an_interface_vlan_is_its_networks_8021q_id_or_refused(example_cluster):
    c = example_cluster
    err = refused(c, "add", "host", "interface", "compute-0-1", "eth0", "vlan=12")
    assert "no network has 802.1Q VLAN id 12" in err
    c.ok("add", "network", "blue", "subnet=10.8.0.0/24", "isolation=vlan", "id=12")
    c.ok("add", "host", "interface", "compute-0-1", "eth0", "vlan=12", "ip=10.8.0.5")
    rows = json.loads(c.ok("list", "host", "interface", "compute-0-1", "output-format=json"))
    assert (rows[0]["subnet"], rows[0]["vlan"]) == ("blue", 12)
    err = refused(c, "set", "host", "interface", "compute-0-1", "eth0", "subnet=storage", "vlan=12")
    assert "vlan=12 is network blue, which is not network storage (not isolated)" in err
    # Moving to another network takes that network's VLAN (none).
    c.ok("set", "host", "interface", "compute-0-1", "eth0", "subnet=storage", "ip=10.2.0.5")
    rows = json.loads(c.ok("list", "host", "interface", "compute-0-1", "output-format=json"))
    assert (rows[0]["subnet"], rows[0]["vlan"]) == ("storage", None)


def test_dump_replays_isolated_networks_carriers_first(example_cluster):
    c = example_cluster
    c.ok("add", "network", "a-lab", "subnet=10.9.0.0/24", "isolation=vxlan", "id=900", "dhcp=yes")
    dump = c.dump()
    assert dump.index("network=private") < dump.index("network=a-lab")
    assert (
        "cairn add network network=a-lab subnet=10.9.0.0 netmask=255.255.255.0 bridge=br-vx900"
        " isolation=vxlan id=900 carrier=private dhcp=yes" in dump
    )


def test_a_carrier_cannot_be_made_isolated(example_cluster):
    c = example_cluster
    c.ok("add", "network", "lab", "subnet=10.9.0.0/24", "isolation=vxlan", "id=900")
    for kind in ("vlan", "vxlan"):
        err = refused(
            c, "set", "network", "private", f"isolation={kind}", "id=7", "carrier=storage"
        )
        assert "network private carries lab: a carrier stays plain" in err
    # Given another carrier first, the old one may be isolated.
    c.ok("set", "network", "lab", "carrier=storage")
    c.ok("set", "network", "private", "isolation=vlan", "id=7", "carrier=storage")
    assert nets(c)["private"]["isolation"] == "vlan:7"


def test_dump_lists_each_carrier_before_what_it_carries(example_cluster):
    """A database with an isolated carrier (written past the checks) still dumps
    each network after its carrier."""
    from testkit import write_behind

    c = example_cluster
    c.ok("add", "network", "a-lab", "subnet=10.9.0.0/24", "isolation=vxlan", "id=900")
    c.ok("add", "network", "b-mid", "subnet=10.8.0.0/24")
    c.ok("set", "network", "a-lab", "carrier=b-mid")
    write_behind(
        c.url,
        "UPDATE networks SET isolation = 'vlan', isolation_id = 7, carrier_id ="
        " (SELECT id FROM (SELECT id FROM networks WHERE name = 'private') AS p)"
        " WHERE name = 'b-mid'",
    )
    dump = c.dump()
    assert dump.index("network=private") < dump.index("network=b-mid") < dump.index("network=a-lab")


def test_removing_a_carrier_names_what_it_carries(example_cluster):
    c = example_cluster
    c.ok("add", "network", "lab", "isolation=vxlan", "id=900", "carrier=storage")
    err = refused(c, "remove", "network", "storage")
    assert "network storage carries lab: remove those networks or give them another" in err
    c.ok("remove", "network", "lab")
    c.ok("remove", "network", "storage")
    assert "storage" not in nets(c)
