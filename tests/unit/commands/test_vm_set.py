"""`cairn set host vm` (memory, CPUs, slice, container, disks) and
`cairn set host vm cdrom` (COMMANDS.md "Virtual machines"; seed: CDROM)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from cairn.domainxml import schema
from testkit import vm_summary

DEFAULT_DISK = "file:/var/lib/libvirt/images/hosted-vm-0-0-0.vda,vda,virtio:36G"


def error_line(result: Any) -> str:
    assert result.code == 1, f"expected a refusal, got {result}"
    lines = result.err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {result.err!r}"
    assert lines[0].startswith("error - "), lines[0]
    return lines[0]


def vm(cli: Any, name: str) -> dict[str, Any]:
    return vm_summary(cli, name)


def domain(cli: Any, name: str) -> etree._Element:
    root = etree.fromstring(cli.ok("report", "host", "vm", "config", name).encode())
    schema.validate(root, what=f"report of {name}")
    return root


@pytest.fixture
def one_vm(example_cluster: Any) -> Any:
    example_cluster.ok("add", "host", "vm", "vm-container-0-0")
    return example_cluster


def test_mem_and_cpus(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "mem=8192", "cpus=6")
    row = vm(cli, "hosted-vm-0-0-0")
    assert (row["mem"], row["cpus"]) == (8192, 6)
    root = domain(cli, "hosted-vm-0-0-0")
    assert (root.findtext("memory"), root.findtext("vcpu")) == (str(8192 * 1024), "6")


def test_nothing_to_change_is_a_usage_error_that_lists_what_may_change(one_vm: Any) -> None:
    result = one_vm("set", "host", "vm", "hosted-vm-0-0-0")
    assert result.code == 2
    assert result.err.startswith("error - 'set host vm' changes nothing without one of: physnode=")


def test_out_of_range_values_are_usage_errors(one_vm: Any) -> None:
    cli = one_vm
    for word in ("mem=0", "cpus=0", "mem=lots", "slice=-1"):
        result = cli("set", "host", "vm", "hosted-vm-0-0-0", word)
        assert result.code == 2, word
    row = vm(cli, "hosted-vm-0-0-0")
    assert (row["mem"], row["cpus"], row["slice"]) == (1024, 1, 0)


def test_a_free_slice_is_taken_and_a_used_one_refused(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("add", "host", "vm", "vm-container-0-0")  # slice 1
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "slice=4")
    assert vm(cli, "hosted-vm-0-0-0")["slice"] == 4
    line = error_line(cli("set", "host", "vm", "hosted-vm-0-0-0", "slice=1"))
    assert "slice 1 of vm-container-0-0 is taken" in line
    assert vm(cli, "hosted-vm-0-0-0")["slice"] == 4
    # Its own slice is not "taken".
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "slice=4")


def test_physnode_moves_to_another_container(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "slice=3")
    cli.ok("add", "host", "vm", "vm-container-0-1", "name=there")  # slice 0 of 0-1
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "physnode=vm-container-0-1")
    row = vm(cli, "hosted-vm-0-0-0")
    assert row["container"] == "vm-container-0-1"
    # The name is the VM's own and stays; the slice is the next free one there.
    assert row["slice"] == 1
    assert row["disks"] == DEFAULT_DISK
    # Nothing is left on the old container.
    assert cli.ok("add", "host", "vm", "vm-container-0-0", "name=back").endswith("slice 0\n")


def test_physnode_takes_the_lowest_free_slice_there(one_vm: Any) -> None:
    cli = one_vm
    # vm-container-0-1 is empty: its next free slice is 0, whatever the VM had.
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "slice=2")
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "physnode=vm-container-0-1")
    row = vm(cli, "hosted-vm-0-0-0")
    assert (row["container"], row["slice"]) == ("vm-container-0-1", 0)


def test_physnode_with_a_slice(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "physnode=vm-container-0-1", "slice=3")
    row = vm(cli, "hosted-vm-0-0-0")
    assert (row["container"], row["slice"]) == ("vm-container-0-1", 3)


def test_physnode_to_the_same_container_keeps_the_slice(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "slice=2")
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "physnode=vm-container-0-0")
    row = vm(cli, "hosted-vm-0-0-0")
    assert (row["container"], row["slice"]) == ("vm-container-0-0", 2)


def test_physnode_must_be_a_container(one_vm: Any) -> None:
    cli = one_vm
    line = error_line(cli("set", "host", "vm", "hosted-vm-0-0-0", "physnode=compute-0-1"))
    assert "compute-0-1 cannot run VMs" in line
    assert "cairn set host attr compute-0-1 kvm true" in line
    assert vm(cli, "hosted-vm-0-0-0")["container"] == "vm-container-0-0"
    # Once it may run VMs, the move works.
    cli.ok("set", "host", "attr", "compute-0-1", "kvm", "true")
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "physnode=compute-0-1")
    assert vm(cli, "hosted-vm-0-0-0")["container"] == "compute-0-1"


def test_physnode_must_exist(one_vm: Any) -> None:
    result = one_vm("set", "host", "vm", "hosted-vm-0-0-0", "physnode=nowhere-0-0")
    assert result.code == 1 and "nowhere-0-0" in result.err
    assert vm(one_vm, "hosted-vm-0-0-0")["container"] == "vm-container-0-0"


def test_physnode_when_the_old_slice_is_taken_there(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("add", "host", "vm", "vm-container-0-1", "name=there")  # slice 0 of 0-1
    result = cli("set", "host", "vm", "hosted-vm-0-0-0", "physnode=vm-container-0-1")
    assert result.code == 0, result.err
    row = vm(cli, "hosted-vm-0-0-0")
    assert (row["container"], row["slice"]) == ("vm-container-0-1", 1)


def test_disk_replaces_all_disks(one_vm: Any) -> None:
    cli = one_vm
    cli.ok(
        "set",
        "host",
        "vm",
        "hosted-vm-0-0-0",
        "disk=qcow2:/data/a.qcow2",
        "disk=phy:/dev/sdc,,scsi",
        "disksize=50 36",
    )
    assert vm(cli, "hosted-vm-0-0-0")["disks"] == (
        "qcow2:/data/a.qcow2,vda,virtio:50G phy:/dev/sdc,sda,scsi:36G"
    )
    disks = domain(cli, "hosted-vm-0-0-0").findall("devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["vda", "sda"]
    # The same device name may be used again by the replacement.
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "disk=file:/data/b.img,vda")
    assert vm(cli, "hosted-vm-0-0-0")["disks"] == "file:/data/b.img,vda,virtio:36G"


def test_disksize_alone_resizes_in_order(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "disk=file:/a.img", "disk=file:/b.img")
    cli.ok("set", "host", "vm", "hosted-vm-0-0-0", "disksize=11", "disksize=22")
    assert vm(cli, "hosted-vm-0-0-0")["disks"] == (
        "file:/a.img,vda,virtio:11G file:/b.img,vdb,virtio:22G"
    )
    line = error_line(cli("set", "host", "vm", "hosted-vm-0-0-0", *["disksize=5"] * 3))
    assert "3 disksize values for the 2 disks" in line
    assert "11G" in vm(cli, "hosted-vm-0-0-0")["disks"]


def test_a_bad_disk_leaves_the_old_ones(one_vm: Any) -> None:
    cli = one_vm
    line = error_line(
        cli("set", "host", "vm", "hosted-vm-0-0-0", "disk=file:/a.img,vda", "disk=file:/b,fd0")
    )
    assert "fd0" in line
    assert vm(cli, "hosted-vm-0-0-0")["disks"] == DEFAULT_DISK


def test_a_host_that_is_not_a_vm_is_refused(one_vm: Any) -> None:
    line = error_line(one_vm("set", "host", "vm", "compute-0-0", "mem=4096"))
    assert "compute-0-0 is not a virtual machine" in line


def test_a_glob_changes_every_vm_it_names(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("add", "host", "vm", "vm-container-0-0")
    cli.ok("set", "host", "vm", "hosted-vm-0-0-*", "mem=1024")
    rows = json.loads(cli.ok("list", "host", "vm", "output-format=json"))
    assert [r["mem"] for r in rows] == [1024, 1024]


# -- cdrom -------------------------------------------------------------------------------


def boot_order(root: etree._Element) -> list[str]:
    return [b.get("dev") for b in root.findall("os/boot")]


def cdroms(root: etree._Element) -> list[etree._Element]:
    return [d for d in root.findall("devices/disk") if d.get("device") == "cdrom"]


def test_cdrom_attaches_and_changes_the_boot_order(one_vm: Any) -> None:
    cli = one_vm
    before = domain(cli, "hosted-vm-0-0-0")
    assert boot_order(before) == ["network", "hd"]
    assert cdroms(before) == []
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", "cdrom=/isos/rescue.iso")
    assert vm(cli, "hosted-vm-0-0-0")["cdrom"] == "/isos/rescue.iso"
    root = domain(cli, "hosted-vm-0-0-0")
    assert boot_order(root) == ["cdrom", "network", "hd"]
    (cdrom,) = cdroms(root)
    assert cdrom.get("type") == "file"
    assert cdrom.find("source").get("file") == "/isos/rescue.iso"
    assert cdrom.find("target").get("bus") == "ide"
    assert cdrom.find("readonly") is not None
    # The disk is still there, first.
    assert root.findall("devices/disk")[0].get("device") == "disk"


def test_a_dev_cdrom_is_a_block_device(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", "cdrom=/dev/sr0")
    (cdrom,) = cdroms(domain(cli, "hosted-vm-0-0-0"))
    assert cdrom.get("type") == "block"
    assert cdrom.find("source").get("dev") == "/dev/sr0"


@pytest.mark.parametrize("none", ["none", "NONE", "None"])
def test_cdrom_none_removes_it(one_vm: Any, none: str) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", "cdrom=/isos/rescue.iso")
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", f"cdrom={none}")
    assert vm(cli, "hosted-vm-0-0-0")["cdrom"] is None
    root = domain(cli, "hosted-vm-0-0-0")
    assert cdroms(root) == []
    assert boot_order(root) == ["network", "hd"]


def test_cdrom_as_a_positional_argument(one_vm: Any) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", "/isos/a.iso")
    assert vm(cli, "hosted-vm-0-0-0")["cdrom"] == "/isos/a.iso"


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("isos/rescue.iso", "absolute"),
        ("/isos/../etc/shadow", "normalised"),
        ("/isos/a b.iso", "characters"),
        ("/isos/a'.iso", "characters"),
    ],
)
def test_a_bad_cdrom_path_is_refused(one_vm: Any, path: str, why: str) -> None:
    cli = one_vm
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", "cdrom=/isos/ok.iso")
    line = error_line(cli("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", f"cdrom={path}"))
    assert why in line and "cdrom" in line
    assert vm(cli, "hosted-vm-0-0-0")["cdrom"] == "/isos/ok.iso"


def test_cdrom_of_a_host_that_is_not_a_vm(one_vm: Any) -> None:
    line = error_line(one_vm("set", "host", "vm", "cdrom", "compute-0-1", "cdrom=/a.iso"))
    assert "compute-0-1 is not a virtual machine" in line


def test_a_vm_cannot_run_on_itself_nor_on_what_it_runs(one_vm: Any) -> None:
    """A VM is not its own container, nor the container of one of its containers,
    however deep: no such VM could ever start."""
    cli = one_vm
    cli.ok("set", "host", "attr", "hosted-vm-0-0-0", "kvm", "true")  # it may hold VMs
    line = error_line(cli("set", "host", "vm", "hosted-vm-0-0-0", "physnode=hosted-vm-0-0-0"))
    assert "hosted-vm-0-0-0 cannot run on itself" in line
    cli.ok("set", "host", "vm", "vm-container-0-1", "physnode=hosted-vm-0-0-0")
    cli.ok("set", "host", "attr", "vm-container-0-1", "kvm", "true")
    before = cli.dump()
    line = error_line(cli("set", "host", "vm", "hosted-vm-0-0-0", "physnode=vm-container-0-1"))
    assert "cannot run on vm-container-0-1, which runs on it" in line
    # Two deep: vm-container-0-0 holds hosted-vm-0-0-0, which holds vm-container-0-1.
    line = error_line(cli("set", "host", "vm", "vm-container-0-0", "physnode=vm-container-0-1"))
    assert "(vm-container-0-1 on hosted-vm-0-0-0 on vm-container-0-0)" in line
    assert cli.dump() == before
