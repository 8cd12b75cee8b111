"""`cairn add host vm`: names, slices, defaults, disks, interfaces, UUIDs and
which hosts may be containers (COMMANDS.md "Virtual machines").

The example cluster (tests/conftest.py) has vm-container-0-0 and -0-1 (rack 0,
ranks 0 and 1), compute-0-0 and -0-1, network private (bridge br0) and network
storage (no bridge); compute-0-0's eth0 already holds 52:54:00:00:00:01.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lxml import etree

from cairn.domainxml import schema
from testkit import vm_summary

DEFAULT_DIR = "/var/lib/libvirt/images"


def error_line(result: Any) -> str:
    """The one `error - ...` line of a refused command (exit 1)."""
    assert result.code == 1, f"expected a refusal, got {result}"
    lines = result.err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {result.err!r}"
    assert lines[0].startswith("error - "), lines[0]
    return lines[0]


def vms(cli: Any, *words: str) -> list[dict[str, Any]]:
    out = cli.ok("list", "host", "vm", *words, "showdisks=yes", "output-format=json")
    return json.loads(out)


def vm(cli: Any, name: str) -> dict[str, Any]:
    return vm_summary(cli, name)


def interfaces(cli: Any, host: str) -> list[dict[str, Any]]:
    return json.loads(cli.ok("list", "host", "interface", host, "output-format=json"))


def domain(cli: Any, name: str) -> etree._Element:
    root = etree.fromstring(cli.ok("report", "host", "vm", "config", name).encode())
    schema.validate(root, what=f"report of {name}")
    return root


def no_vm_defined(cli: Any) -> None:
    assert vms(cli) == []


# -- names, slices and defaults ---------------------------------------------------------


def test_defaults_are_those_of_rocks(example_cluster: Any) -> None:
    cli = example_cluster
    out = cli.ok("add", "host", "vm", "vm-container-0-1")
    assert out == "added hosted-vm-0-1-0 on vm-container-0-1 slice 0\n"
    row = vm(cli, "hosted-vm-0-1-0")
    assert row == {
        "vm-host": "hosted-vm-0-1-0",
        "slice": 0,
        "mem": 1024,
        "cpus": 1,
        # :01 belongs to compute-0-0, so the VM gets the next free one.
        "mac": "52:54:00:00:00:02",
        "container": "vm-container-0-1",
        "cdrom": None,
        "disks": f"file:{DEFAULT_DIR}/hosted-vm-0-1-0.vda,vda,virtio:36G",
    }
    nics = interfaces(cli, "hosted-vm-0-1-0")
    assert [(n["iface"], n["mac"]) for n in nics] == [("eth0", "52:54:00:00:00:02")]
    # The VM is a host of its own: appliance hosted-vm, the container's rack and rank.
    attrs = json.loads(cli.ok("list", "host", "attr", "hosted-vm-0-1-0", "output-format=json"))
    facts = {a["attr"]: a["value"] for a in attrs if a["source"] == "I"}
    assert facts["appliance"] == "hosted-vm"
    assert (facts["rack"], facts["rank"], facts["cpus"]) == ("0", "1", "1")


def test_each_vm_takes_the_next_free_slice(example_cluster: Any) -> None:
    cli = example_cluster
    for expected in range(3):
        assert cli.ok("add", "host", "vm", "vm-container-0-0").endswith(f"slice {expected}\n")
    names = [r["vm-host"] for r in vms(cli)]
    assert names == ["hosted-vm-0-0-0", "hosted-vm-0-0-1", "hosted-vm-0-0-2"]
    # A slice freed in the middle is the next one used.
    cli.ok("remove", "host", "hosted-vm-0-0-1")
    assert cli.ok("add", "host", "vm", "vm-container-0-0") == (
        "added hosted-vm-0-0-1 on vm-container-0-0 slice 1\n"
    )
    # Slices are per container.
    assert cli.ok("add", "host", "vm", "vm-container-0-1").endswith("slice 0\n")


def test_the_appliance_names_the_vm(example_cluster: Any) -> None:
    cli = example_cluster
    assert cli.ok("add", "host", "vm", "vm-container-0-0", "login").startswith("added login-0-0-0 ")
    assert cli.ok("add", "host", "vm", "vm-container-0-0", "appliance=login").startswith(
        "added login-0-0-1 "
    )
    attrs = json.loads(cli.ok("list", "host", "attr", "login-0-0-1", "output-format=json"))
    assert {a["attr"]: a["value"] for a in attrs}["appliance"] == "login"


def test_name_mem_cpus_reach_list_and_xml(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=web", "mem=4096", "cpus=4")
    row = vm(cli, "web")
    assert (row["mem"], row["cpus"], row["slice"]) == (4096, 4, 0)
    assert row["disks"] == f"file:{DEFAULT_DIR}/web.vda,vda,virtio:36G"
    root = domain(cli, "web")
    assert root.findtext("name") == "web"
    assert root.find("memory").get("unit") is None  # KiB, as Rocks wrote it
    assert root.findtext("memory") == str(4096 * 1024)
    assert root.findtext("vcpu") == "4"


def test_an_existing_host_name_is_refused(example_cluster: Any) -> None:
    cli = example_cluster
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", "name=compute-0-1"))
    assert "compute-0-1" in line and "exists" in line
    no_vm_defined(cli)


def test_a_given_slice_is_used_and_a_taken_one_refused(example_cluster: Any) -> None:
    cli = example_cluster
    assert cli.ok("add", "host", "vm", "vm-container-0-0", "slice=5") == (
        "added hosted-vm-0-0-5 on vm-container-0-0 slice 5\n"
    )
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", "slice=5", "name=other"))
    assert "slice 5 of vm-container-0-0 is taken" in line
    assert [r["vm-host"] for r in vms(cli)] == ["hosted-vm-0-0-5"]
    # Without slice= the next free one is the lowest free, not after 5.
    assert cli.ok("add", "host", "vm", "vm-container-0-0").endswith("slice 0\n")


def test_a_default_name_another_host_holds_is_skipped(example_cluster: Any) -> None:
    """Two containers with the same rack and rank, or a VM moved away, hold
    names the next free slice would give: the slice after them is used."""
    cli = example_cluster
    cli.ok("set", "host", "attr", "compute-0-0", "kvm", "true")  # rack 0, rank 0 too
    cli.ok("add", "host", "vm", "vm-container-0-0")
    assert cli.ok("add", "host", "vm", "compute-0-0") == (
        "added hosted-vm-0-0-1 on compute-0-0 slice 1\n"
    )
    cli.ok("add", "host", "vm", "vm-container-0-0", "slice=2")
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "physnode=vm-container-0-1")  # slice 0 free
    assert cli.ok("add", "host", "vm", "vm-container-0-0") == (
        "added hosted-vm-0-0-3 on vm-container-0-0 slice 3\n"
    )
    # A slice given whose name is held: refused, saying what to give instead.
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", "slice=1"))
    assert (
        line
        == "error - host hosted-vm-0-0-1 exists already: give the VM a name= (or another slice=)"
    )
    assert cli.ok("add", "host", "vm", "vm-container-0-0", "slice=1", "name=web").startswith(
        "added web on vm-container-0-0 slice 1"
    )


@pytest.mark.parametrize(
    ("scope", "where"),
    [
        ("host", ["set", "host", "attr", "vm-container-0-0"]),
        ("appliance", ["set", "appliance", "attr", "vm-container"]),
        ("global", ["set", "attr"]),
    ],
)
def test_kvm_disk_dir_of_the_container_places_the_default_disk(
    example_cluster: Any, scope: str, where: list[str]
) -> None:
    cli = example_cluster
    cli.ok(*where, "kvm_disk_dir", f"/srv/{scope}/images")
    cli.ok("add", "host", "vm", "vm-container-0-0")
    assert vm(cli, "hosted-vm-0-0-0")["disks"] == (
        f"file:/srv/{scope}/images/hosted-vm-0-0-0.vda,vda,virtio:36G"
    )
    source = domain(cli, "hosted-vm-0-0-0").find("devices/disk/source")
    assert source.get("file") == f"/srv/{scope}/images/hosted-vm-0-0-0.vda"


def test_kvm_disk_dir_of_the_vm_appliance_does_not_count(example_cluster: Any) -> None:
    # The directory is the container's: an attribute of hosted-vm is not consulted.
    cli = example_cluster
    cli.ok("set", "appliance", "attr", "hosted-vm", "kvm_disk_dir", "/elsewhere")
    cli.ok("add", "host", "vm", "vm-container-0-0")
    assert vm(cli, "hosted-vm-0-0-0")["disks"].startswith(f"file:{DEFAULT_DIR}/")


def test_a_relative_kvm_disk_dir_is_refused_when_set(example_cluster: Any) -> None:
    cli = example_cluster
    line = error_line(cli("set", "host", "attr", "vm-container-0-0", "kvm_disk_dir", "images"))
    assert "kvm_disk_dir" in line and "absolute" in line


# -- disks ---------------------------------------------------------------------------------


def test_disk_specs_of_every_kind_and_bus(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok(
        "add",
        "host",
        "vm",
        "vm-container-0-0",
        "name=multi",
        "disk=file:/a.img",
        "disk=qcow2:/b.qcow2,,ide",
        "disk=phy:/dev/sdb,,scsi",
        "disk=file:/c.img,,sata",
        "disk=file:/d.img",
        "disk=qcow2:/e.qcow2,vdz",
        "disksize=10",
        "disksize=20 36 36",  # Rocks' spaced list and repeated parameters mix
        "disksize=36",
        "disksize=36",
    )
    assert vm(cli, "multi")["disks"].split() == [
        "file:/a.img,vda,virtio:10G",
        "qcow2:/b.qcow2,hda,ide:20G",
        "phy:/dev/sdb,sda,scsi:36G",
        "file:/c.img,sdb,sata:36G",
        "file:/d.img,vdb,virtio:36G",
        "qcow2:/e.qcow2,vdz,virtio:36G",
    ]
    disks = domain(cli, "multi").findall("devices/disk")
    seen = [
        (
            d.get("type"),
            d.find("driver").get("type"),
            d.find("source").get("file") or d.find("source").get("dev"),
            d.find("target").get("dev"),
            d.find("target").get("bus"),
        )
        for d in disks
    ]
    assert seen == [
        ("file", "raw", "/a.img", "vda", "virtio"),
        ("file", "qcow2", "/b.qcow2", "hda", "ide"),
        ("block", "raw", "/dev/sdb", "sda", "scsi"),
        ("file", "raw", "/c.img", "sdb", "sata"),
        ("file", "raw", "/d.img", "vdb", "virtio"),
        ("file", "qcow2", "/e.qcow2", "vdz", "virtio"),
    ]
    assert all(d.get("device") == "disk" for d in disks)


def test_a_given_device_is_kept_and_others_avoid_it(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok(
        "add", "host", "vm", "vm-container-0-0", "name=d2", "disk=file:/x.img", "disk=file:/y,vda"
    )
    assert vm(cli, "d2")["disks"].split() == [
        "file:/x.img,vdb,virtio:36G",
        "file:/y,vda,virtio:36G",
    ]


@pytest.mark.parametrize(
    ("disks", "words"),
    [
        (["disk=file:images/vm.img"], ["images/vm.img", "absolute"]),
        (["disk=file:/var/../etc/x.img"], ["absolute, normalised"]),
        (["disk=raw:/var/vm.img"], ["TYPE", "file, qcow2, phy"]),
        (["disk=/var/vm.img"], ["TYPE:PATH,DEVICE,BUS"]),
        (["disk=file:/var/vm.img,vda,usb"], ["bus 'usb'", "virtio, ide, scsi, sata"]),
        (["disk=file:/var/vm.img,floppy0"], ["device 'floppy0'"]),
        (["disk=file:/var/vm.img,vda,virtio,x"], ["too many commas"]),
        (["disk=phy:/var/lib/sdb"], ["phy", "/dev"]),
        (["disk=file:/var/vm 1.img"], ["'1.img'", "spaces separate disks"]),
        (["disk=file:/var/vm;1.img"], ["characters"]),
        (["disk=file:/a.img", "disksize=1", "disksize=2"], ["1 disks but 2 disksize values"]),
        (["disk=file:/a.img file:/b.img", "disksize=1"], ["2 disks but 1 disksize values"]),
        (["disksize=1", "disksize=2"], ["2 disksize values for 1 disks"]),
    ],
)
def test_bad_disks_are_refused_in_one_line(
    example_cluster: Any, disks: list[str], words: list[str]
) -> None:
    cli = example_cluster
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", *disks))
    for word in words:
        assert word in line
    no_vm_defined(cli)
    assert interfaces(cli, "vm-container-0-0") == []
    # Nothing half-written: no host was left behind by the refused command.
    assert "hosted-vm-0-0-0" not in cli.ok("list", "host")


def test_disksize_per_disk(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "disksize=100")
    assert vm(cli, "hosted-vm-0-0-0")["disks"].endswith(",vda,virtio:100G")
    cli.ok(
        "add",
        "host",
        "vm",
        "vm-container-0-0",
        "name=two",
        "disk=file:/a.img",
        "disk=file:/b.img",
        "disksize=7 36",
    )
    assert vm(cli, "two")["disks"] == "file:/a.img,vda,virtio:7G file:/b.img,vdb,virtio:36G"


# -- interfaces ----------------------------------------------------------------------------


def test_num_macs_gives_that_many_interfaces(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=3")
    nics = interfaces(cli, "hosted-vm-0-0-0")
    assert [n["iface"] for n in nics] == ["eth0", "eth1", "eth2"]
    macs = [n["mac"] for n in nics]
    assert len(set(macs)) == 3 and "52:54:00:00:00:01" not in macs
    assert vm(cli, "hosted-vm-0-0-0")["mac"] == macs[0]
    xml_macs = [m.get("address") for m in domain(cli, "hosted-vm-0-0-0").iter("mac")]
    assert xml_macs == macs


def test_no_macs_means_no_interface(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=0")
    assert interfaces(cli, "hosted-vm-0-0-0") == []
    assert vm(cli, "hosted-vm-0-0-0")["mac"] is None
    assert domain(cli, "hosted-vm-0-0-0").find("devices/interface") is None


def test_given_macs_are_used_in_order_and_normalised(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok(
        "add", "host", "vm", "vm-container-0-0", "mac=52:54:00:AB:00:02", "mac=52-54-00-ab-00-01"
    )
    nics = interfaces(cli, "hosted-vm-0-0-0")
    assert [(n["iface"], n["mac"]) for n in nics] == [
        ("eth0", "52:54:00:ab:00:02"),
        ("eth1", "52:54:00:ab:00:01"),
    ]


def test_a_mac_of_another_host_is_refused(example_cluster: Any) -> None:
    cli = example_cluster
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", "mac=52:54:00:00:00:01"))
    assert "52:54:00:00:00:01" in line and "compute-0-0" in line
    no_vm_defined(cli)


def test_a_bad_mac_is_a_usage_error(example_cluster: Any) -> None:
    result = example_cluster("add", "host", "vm", "vm-container-0-0", "mac=52:54:00:00:01")
    assert result.code == 2
    assert "mac" in result.err
    no_vm_defined(example_cluster)


def test_given_macs_plus_allocated_ones_do_not_collide(example_cluster: Any) -> None:
    cli = example_cluster
    result = cli("add", "host", "vm", "vm-container-0-0", "mac=52:54:00:00:00:02", "num-macs=2")
    assert result.code == 0, result.err
    macs = [n["mac"] for n in interfaces(cli, "hosted-vm-0-0-0")]
    assert macs[0] == "52:54:00:00:00:02" and len(set(macs)) == 2


def test_the_same_mac_twice_is_refused_in_one_line(example_cluster: Any) -> None:
    cli = example_cluster
    result = cli("add", "host", "vm", "vm-container-0-0", *["mac=52:54:00:00:00:09"] * 2)
    line = error_line(result)
    assert "52:54:00:00:00:09" in line
    no_vm_defined(cli)


def test_subnet_ip_vlan_go_to_the_first_interface(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "network", "v7", "isolation=vlan", "id=7")  # Rocks: vlan 7 of private
    cli.ok(
        "add", "host", "interface", "vm-container-0-0", "eth8", "ip=10.1.255.240", "subnet=private"
    )
    cli.ok(
        "add",
        "host",
        "vm",
        "vm-container-0-0",
        "num-macs=2",
        "subnet=private",
        "ip=10.1.0.5",
        "vlan=7",
    )
    nics = interfaces(cli, "hosted-vm-0-0-0")
    assert [(n["iface"], n["ip"], n["subnet"], n["vlan"]) for n in nics] == [
        ("eth0", "10.1.0.5", "v7", 7),
        ("eth1", None, None, None),
    ]
    first, second = domain(cli, "hosted-vm-0-0-0").findall("devices/interface")
    assert first.get("type") == "bridge" and first.find("source").get("bridge") == "br-vl7"
    assert second.get("type") == "user" and second.find("source") is None


def test_an_ip_without_subnet_puts_eth0_on_private(example_cluster: Any, hv: Any) -> None:
    # Rocks and the help: the first interface is on private; an address
    # alone once left it on no network (user-mode NAT, out of the cluster's reach).
    cli = example_cluster
    cli.ok("set", "host", "attr", "vm-container-0-0", "kvm_connection", "test:///default")
    cli.ok("add", "host", "interface", "vm-container-0-0", "eth0", "subnet=private")
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=mig", "ip=10.1.0.7")
    (nic,) = interfaces(cli, "mig")
    assert (nic["iface"], nic["ip"], nic["subnet"]) == ("eth0", "10.1.0.7", "private")
    xml = cli.ok("report", "host", "vm", "config", "mig")
    defined = hv.defineXML(xml)  # the test driver takes it as it is
    try:
        live = etree.fromstring(defined.XMLDesc(0).encode())
    finally:
        defined.undefine()
    (iface,) = live.findall("devices/interface")
    assert iface.get("type") == "bridge"
    assert iface.find("source").get("bridge") == "br0"  # private's bridge


def test_an_unknown_subnet_is_refused(example_cluster: Any) -> None:
    cli = example_cluster
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", "subnet=nowhere"))
    assert "nowhere" in line
    no_vm_defined(cli)


# -- UUIDs ---------------------------------------------------------------------------------


def test_uuid_round_trips(example_cluster: Any) -> None:
    cli = example_cluster
    given = "6F1C2B9E-3D4A-4C8B-9E7F-0A1B2C3D4E5F"
    cli.ok("add", "host", "vm", "vm-container-0-0", f"uuid={given}")
    assert domain(cli, "hosted-vm-0-0-0").findtext("uuid") == given.lower()
    assert f"uuid={given.lower()}" in cli.ok("dump", "host", "vm").split()


def test_a_new_vm_gets_a_random_uuid(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0")
    cli.ok("add", "host", "vm", "vm-container-0-0")
    first = domain(cli, "hosted-vm-0-0-0").findtext("uuid")
    second = domain(cli, "hosted-vm-0-0-1").findtext("uuid")
    pattern = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert pattern.match(first) and pattern.match(second) and first != second


def test_a_bad_uuid_is_refused(example_cluster: Any) -> None:
    cli = example_cluster
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", "uuid=not-a-uuid"))
    assert "not-a-uuid" in line and "UUID" in line
    no_vm_defined(cli)


def test_a_uuid_in_use_is_refused_in_one_line(example_cluster: Any) -> None:
    cli = example_cluster
    given = "6f1c2b9e-3d4a-4c8b-9e7f-0a1b2c3d4e5f"
    cli.ok("add", "host", "vm", "vm-container-0-0", f"uuid={given}")
    line = error_line(cli("add", "host", "vm", "vm-container-0-1", f"uuid={given}"))
    assert given in line


# -- which hosts are containers ------------------------------------------------------------


def test_a_compute_host_is_refused_with_how_to_enable_it(example_cluster: Any) -> None:
    cli = example_cluster
    line = error_line(cli("add", "host", "vm", "compute-0-0"))
    assert "compute-0-0 cannot run VMs" in line
    assert "cairn set host attr compute-0-0 kvm true" in line
    no_vm_defined(cli)
    assert "hosted-vm-0-0-0" not in cli.ok("list", "host")


@pytest.mark.parametrize(
    "enable",
    [
        ["set", "host", "attr", "compute-0-1", "kvm", "true"],
        ["set", "appliance", "attr", "compute", "kvm", "yes"],
        ["set", "os", "attr", "linux", "kvm", "on"],
        ["set", "attr", "kvm", "1"],
    ],
    ids=["host", "appliance", "os", "global"],
)
def test_kvm_true_at_any_scope_makes_a_container(example_cluster: Any, enable: list[str]) -> None:
    cli = example_cluster
    cli.ok(*enable)
    assert cli.ok("add", "host", "vm", "compute-0-1") == (
        "added hosted-vm-0-1-0 on compute-0-1 slice 0\n"
    )
    assert vm(cli, "hosted-vm-0-1-0")["container"] == "compute-0-1"


def test_kvm_false_on_the_host_beats_true_on_its_appliance(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("set", "appliance", "attr", "compute", "kvm", "true")
    cli.ok("set", "host", "attr", "compute-0-1", "kvm", "false")
    line = error_line(cli("add", "host", "vm", "compute-0-1"))
    assert "compute-0-1 cannot run VMs" in line
    assert cli.ok("add", "host", "vm", "compute-0-0").startswith("added ")


def test_a_vm_container_stays_a_container_with_kvm_false(example_cluster: Any) -> None:
    # COMMANDS.md: the appliance vm-container, OR kvm true, makes a container.
    cli = example_cluster
    cli.ok("set", "host", "attr", "vm-container-0-0", "kvm", "false")
    cli.ok("set", "appliance", "attr", "vm-container", "kvm", "false")
    assert cli.ok("add", "host", "vm", "vm-container-0-0").startswith("added hosted-vm-0-0-0 ")


def test_a_container_word_must_name_one_host(example_cluster: Any) -> None:
    cli = example_cluster
    line = error_line(cli("add", "host", "vm", "vm-container"))
    assert "2 hosts" in line
    missing = cli("add", "host", "vm", "vm-container-9-9")
    assert missing.code == 1 and "vm-container-9-9" in missing.err
    no_vm_defined(cli)


def test_help_names_every_parameter(example_cluster: Any) -> None:
    out = example_cluster.ok("add", "host", "vm", "help")
    for word in ("name", "mem", "cpus", "slice", "mac", "num-macs", "disk", "disksize", "uuid"):
        assert re.search(rf"\b{re.escape(word)}=", out), word
