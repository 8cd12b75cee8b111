"""`cairn remove host vm` on a container (libvirt's test driver): a running VM
is refused, the domain goes, disk images stay unless disks=yes."""

from __future__ import annotations

import json

import libvirt
import pytest


def volume_exists(conn: libvirt.virConnect, path: str) -> bool:
    try:
        conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return False
    return True


def disk_of(lab, vm: str) -> str:
    rows = json.loads(lab.cli.ok("list", "host", "vm", vm, "showdisks=yes", "output-format=json"))
    return rows[0]["disk"].split(":", 1)[1].split(",")[0]


@pytest.fixture
def vm(lab):
    return lab.add_vm("vm-container-0-0")


def test_a_running_vm_is_refused_and_kept(lab, vm):
    lab.start(vm)
    result = lab.cli("remove", "host", "vm", vm)
    assert result.code == 1
    assert (
        result.err
        == f"error - {vm} is running on vm-container-0-0: stop it first (cairn stop host vm {vm})\n"
    )
    assert lab.state(vm) == "running"
    assert vm in lab.listed(vm)


def test_the_domain_goes_and_the_disk_stays(lab, vm):
    lab.start(vm)
    lab.stop(vm, "action=poweroff")
    path = disk_of(lab, vm)
    assert volume_exists(lab.conn, path)
    assert lab.cli.ok("remove", "host", "vm", vm) == f"removed the VM definition of {vm}\n"
    assert vm not in [d.name() for d in lab.conn.listAllDomains(0)]
    assert volume_exists(lab.conn, path)


def test_disks_yes_deletes_the_images(lab, vm):
    lab.start(vm)
    lab.stop(vm, "action=poweroff")
    path = disk_of(lab, vm)
    out = lab.cli.ok("remove", "host", "vm", vm, "disks=yes")
    assert out.splitlines() == [f"removed the VM definition of {vm}", f"deleted disk {path}"]
    assert not volume_exists(lab.conn, path)


def test_disks_yes_on_an_unreachable_container_changes_nothing(lab, vm, tmp_path):
    lab.cli.ok(
        "set", "host", "attr", "vm-container-0-0", "kvm_connection", f"test://{tmp_path}/gone.xml"
    )
    result = lab.cli("remove", "host", "vm", vm, "disks=yes")
    assert result.code == 1
    assert "cannot delete the disks of" in result.err and "leave disks= out" in result.err
    assert vm in lab.listed(vm)
