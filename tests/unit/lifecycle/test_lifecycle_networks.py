"""VMs on cluster networks, on libvirt's test driver: an interface on a network
is bridged onto the container's bridge for it; start and move refuse a
container that cannot reach a VM's network before anything is defined; the
virtual cluster commands make, place, power, replay and remove clusters."""

from __future__ import annotations

import json

from lxml import etree

from cairn.domainxml import schema


def _networked(lab) -> None:
    c = lab.cli
    c.ok("set", "network", "private", "subnet=198.18.0.0/24", "bridge=none")
    c.ok("set", "network", "public", "subnet=198.18.1.0/24", "bridge=br-pub")
    c.ok("add", "network", "lab", "subnet=198.19.7.0/24", "isolation=vxlan", "id=77")
    for i, name in enumerate(("vm-container-0-0", "vm-container-0-1")):
        c.ok("add", "host", "interface", name, "eth0", f"ip=198.18.0.{10 + i}", "subnet=private")
        c.ok("add", "host", "interface", name, "eth1", f"ip=198.18.1.{10 + i}", "subnet=public")


def test_an_interface_on_a_network_is_bridged_and_none_is_user_mode_said(lab):
    _networked(lab)
    vm = lab.add_vm("vm-container-0-0", "subnet=lab", "ip=198.19.7.5", "num-macs=2")
    done = lab.cli("report", "host", "vm", "config", vm)
    assert done.code == 0, done.err
    root = etree.fromstring(done.out.encode())
    schema.validate(root, what="test")
    first, second = root.findall("devices/interface")
    assert first.get("type") == "bridge" and first.find("source").get("bridge") == "br-vx77"
    assert second.get("type") == "user"
    assert f"host {vm} eth1: on no network, so it gets user-mode networking" in done.err


def test_start_refuses_a_container_that_cannot_reach_the_network(lab):
    _networked(lab)
    vm = lab.add_vm("vm-container-0-2", "subnet=lab", "ip=198.19.7.5")  # 0-2: no carrier
    started = lab.start(vm)
    assert started.code == 1
    detail = started.rows[0]["detail"]
    assert "container vm-container-0-2 cannot reach network lab" in detail
    assert "no interface with an address on network private" in detail
    assert lab.state(vm) == "undefined"  # nothing defined
    lab.cli.ok(
        "add", "host", "interface", "vm-container-0-2", "eth0", "ip=198.18.0.12", "subnet=private"
    )
    assert lab.start(vm).code == 0
    xml = etree.fromstring(lab.xml(vm).encode())
    assert xml.find("devices/interface/source").get("bridge") == "br-vx77"


def test_move_refuses_a_container_that_cannot_reach_the_network(lab):
    _networked(lab)
    vm = lab.add_vm("vm-container-0-0", "subnet=public", "ip=198.18.1.50")
    before = lab.cli.dump()
    done = lab.cli("move", "host", "vm", vm, "vm-container-0-2")
    assert done.code == 1
    assert done.err.startswith(
        f"error - {vm} eth0: container vm-container-0-2 cannot reach network public"
    )
    assert lab.cli.dump() == before


def test_a_vm_interface_no_container_reaches_is_refused_and_nothing_stored(lab):
    c = lab.cli
    c.ok("set", "network", "private", "subnet=198.18.0.0/24")
    c.ok("add", "network", "lab", "subnet=198.19.7.0/24", "isolation=vxlan", "id=77")
    before = c.dump()
    done = c("add", "host", "vm", "vm-container-0-0", "subnet=lab")
    assert done.code == 1
    assert done.err.startswith("error - no VM container reaches network lab, so ")
    assert done.err.count("\n") == 1
    assert c.dump() == before


def _clustered(lab, computes: int = 2) -> None:
    _networked(lab)
    lab.cli.ok(
        "add",
        "cluster",
        "vc",
        f"computes={computes}",
        "subnet=198.19.8.0/24",
        "mem=64",
        "public-ip=198.18.1.100",
    )


