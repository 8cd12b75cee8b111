"""A row written straight into the database that points a VM out of reach
(cairn.vms.reach) never gets to libvirt: the VM is not defined, no volume is
made or deleted. Real libvirt (test:///default), the defaults of an installed
cairn (an empty config file)."""

from __future__ import annotations

import pytest

from testkit import one_error_line, write_behind

ROOT_FS = "<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>"


@pytest.mark.parametrize(
    ("statement", "said"),
    [
        ("UPDATE vm_disks SET path = '/etc/shadow'", "disk /etc/shadow"),
        (
            "INSERT INTO host_attrs (host_id, name, value)"
            " SELECT id, 'kvm_device_0', :v FROM hosts WHERE name = :vm",
            "kvm_device_0",
        ),
        ("UPDATE vms SET cdrom = '/etc/shadow'", "cdrom of"),
    ],
)
def test_start_refuses_what_is_out_of_reach(lab, config, statement, said):
    vm = lab.add_vm("vm-container-0-0")
    write_behind(lab.cli.url, statement, v=ROOT_FS.replace("<", "&lt;"), vm=vm)
    done = lab.start(vm)
    assert done.code == 1
    detail = done.by_host()[vm]["detail"]
    assert said in detail and "outside the directories VMs may use" in detail, detail
    assert lab.state(vm) == "undefined"


def test_no_volume_out_of_reach_is_deleted(lab, config):
    vm = lab.add_vm("vm-container-0-0")
    lab.cli.ok("add", "host", "vm", "disk", vm, "disk=file:/var/lib/libvirt/images/x.vdb,vdb")
    write_behind(lab.cli.url, "UPDATE vm_disks SET path = '/etc/shadow' WHERE device = 'vdb'")
    done = lab.cli("remove", "host", "vm", "disk", vm, "vdb", "delete=yes")
    assert done.code == 1
    assert "/etc/shadow" in one_error_line(done.err)
    done = lab.cli("remove", "host", "vm", vm, "disks=yes")
    assert done.code == 1
    assert "/etc/shadow" in one_error_line(done.err)


def test_a_save_file_out_of_reach_is_refused(lab, config):
    vm = lab.add_vm("vm-container-0-0")
    assert lab.start(vm).code == 0
    done = lab.cli("save", "host", "vm", vm, "file=/etc/cron.d/vm")
    assert done.code == 1
    assert "outside the directories VMs may use" in one_error_line(done.err)
    assert lab.state(vm) == "running"


def test_the_profile_makes_no_directory_out_of_reach(lab, config):
    """kvm_save_dir written behind cairn's back: the profile (run as root on the
    container, where it makes the directory) is refused."""
    write_behind(
        lab.cli.url,
        "INSERT INTO global_attrs (name, value) VALUES ('kvm_save_dir', '/etc/cron.d')",
    )
    done = lab.cli("report", "host", "profile", "vm-container-0-0")
    assert done.code == 1
    line = one_error_line(done.err)
    assert "kvm_save_dir" in line and "outside the directories VMs may use" in line


def test_a_listing_goes_on_past_a_disk_out_of_reach(lab, config):
    vm = lab.add_vm("vm-container-0-0")
    other = lab.add_vm("vm-container-0-0")
    write_behind(
        lab.cli.url,
        "UPDATE vm_disks SET path = '/etc/shadow' WHERE vm_id ="
        " (SELECT vms.id FROM vms JOIN hosts ON hosts.id = vms.host_id WHERE hosts.name = :vm)",
        vm=vm,
    )
    listed = lab.cli.ok("list", "host", "vm", "status=yes", "showdisks=yes")
    assert vm in listed and other in listed
