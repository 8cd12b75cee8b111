"""Rocks command lines cairn takes as Rocks did (issue: `remove host vm`,
space-separated lists, per-field interface commands, Rocks' defaults)."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
from lxml import etree


def rows(cli: Any, *words: str) -> list[dict[str, Any]]:
    return json.loads(cli.ok(*words, "output-format=json"))


def one_error(result: Any, code: int = 1) -> str:
    assert result.code == code, result
    lines = result.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error - "), result.err
    return lines[0]


def test_a_host_named_vm_is_not_removed_by_remove_host_vm(example_cluster: Any) -> None:
    cli = example_cluster
    if "vm" not in {r["host"] for r in rows(cli, "list", "host")}:  # this machine may be vm
        cli.ok("add", "host", "host=vm", "appliance=compute", "rack=9", "rank=9")
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=guest")
    cli.ok("remove", "host", "vm", "guest")
    hosts = {r["host"] for r in rows(cli, "list", "host")}
    assert {"vm", "guest"} <= hosts  # the host named vm stays, and so does guest as a host
    assert rows(cli, "list", "host", "vm") == []


def test_a_word_that_starts_a_longer_command_is_not_taken_as_an_argument(
    example_cluster: Any,
) -> None:
    cli = example_cluster
    # `dump` is a command, and `dump os attr` a longer one: `dump os linux` is
    # not read as `dump` with the words os and linux.
    err = one_error(cli("dump", "os", "linux"), code=2)
    assert "did you mean: dump os attr?" in err
    # A command below the typed words is named when the words after them are unknown.
    err = one_error(cli("report", "host", "vm", "compute-0-0"), code=2)
    assert "report host vm config" in err
    # Given as a parameter, a word is an argument, as the user says.
    cli.ok("add", "host", "host=attr", "appliance=compute", "rack=9", "rank=9")
    assert "removed attr" in cli.ok("remove", "host", "host=attr")


def test_remove_host_vm_keeps_the_host_its_interfaces_and_attributes(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=2")
    cli.ok("set", "host", "attr", "hosted-vm-0-0-0", "kvm_autostart", "true")
    out = cli.ok("remove", "host", "vm", "hosted-vm-0-0-0")
    assert out == "removed the VM definition of hosted-vm-0-0-0\n"
    assert [r["iface"] for r in rows(cli, "list", "host", "interface", "hosted-vm-0-0-0")] == [
        "eth0",
        "eth1",
    ]
    attrs = {r["attr"]: r for r in rows(cli, "list", "host", "attr", "hosted-vm-0-0-0")}
    assert attrs["kvm_autostart"]["source"] == "H"
    err = one_error(cli("list", "host", "vm", "hosted-vm-0-0-0"))
    assert "not a virtual machine" in err


def test_remove_host_vm_of_a_host_that_is_no_vm_is_refused(example_cluster: Any) -> None:
    err = one_error(example_cluster("remove", "host", "vm", "compute-0-0"))
    assert "compute-0-0 is not a virtual machine" in err


def test_dump_remove_replay_gives_the_same_vm_back(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-1", "name=v1", "num-macs=2", "mem=3000")
    cli.ok("set", "host", "vm", "cdrom", "v1", "cdrom=/isos/x.iso")
    before = cli.ok("list", "host", "vm", "v1", "showdisks=yes")
    dump = cli.ok("dump", "host", "vm", "v1")
    assert dump.startswith("cairn set host vm v1 physnode=vm-container-0-1 mem=3000 ")  # as Rocks
    cli.ok("remove", "host", "vm", "v1")
    for line in dump.splitlines():
        cli.ok(*shlex.split(line)[1:])
    assert cli.ok("list", "host", "vm", "v1", "showdisks=yes") == before
    assert cli.ok("dump", "host", "vm", "v1") == dump


def test_a_dump_line_as_rocks_printed_it_replays(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "compute-0-5", "appliance=compute", "rack=0", "rank=5", "cpus=2")
    cli.ok("add", "host", "interface", "compute-0-5", "eth0", "mac=52:54:00:00:0a:01")
    # Rocks 6.2's dump host vm, `rocks` replaced by `cairn`:
    cli.line(
        "cairn set host vm compute-0-5 physnode='vm-container-0-0'"
        " disk='file:/state/partition1/kvm/disks/compute-0-5.vda,vda,virtio"
        " file:/state/partition1/kvm/disks/compute-0-5.vdb,vdb,virtio' disksize='36 10'"
        " mem='1024' slice='3' virt-type='None'"
    )
    (first, second) = rows(cli, "list", "host", "vm", "compute-0-5", "showdisks=yes")
    assert (first["slice"], first["mem"], first["cpus"], first["container"]) == (
        3,
        1024,
        2,
        "vm-container-0-0",
    )
    assert first["mac"] == "52:54:00:00:0a:01"
    assert (first["disksize"], second["disksize"]) == (36, 10)
    assert second["disk"] == "file:/state/partition1/kvm/disks/compute-0-5.vdb,vdb,virtio"


def test_set_host_vm_defines_only_a_host_named_alone(example_cluster: Any) -> None:
    cli = example_cluster
    err = one_error(cli("set", "host", "vm", "compute", "physnode=vm-container-0-0"))
    assert "name it alone" in err
    err = one_error(cli("set", "host", "vm", "compute-0-1", "mem=2048"))
    assert "physnode=CONTAINER" in err
    assert rows(cli, "list", "host", "vm") == []


@pytest.mark.parametrize(
    "spaced",
    [
        ("disk=file:/d/a.img,vda,virtio file:/d/b.img,vdb,virtio", "disksize=67 28"),
        (
            "disk=file:/d/a.img,vda,virtio",
            "disk=file:/d/b.img,vdb,virtio",
            "disksize=67",
            "disksize=28",
        ),
    ],
    ids=["rocks-spaced", "repeated"],
)
def test_disk_lists_spaced_or_repeated(example_cluster: Any, spaced: tuple[str, ...]) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v", *spaced)
    listed = rows(cli, "list", "host", "vm", "v", "showdisks=yes")
    assert [(r["disk"], r["disksize"]) for r in listed] == [
        ("file:/d/a.img,vda,virtio", 67),
        ("file:/d/b.img,vdb,virtio", 28),
    ]


def test_lists_of_different_lengths_are_refused_and_nothing_is_stored(
    example_cluster: Any,
) -> None:
    cli = example_cluster
    err = one_error(
        cli(
            "add",
            "host",
            "vm",
            "vm-container-0-0",
            "name=v",
            "disk=file:/d/a file:/d/b",
            "disksize=5",
        )
    )
    assert "2 disks but 1 disksize values" in err
    assert rows(cli, "list", "host", "vm") == []
    assert "v" not in {r["host"] for r in rows(cli, "list", "host")}


def test_a_device_name_given_twice_is_an_ordering_hint(example_cluster: Any) -> None:
    cli = example_cluster
    result = cli(
        "add", "host", "vm", "vm-container-0-0", "name=v", "disk=file:/d/a,vda file:/d/b,vda"
    )
    assert result.code == 0, result
    assert "warning - disk /d/b: device vda is taken by an earlier disk; it is vdb" in result.err
    assert [r["disk"] for r in rows(cli, "list", "host", "vm", "v", "showdisks=yes")] == [
        "file:/d/a,vda,virtio",
        "file:/d/b,vdb,virtio",
    ]


def test_vlan_list_per_interface(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok(
        "add", "host", "interface", "vm-container-0-0", "eth8", "ip=10.1.255.240", "subnet=private"
    )
    for vid in (3, 5):  # a VLAN is a network's (Rocks: subnet=private vlan=N)
        cli.ok("add", "network", f"v{vid}", "isolation=vlan", f"id={vid}")
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v", "num-macs=3", "vlan=3,none,5")
    listed = rows(cli, "list", "host", "interface", "v")
    assert [r["vlan"] for r in listed] == [3, None, 5]
    err = one_error(
        cli("add", "host", "vm", "vm-container-0-0", "name=w", "num-macs=1", "vlan=3,4"), code=1
    )
    assert "2 vlan values for 1 interfaces" in err


def test_list_host_vm_rows_as_rocks_printed_them(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v", "num-macs=2", "mem=5535")
    text = cli.ok("list", "host", "vm", "v").splitlines()
    assert text[0].split() == ["SLICE", "MEM", "CPUS", "MAC", "CONTAINER", "CDROM"]
    assert text[1].split()[1] == "5535"  # awk '{print $2}', as in Rocks' t6001
    assert text[2].split()[:3] == ["-", "-", "-"]
    # Several VMs (or a glob): the VM-HOST column is there, on every row.
    text = cli.ok("list", "host", "vm").splitlines()
    assert text[0].split()[0] == "VM-HOST"
    assert [line.split()[0] for line in text[1:]] == ["v", "v"]
    # JSON keeps every key even for one VM.
    assert rows(cli, "list", "host", "vm", "v")[0]["vm-host"] == "v"


@pytest.mark.parametrize(
    ("field", "value", "column", "shown"),
    [
        ("ip", "10.1.255.1", "ip", "10.1.255.1"),
        ("mac", "52:54:00:00:0b:01", "mac", "52:54:00:00:0b:01"),
        ("subnet", "public", "subnet", "public"),
        ("vlan", "7", "vlan", 7),
        ("name", "compute-0-0-ib", "name", "compute-0-0-ib"),
        ("module", "e1000", "module", "e1000"),
        ("disablekvm", "true", "disablekvm", True),
    ],
)
def test_one_field_interface_commands(
    example_cluster: Any, field: str, value: str, column: str, shown: Any
) -> None:
    cli = example_cluster
    if field == "vlan":  # a VLAN is a network's: the one with that 802.1Q id
        cli.ok("add", "network", "v7", "isolation=vlan", "id=7")
    cli.ok("set", "host", "interface", field, "compute-0-0", "eth0", value)
    (row,) = rows(cli, "list", "host", "interface", "compute-0-0")
    assert row[column] == shown
    # Rocks' parameter form names the same field.
    cli.ok("set", "host", "interface", field, "host=compute-0-0", "iface=eth0", f"{field}={value}")


def test_none_clears_a_field_and_bad_values_change_nothing(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("set", "host", "interface", "ip", "compute-0-0", "eth0", "none")
    (row,) = rows(cli, "list", "host", "interface", "compute-0-0")
    assert row["ip"] is None
    before = cli.ok("list", "host", "interface")
    one_error(
        cli("set", "host", "interface", "ip", "compute-0-0", "eth0", "10.9.0.1")
    )  # not in private
    one_error(cli("set", "host", "interface", "vlan", "compute-0-0", "eth0", "5000"), code=2)
    one_error(cli("set", "host", "interface", "module", "compute-0-0", "eth0", "e1000;rm"), code=2)
    one_error(cli("set", "host", "interface", "mac", "compute-0-0", "eth9", "52:54:00:00:0b:02"))
    assert cli.ok("list", "host", "interface") == before


def test_disablekvm_leaves_the_interface_out_of_the_domain(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=v", "num-macs=2")
    macs = [r["mac"] for r in rows(cli, "list", "host", "interface", "v")]
    cli.ok("set", "host", "interface", "disablekvm", "v", "eth0", "yes")
    root = etree.fromstring(cli.ok("report", "host", "vm", "config", "v").encode())
    assert [m.get("address") for m in root.iter("mac")] == [macs[1]]
    # ... and it is still in the database, and in the dump.
    assert "disablekvm=yes" in cli.ok("dump")


def test_new_database_has_rocks_networks_and_vm_defaults(cli: Any) -> None:
    nets = {r["network"]: r for r in rows(cli, "list", "network")}
    assert (nets["private"]["subnet"], nets["private"]["netmask"]) == ("10.1.0.0", "255.255.0.0")
    assert nets["public"]["subnet"] is None
    assert (nets["private"]["bridge"], nets["public"]["bridge"]) == ("br-private", "br-public")
    cli.ok("add", "host", "c", "appliance=vm-container")
    cli.ok("add", "host", "vm", "c", "name=u")  # c has no way onto private yet: user-mode
    (iface,) = rows(cli, "list", "host", "interface", "u")
    assert iface["subnet"] is None
    cli.ok("add", "host", "interface", "c", "eth0", "ip=10.1.255.250", "subnet=private")
    cli.ok("add", "host", "vm", "c", "name=v")
    (vm,) = rows(cli, "list", "host", "vm", "v")
    assert vm["mem"] == 1024
    (iface,) = rows(cli, "list", "host", "interface", "v")
    assert iface["subnet"] == "private"


def test_set_network(cli: Any) -> None:
    cli.ok("set", "network", "private", "subnet=10.5.0.0/16", "bridge=br0")
    (net,) = [r for r in rows(cli, "list", "network") if r["network"] == "private"]
    assert (net["subnet"], net["netmask"], net["bridge"]) == ("10.5.0.0", "255.255.0.0", "br0")
    cli.ok("add", "host", "h", "appliance=compute")
    cli.ok("add", "host", "interface", "h", "eth0", "ip=10.5.0.9", "subnet=private")
    err = one_error(cli("set", "network", "private", "subnet=10.6.0.0"))
    assert "10.5.0.9" in err
    one_error(cli("set", "network", "private"), code=2)


def test_rocks_kvm_save_directory_names_cairns_attribute(cli: Any) -> None:
    err = one_error(cli("set", "attr", "kvm_save_directory", "/state/kvm"))
    assert "set kvm_save_dir instead" in err
    assert "kvm_save_directory" not in cli.ok("list", "attr")
