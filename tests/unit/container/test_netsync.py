"""sync host network, for real, in network namespaces the test makes: the plan
is applied (bridges, VXLAN with unicast flooding, an address moved onto a
bridge), traffic crosses it, a second run changes nothing, and drift is mended.
The 802.1Q plan (no VLAN devices in this kernel) is checked as the steps cairn
would run."""

from __future__ import annotations

import json

import pytest

from cairn.container.netsync import HostState, steps
from cairn.inventory.netplan import BridgePlan
from netkit import in_ns, ip, namespaces, pings


def _changes(cli, host):
    return [
        r["change"]
        for r in json.loads(cli.ok("sync", "host", "network", host, "output-format=json"))
    ]


@pytest.fixture
def two_containers(sqlite_cli):
    with namespaces() as ns:
        a, b = ns.add("a"), ns.add("b")
        ns.link(a, "eth0", "198.18.0.1/24", b, "eth0", "198.18.0.2/24")
        ns.link(a, "eth1", "198.18.1.1/24", b, "eth1", "198.18.1.2/24")
        c = sqlite_cli
        c.ok("set", "network", "private", "subnet=198.18.0.0/24", "bridge=none")
        c.ok("set", "network", "public", "subnet=198.18.1.0/24", "bridge=br-pub")
        c.ok(
            "add",
            "network",
            "lab",
            "subnet=198.19.42.0/24",
            "isolation=vxlan",
            "id=4242",
            "carrier=private",
        )
        for host, n, netns in (("vm-container-0-0", 1, a), ("vm-container-0-1", 2, b)):
            c.ok("add", "host", host, "appliance=vm-container", f"rank={n - 1}")
            c.ok("set", "host", "attr", host, "network_command", f"ip netns exec {netns}")
            c.ok("add", "host", "interface", host, "eth0", f"ip=198.18.0.{n}", "subnet=private")
            c.ok("add", "host", "interface", host, "eth1", f"ip=198.18.1.{n}", "subnet=public")
            c.ok("add", "host", "interface", host, "lab", f"ip=198.19.42.{n}", "subnet=lab")
        yield c, a, b


def test_sync_makes_the_plan_traffic_crosses_and_a_second_run_changes_nothing(two_containers):
    c, a, _b = two_containers
    first = _changes(c, "vm-container-0-0")
    assert "add bridge br-pub (public)" in first
    assert "address 198.18.1.1/24 off eth1 (now on its bridge)" in first
    assert "add VXLAN 4242 device vx4242 from 198.18.0.1" in first
    assert "flood vx4242 to 198.18.0.2" in first
    assert _changes(c, "vm-container-0-0") == ["nothing to change"]
    _changes(c, "vm-container-0-1")
    assert _changes(c, "vm-container-0-1") == ["nothing to change"]
    # The VXLAN carries the isolated network between the two containers.
    assert pings(a, "198.19.42.2")
    # The public address now lives on the bridge and is still reached.
    assert pings(a, "198.18.1.2")
    link = json.loads(ip("-j", "-d", "link", "show", "vx4242", ns=a))[0]
    assert link["master"] == "br-vx4242"
    assert link["linkinfo"]["info_data"]["id"] == 4242


def test_sync_mends_drift_and_follows_the_database(two_containers):
    c, a, _b = two_containers
    _changes(c, "vm-container-*")
    in_ns(a, "bridge", "fdb", "del", "00:00:00:00:00:00", "dev", "vx4242", "dst", "198.18.0.2")
    ip("link", "set", "br-pub", "down", ns=a)
    assert sorted(_changes(c, "vm-container-0-0")) == [
        "bring up br-pub",
        "flood vx4242 to 198.18.0.2",
    ]
    # A new id in the database: a device with it joins the network's bridge.
    c.ok("set", "network", "lab", "id=4243")
    changed = _changes(c, "vm-container-0-0")
    assert changed[:3] == [
        "add VXLAN 4243 device vx4243 from 198.18.0.1",
        "put vx4243 on bridge br-vx4242",
        "bring up vx4243",
    ]


def test_dry_run_changes_nothing(two_containers):
    c, a, _b = two_containers
    planned = json.loads(
        c.ok("sync", "host", "network", "vm-container-0-0", "dry-run=yes", "output-format=json")
    )
    assert any(r["change"] == "add bridge br-vx4242 (lab)" for r in planned)
    assert "br-vx4242" not in ip("link", "show", ns=a)


def test_a_host_that_cannot_be_reached_gives_one_line(two_containers):
    c, _a, _b = two_containers
    c.ok("set", "host", "attr", "vm-container-0-0", "network_command", "ip netns exec no-such-ns")
    result = c("sync", "host", "network", "vm-container-0-0")
    err = result.err
    assert result.code == 1
    assert err.startswith("error - on vm-container-0-0: ip -j -d link show failed:"), err
    assert "\n" not in err.strip()


def test_the_vlan_plan_is_what_cairn_would_run():
    """No 802.1Q devices in this kernel: the steps for an empty host are the plan."""
    plan = [
        BridgePlan("blue", "br-vl12", "vlan", "eth0.12", "eth0", 12, address="10.8.0.5/24"),
    ]
    made = [s.argv for s in steps(plan, HostState(links={"eth0": {"ifname": "eth0"}}), "c")]
    assert made == [
        ("ip", "link", "add", "name", "br-vl12", "type", "bridge"),
        ("ip", "link", "set", "dev", "br-vl12", "up"),
        ("ip", "link", "add", "link", "eth0", "name", "eth0.12", "type", "vlan", "id", "12"),
        ("ip", "link", "set", "dev", "eth0.12", "master", "br-vl12"),
        ("ip", "link", "set", "dev", "eth0.12", "up"),
        ("ip", "addr", "add", "10.8.0.5/24", "dev", "br-vl12"),
    ]
    # A VLAN device that is there with the right id is left alone.
    there = HostState(
        links={
            "br-vl12": {"ifname": "br-vl12", "flags": ["UP"], "linkinfo": {"info_kind": "bridge"}},
            "eth0.12": {
                "ifname": "eth0.12",
                "flags": ["UP"],
                "master": "br-vl12",
                "linkinfo": {"info_kind": "vlan", "info_data": {"id": 12}},
            },
        },
        addrs={"br-vl12": {"10.8.0.5/24"}},
    )
    assert steps(plan, there, "c") == []


def test_the_profile_makes_the_same_bridges_once(two_containers):
    """The container profile's bridges part, run in the namespace: it makes the
    plan, a second run changes nothing, and sync host network agrees."""
    from sqlalchemy.orm import Session

    from cairn.container import script
    from cairn.container.profile import Profile
    from cairn.db.engine import make_engine
    from cairn.inventory import lookup
    from cairn.inventory.netplan import plans

    c, a, _b = two_containers
    engine = make_engine(c.url, writes=False)
    with Session(engine) as session:
        (host,) = lookup.hosts(session, ["vm-container-0-0"])
        plan = tuple(plans(session, [host])[host.id])
    engine.dispose()
    text = script.network_part(Profile(host="vm-container-0-0", container=True, network=plan))
    first = in_ns(a, "sh", "-ec", text).stdout
    assert "cairn: bridge br-vx4242" in first and "cairn: vxlan device vx4242" in first
    assert "cairn: address 198.18.1.1/24 off eth1" in first
    assert in_ns(a, "sh", "-ec", text).stdout == ""
    assert _changes(c, "vm-container-0-0") == ["nothing to change"]
