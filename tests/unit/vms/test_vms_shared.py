"""kvm_ha only for VMs whose storage every container reaches (cairn.vms.shared):
file and qcow2 disks in a directory of vm_shared_dirs, phy disks listed there,
a CDROM there too; refused in one line when set, at any scope, and nothing is
stored."""

from __future__ import annotations

import pytest

from testkit import one_error_line

CONTAINER = "vm-container-0-0"
SHARED = "/srv/nfs/vms"


@pytest.fixture
def ha_cli(cli, config):
    """Disks anywhere (as the suite's config), /srv/nfs/vms and /dev/disk/by-id/ shared."""
    config.write_text(
        'vm_storage_dirs = ["/"]\nvm_host_devices = ["/dev/"]\n'
        f'vm_shared_dirs = ["{SHARED}", "/dev/disk/by-id/"]\n'
    )
    cli.ok("add", "host", CONTAINER, "appliance=vm-container")
    return cli


def add_vm(cli, name: str, *disks: str) -> str:
    cli.ok("add", "host", "vm", CONTAINER, f"name={name}", *(f"disk={d}" for d in disks))
    return name


def refused(cli, *words: str) -> str:
    before = cli.dump()
    done = cli(*words)
    assert done.code != 0
    assert cli.dump() == before, "a refused kvm_ha changed something"
    return one_error_line(done.err)


def test_a_vm_on_local_disk_is_refused_naming_the_disk_and_what_qualifies(ha_cli):
    add_vm(ha_cli, "local", "file:/var/lib/libvirt/images/local.vda,vda,virtio")

    said = refused(ha_cli, "set", "host", "attr", "local", "kvm_ha", "true")

    assert "local cannot have kvm_ha" in said
    assert "disk /var/lib/libvirt/images/local.vda (file)" in said
    assert SHARED in said and "qcow2" in said and "phy" in said


def test_disks_on_shared_storage_qualify(ha_cli):
    add_vm(
        ha_cli, "nfs",
        f"file:{SHARED}/nfs.vda,vda,virtio", f"qcow2:{SHARED}/sub/nfs.vdb,vdb,virtio",
        "phy:/dev/disk/by-id/wwn-0x5000,vdc,virtio",
    )  # fmt: skip

    ha_cli.ok("set", "host", "attr", "nfs", "kvm_ha", "true")

    assert "kvm_ha" in ha_cli.ok("list", "host", "attr", "nfs", "attr=kvm_ha")


def test_a_local_phy_disk_or_a_look_alike_directory_does_not_qualify(ha_cli):
    add_vm(ha_cli, "sda", f"file:{SHARED}/sda.vda,vda,virtio", "phy:/dev/sda,vdb,virtio")
    add_vm(ha_cli, "alike", f"file:{SHARED}-local/alike.vda,vda,virtio")

    assert "disk /dev/sda (phy)" in refused(ha_cli, "set", "host", "attr", "sda", "kvm_ha", "yes")
    assert f"disk {SHARED}-local/alike.vda" in refused(
        ha_cli, "set", "host", "attr", "alike", "kvm_ha", "yes"
    )


def test_a_local_cdrom_is_refused(ha_cli):
    add_vm(ha_cli, "iso", f"file:{SHARED}/iso.vda,vda,virtio")
    ha_cli.ok("set", "host", "vm", "cdrom", "iso", "cdrom=/var/lib/libvirt/images/x.iso")

    assert "CDROM /var/lib/libvirt/images/x.iso" in refused(
        ha_cli, "set", "host", "attr", "iso", "kvm_ha", "true"
    )


def test_a_global_kvm_ha_is_judged_per_vm_as_it_resolves(ha_cli):
    add_vm(ha_cli, "nfs", f"file:{SHARED}/nfs.vda,vda,virtio")
    add_vm(ha_cli, "local", "file:/var/lib/libvirt/images/local.vda,vda,virtio")

    assert "local cannot have kvm_ha" in refused(ha_cli, "set", "attr", "kvm_ha", "true")

    ha_cli.ok("set", "host", "attr", "local", "kvm_ha", "false")
    ha_cli.ok("set", "attr", "kvm_ha", "true")  # now true for nfs only

    assert ha_cli.ok("report", "host", "attr", "nfs", "attr=kvm_ha").strip() == "true"
    assert ha_cli.ok("report", "host", "attr", "local", "attr=kvm_ha").strip() == "false"
    assert "local cannot have kvm_ha" in refused(
        ha_cli, "remove", "host", "attr", "local", "kvm_ha"
    )  # the global true would then apply to it


def test_without_shared_dirs_nothing_qualifies(cli, config):
    config.write_text('vm_storage_dirs = ["/"]\n')
    cli.ok("add", "host", CONTAINER, "appliance=vm-container")
    add_vm(cli, "any", "file:/srv/nfs/vms/any.vda,vda,virtio")

    said = refused(cli, "set", "host", "attr", "any", "kvm_ha", "true")

    assert f"vm_shared_dirs: none in {config}" in said
    cli.ok("set", "host", "attr", "any", "kvm_ha", "false")  # false asks for nothing


@pytest.mark.parametrize(
    "change",
    [
        ("set", "host", "vm", "nfs", "disk=file:/var/lib/libvirt/images/nfs.vda,vda,virtio"),
        ("add", "host", "vm", "disk", "nfs", "disk=file:/var/lib/libvirt/images/nfs.vdb"),
        ("set", "host", "vm", "cdrom", "nfs", "cdrom=/var/lib/libvirt/images/x.iso"),
    ],
)
def test_a_kvm_ha_vm_keeps_its_storage_shared(ha_cli, hv, change):
    ha_cli.ok("set", "attr", "kvm_connection", "test:///default")
    add_vm(ha_cli, "nfs", f"file:{SHARED}/nfs.vda,vda,virtio")
    ha_cli.ok("set", "host", "attr", "nfs", "kvm_ha", "true")

    assert "nfs cannot have kvm_ha: " in refused(ha_cli, *change)
