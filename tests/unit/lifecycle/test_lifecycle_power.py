"""Rocks' power commands for root, on libvirt's test driver through the cairn
service: `set host power` (a VM by name or MAC; physical hosts refused),
`set cluster power` (the computes, never the frontend) and `list host macs`."""

from __future__ import annotations

import json
import time


def _cluster(lab) -> None:
    """Cluster vc: frontend vc and computes vc-compute-0/1 on network vc."""
    c = lab.cli
    c.ok("set", "network", "private", "subnet=198.18.0.0/24", "bridge=none")
    for i, name in enumerate(("vm-container-0-0", "vm-container-0-1")):
        c.ok("add", "host", "interface", name, "eth0", f"ip=198.18.0.{10 + i}", "subnet=private")
    c.ok("add", "cluster", "vc", "computes=2", "subnet=198.19.8.0/24", "mem=64", "public=none")


def _boots(lab) -> dict[str, str]:
    rows = json.loads(lab.cli.ok("list", "host", "boot", "vc*", "output-format=json"))
    return {r["host"]: r["action"] for r in rows}


def _macs(lab, *more: str) -> list[dict[str, str]]:
    return json.loads(lab.cli.ok("list", "host", "macs", "vc", *more, "output-format=json"))


def test_set_host_power_on_off_and_again(lab):
    vm = lab.add_vm("vm-container-0-0")
    on = lab.act("set", "host", "power", vm, "action=on")
    assert on.code == 0, on.err
    assert on.rows == [
        {"host": vm, "container": "vm-container-0-0", "result": "started", "detail": ""}
    ]
    assert lab.state(vm) == "running"
    again = lab.act("set", "host", "power", vm, "action=on")
    assert again.code == 0 and again.rows[0]["detail"] == "already on"
    off = lab.act("set", "host", "power", vm, "action=off")
    assert off.code == 0 and off.rows[0]["result"] == "stopped"
    assert lab.state(vm) == "shutoff"
    assert not lab.autostart(vm)


def test_set_host_power_takes_a_mac_and_refuses_a_physical_host(lab):
    _cluster(lab)
    mac = next(r["mac"] for r in _macs(lab) if r["host"] == "vc-compute-1")
    on = lab.act("set", "host", "power", mac.upper(), "action=on")
    assert on.code == 0, on.err
    assert [r["host"] for r in on.rows] == ["vc-compute-1"]
    assert lab.state("vc-compute-1") == "running"
    before = lab.cli.dump()
    refused = lab.cli("set", "host", "power", "vm-container-0-0", "action=off")
    assert refused.code == 1
    assert refused.err == (
        "error - host vm-container-0-0 is not a virtual machine; cairn powers only VMs:"
        " it has no power control for physical hosts (no IPMI)\n"
    )
    unknown = lab.cli("set", "host", "power", "52:54:00:ff:ff:fe", "action=on")
    assert unknown.code == 1 and "no host has the MAC 52:54:00:ff:ff:fe" in unknown.err
    assert lab.cli.dump() == before
    assert lab.state("vc-compute-1") == "running"


def test_install_sets_the_boot_to_install_and_boots_from_the_network(lab):
    _cluster(lab)
    lab.cli.ok("set", "host", "boot", "vc-compute-0", "action=os")
    done = lab.act("set", "host", "power", "vc-compute-0", "action=install")
    assert done.code == 0, done.err
    assert _boots(lab)["vc-compute-0"] == "install"
    boot = [b.get("dev") for b in _xml_boots(lab, "vc-compute-0")]
    assert boot[0] == "network" and "hd" in boot
    # On already: refused, its boot left as it was.
    lab.cli.ok("set", "host", "boot", "vc-compute-0", "action=os")
    again = lab.act("set", "host", "power", "vc-compute-0", "action=install")
    assert again.code == 1
    assert again.rows[0]["detail"] == (
        "it is running: power it off first (action=off), then install"
    )
    assert _boots(lab)["vc-compute-0"] == "os"


def test_install_refuses_a_saved_vm_which_would_only_resume(lab):
    _cluster(lab)
    lab.cli.ok("set", "host", "boot", "vc-compute-0", "action=os")
    lab.cli.ok("start", "host", "vm", "vc-compute-0")
    lab.cli.ok("save", "host", "vm", "vc-compute-0")
    done = lab.act("set", "host", "power", "vc-compute-0", "action=install")
    assert done.code == 1
    assert done.rows[0]["detail"] == (
        "it is saved: discard its saved image first (action=off), then install"
    )
    assert lab.state("vc-compute-0") == "saved" and _boots(lab)["vc-compute-0"] == "os"
    assert lab.act("set", "host", "power", "vc-compute-0", "action=off").code == 0
    assert lab.act("set", "host", "power", "vc-compute-0", "action=install").code == 0
    assert lab.state("vc-compute-0") == "running"


def _xml_boots(lab, name: str) -> list:
    from lxml import etree

    return etree.fromstring(lab.xml(name).encode()).findall("os/boot")


