"""Disk SPECs `TYPE:PATH,DEVICE,BUS` and the default disk (cairn.vms.disks), without a
database. The commands that use them are tested in tests/unit/commands/test_vm_add.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn.errors import CairnError
from cairn.vms import disks
from cairn.vms.disks import DiskSpec, DiskSpecError


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("file:/a.img", DiskSpec("file", "/a.img", "", "virtio")),
        ("qcow2:/a.qcow2,vdb", DiskSpec("qcow2", "/a.qcow2", "vdb", "virtio")),
        ("phy:/dev/sdb,sda,scsi", DiskSpec("phy", "/dev/sdb", "sda", "scsi")),
        ("file:/a.img,,ide", DiskSpec("file", "/a.img", "", "ide")),
        ("file:/a.img,hdaa,sata", DiskSpec("file", "/a.img", "hdaa", "sata")),
        ("file:/v/a:b=c@d%e+f.img", DiskSpec("file", "/v/a:b=c@d%e+f.img", "", "virtio")),
    ],
)
def test_parse(text: str, spec: DiskSpec) -> None:
    assert disks.parse(text) == spec


@pytest.mark.parametrize(
    "text",
    [
        "",
        "file",
        "/a.img",
        "FILE:/a.img",
        "raw:/a.img",
        "file:",
        "file:a.img",
        "file:/a/../b.img",
        "file:/a//b.img",
        "file:/a/./b.img",
        "file:/a/b/",
        "file:/a b.img",
        "file:/a\nb.img",
        "file:/a'b.img",
        'file:/a"b.img',
        "file:/a<b>.img",
        "file:/a&b.img",
        "file:/a.img,vda,virtio,extra",
        "file:/a.img,vda,VIRTIO",
        "file:/a.img,vda,usb",
        "file:/a.img,VDA",
        "file:/a.img,nvme0n1",
        "file:/a.img,vd",
        "file:/a.img,vdabc",
        "phy:/var/sdb",
        "phy:/devices/sdb",
    ],
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(DiskSpecError) as caught:
        disks.parse(text)
    message = str(caught.value)
    assert "\n" not in message
    assert isinstance(caught.value, CairnError)


def test_assign_devices_per_bus_prefix() -> None:
    specs = [disks.parse(s) for s in ("file:/a", "file:/b,,ide", "file:/c,,scsi", "file:/d,,sata")]
    assert [s.device for s in disks.assign_devices(specs)] == ["vda", "hda", "sda", "sdb"]


def test_assign_devices_keeps_given_names_and_avoids_them() -> None:
    specs = [disks.parse(s) for s in ("file:/a", "file:/b,vda", "file:/c", "file:/d,vdc")]
    assert [s.device for s in disks.assign_devices(specs)] == ["vdb", "vda", "vdd", "vdc"]


def test_a_device_name_twice_gives_the_later_disk_the_next_free_one() -> None:
    # Rocks documents DEVICE as an ordering hint; its own t6001 gives vda twice.
    specs = [disks.parse(s) for s in ("file:/a,sda,scsi", "file:/b,sda,sata", "file:/c,sdb,scsi")]
    notes: list[str] = []
    out = disks.assign_devices(specs, notes)
    assert [s.device for s in out] == ["sda", "sdc", "sdb"]
    assert notes == ["disk /b: device sda is taken by an earlier disk; it is sdc"]


def test_assign_devices_keeps_order_kind_path_and_bus() -> None:
    specs = [disks.parse(s) for s in ("qcow2:/q,,ide", "phy:/dev/x,,scsi")]
    out = disks.assign_devices(specs)
    assert [(s.kind, s.path, s.bus) for s in out] == [
        ("qcow2", "/q", "ide"),
        ("phy", "/dev/x", "scsi"),
    ]
    assert [s.text() for s in out] == ["qcow2:/q,hda,ide", "phy:/dev/x,sda,scsi"]


def test_default_disk() -> None:
    assert disks.default("/var/lib/libvirt/images", "vm-0-0-0") == DiskSpec(
        "file", "/var/lib/libvirt/images/vm-0-0-0.vda", "vda", "virtio"
    )
    assert disks.default("/data/", "x").path == "/data/x.vda"
    with pytest.raises(DiskSpecError, match="kvm_disk_dir"):
        disks.default("images", "x")


@given(st.text(max_size=40))
def test_a_parsed_spec_prints_back_and_parses_the_same(text: str) -> None:
    try:
        spec = disks.parse(text)
    except DiskSpecError as exc:
        assert "\n" not in str(exc)
        return
    assert spec.kind in disks.KINDS and spec.bus in disks.BUSES
    assert spec.path.startswith("/")
    (assigned,) = disks.assign_devices([spec])
    assert disks.parse(assigned.text()) == assigned