def test_add_cluster_makes_an_isolated_network_a_frontend_and_computes(lab):
    _clustered(lab)
    rows = json.loads(lab.cli.ok("list", "cluster", "output-format=json"))
    assert [(r["host"], r["role"], r["container"]) for r in rows] == [
        ("vc", "frontend", "vm-container-0-0"),
        ("vc-compute-0", "compute", "vm-container-0-1"),
        ("vc-compute-1", "compute", "vm-container-0-0"),
    ]
    nets = {
        r["network"]: r for r in json.loads(lab.cli.ok("list", "network", "output-format=json"))
    }
    assert nets["vc"]["isolation"] == "vxlan:1000" and nets["vc"]["dhcp"] == "yes"
    ifaces = json.loads(lab.cli.ok("list", "host", "interface", "vc*", "output-format=json"))
    got = {(r["host"], r["iface"]): (r["ip"], r["subnet"]) for r in ifaces}
    assert got == {
        ("vc", "eth0"): ("198.19.8.1", "vc"),
        ("vc", "eth1"): ("198.18.1.100", "public"),
        ("vc-compute-0", "eth0"): ("198.19.8.2", "vc"),
        ("vc-compute-1", "eth0"): ("198.19.8.3", "vc"),
    }
    boots = {
        r["host"]: r["action"]
        for r in json.loads(lab.cli.ok("list", "host", "boot", "vc*", "output-format=json"))
    }
    assert boots == {"vc": "os", "vc-compute-0": "install", "vc-compute-1": "install"}


def test_a_second_cluster_gets_its_own_id_and_the_same_names_are_refused(lab):
    _clustered(lab, computes=1)
    lab.cli.ok(
        "add", "cluster", "vd", "computes=1", "subnet=198.19.9.0/24", "mem=64", "public=none"
    )
    nets = {
        r["network"]: r for r in json.loads(lab.cli.ok("list", "network", "output-format=json"))
    }
    assert nets["vd"]["isolation"] == "vxlan:1001"
    before = lab.cli.dump()
    again = lab.cli("add", "cluster", "vc", "computes=1")
    assert again.code == 1 and again.err.startswith("error - cluster vc exists already")
    overlap = lab.cli("add", "cluster", "ve", "computes=1", "subnet=198.19.9.128/25", "mem=64")
    assert overlap.code == 1 and "overlaps network vd" in overlap.err
    assert lab.cli.dump() == before


def test_start_stop_and_remove_a_cluster(lab):
    _clustered(lab)
    started = lab.act("start", "cluster", "vc")
    assert started.code == 0, started.err
    assert {r["host"] for r in started.rows} == {"vc", "vc-compute-0", "vc-compute-1"}
    assert lab.state("vc-compute-1") == "running"
    refused = lab.cli("remove", "cluster", "vc")
    assert refused.code == 1
    assert refused.err.startswith(
        "error - cluster vc has running VMs (vc, vc-compute-0, vc-compute-1)"
    )
    assert lab.act("stop", "cluster", "vc").code == 0
    assert lab.state("vc") == "shutoff"
    assert lab.act("start", "cluster", "vc").code == 0
    gone = lab.cli("remove", "cluster", "vc", "force=yes")
    assert gone.code == 0, gone.err
    assert "removed vc-compute-0" in gone.out
    assert lab.state("vc") == "undefined"
    assert lab.cli.ok("list", "cluster", "output-header=no") == ""
    nets = lab.cli.ok("list", "network", "output-header=no")
    assert "vc " not in nets and "private" in nets


def test_dump_replays_a_cluster(lab, tmp_path):
    import shlex

    from testkit import run_at

    _clustered(lab)
    lab.cli.ok("add", "bootaction", "install", "kernel=vmlinuz", "args=console=ttyS0 'x y'")
    dump = lab.cli.dump()
    assert "cairn add cluster cluster=vc network=vc frontend=vc member=vc-compute-0" in dump
    url = f"sqlite:///{tmp_path / 'replay.db'}"
    assert run_at(url, "init", "defaults=no")[0] == 0
    for line in dump.splitlines():
        code, _, err = run_at(url, *shlex.split(line)[1:])
        assert code == 0, f"{line}: {err}"
    assert run_at(url, "dump")[1] == dump