def test_a_failed_install_leaves_the_boot_as_it_was(lab):
    _cluster(lab)
    lab.cli.ok("set", "host", "boot", "vc-compute-0", "action=os")
    lab.cli.ok("set", "host", "attr", "vm-container-0-1", "kvm_connection", "test:///nowhere")
    done = lab.act("set", "host", "power", "vc-compute-0", "action=install")
    assert done.code == 1 and done.rows[0]["result"] == "failed"
    assert _boots(lab)["vc-compute-0"] == "os"


def test_set_cluster_power_acts_on_the_computes_never_the_frontend(lab):
    _cluster(lab)
    lab.cli.ok("set", "host", "power", "vc", "action=on")
    on = lab.act("set", "cluster", "power", "vc", "action=on")
    assert on.code == 0, on.err
    assert [r["host"] for r in on.rows] == ["vc-compute-0", "vc-compute-1"]
    assert {lab.state(n) for n in ("vc", "vc-compute-0", "vc-compute-1")} == {"running"}
    off = lab.act("set", "cluster", "power", "vc", "action=off")
    assert off.code == 0, off.err
    assert [r["host"] for r in off.rows] == ["vc-compute-0", "vc-compute-1"]
    assert lab.state("vc-compute-0") == lab.state("vc-compute-1") == "shutoff"
    assert lab.state("vc") == "running"


def test_set_cluster_power_install_with_a_delay_between_computes(lab):
    _cluster(lab)
    lab.cli.ok("set", "host", "boot", "vc*", "action=os")
    began = time.monotonic()
    done = lab.act("set", "cluster", "power", "vc", "action=install", "delay=0.6")
    took = time.monotonic() - began
    assert done.code == 0, done.err
    assert took >= 0.6  # one pause between the two computes
    assert _boots(lab) == {"vc": "os", "vc-compute-0": "install", "vc-compute-1": "install"}
    assert lab.state("vc") == "undefined"


def test_set_cluster_power_refuses_what_is_not_a_frontend(lab):
    _cluster(lab)
    for word in ("vc-compute-0", "nothing"):
        done = lab.cli("set", "cluster", "power", word, "action=on")
        assert done.code == 1
        assert done.err == (
            f"error - {word!r} is not the frontend of a virtual cluster (see: cairn list cluster)\n"
        )
    bad = lab.cli("set", "cluster", "power", "vc", "action=on", "delay=-1")
    assert bad.code == 2 and "delay" in bad.err


def test_list_host_macs_lists_the_cluster_frontend_first_with_states(lab):
    _cluster(lab)
    lab.cli.ok("set", "host", "power", "vc-compute-0", "action=on")
    rows = _macs(lab, "status=yes")
    assert [(r["host"], r["iface"], r["network"], r["state"]) for r in rows] == [
        ("vc", "eth0", "vc", "undefined"),
        ("vc-compute-0", "eth0", "vc", "running"),
        ("vc-compute-1", "eth0", "vc", "undefined"),
    ]
    ifaces = json.loads(lab.cli.ok("list", "host", "interface", "vc*", "output-format=json"))
    assert {r["mac"] for r in rows} == {r["mac"] for r in ifaces}
    plain = lab.cli.ok("list", "host", "macs", "vc", "output-header=no")
    assert [line.split()[0] for line in plain.splitlines()] == [r["mac"] for r in rows]
    assert "state" not in _macs(lab)[0]


def test_the_pauses_of_delay_are_bounded_and_a_longer_pacing_is_refused(lab):
    """The command holds the database's writers while it waits: a delay= that
    would hold them more than 300 s in all is refused before anything starts."""
    c = lab.cli
    c.ok("set", "network", "private", "subnet=198.18.0.0/24", "bridge=none")
    c.ok("add", "host", "interface", "vm-container-0-0", "eth0", "ip=198.18.0.10",
         "subnet=private")  # fmt: skip
    c.ok("add", "cluster", "big", "computes=7", "subnet=198.19.9.0/24", "mem=64", "public=none")
    before = c.dump()
    done = c("set", "cluster", "power", "big", "action=install", "delay=60")
    assert done.code == 1
    assert done.err == (
        "error - delay=60 between 7 VMs pauses 360 s in all, more than 300 s: give a smaller"
        " delay=\n"
    )
    assert c.dump() == before
    assert lab.state("big-compute-0") == "undefined"
    too_long = c("set", "cluster", "power", "big", "action=on", "delay=61")
    assert too_long.code == 2 and "61 is not between 0 and 60 seconds" in too_long.err


def test_open_host_console_takes_a_vms_mac_as_rocks_did(lab):
    _cluster(lab)
    mac = next(r["mac"] for r in _macs(lab) if r["host"] == "vc-compute-0")
    lab.cli.ok("set", "host", "power", "vc-compute-0", "action=on")
    lab.cli.ok("set", "host", "power", "vc-compute-0", "action=off")
    done = lab.cli("open", "host", "console", mac, "seconds=1")
    assert done.code == 1
    assert "vc-compute-0 is shutoff: its console exists only while it runs" in done.err
    physical = lab.cli("open", "host", "console", "vm-container-0-0", "seconds=1")
    assert physical.code == 1 and "is not a virtual machine" in physical.err
