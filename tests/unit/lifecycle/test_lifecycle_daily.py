"""Disks that follow their definition and snapshots, on libvirt's test driver.

The test driver keeps volumes and snapshots in memory but cannot resize a
volume or hot-plug a disk: growing and hot-plugging are proven on the real
libvirtd (tests/system/test_system_daily.py). Here: the refusals, which must
leave the database as it was, what happens to a VM that is off, real sizes
in the listing, and the whole snapshot cycle.
"""

from __future__ import annotations

import json

import libvirt

DIR = "/var/lib/libvirt/images"


def disks(lab, vm, *params):
    """The VM's disks as `list host vm showdisks=yes` shows them: SPEC:SIZEG[=REAL]."""
    rows = json.loads(lab.cli.ok("list", "host", "vm", vm, "showdisks=yes", *params,
                                 "output-format=json"))  # fmt: skip
    return " ".join(
        f"{r['disk']}:{r['disksize']}G" + (f"={r['realsize']}" if "realsize" in r else "")
        for r in rows
        if r["disk"]
    )


def volume_gib(lab, path):
    return lab.conn.storageVolLookupByPath(path).info()[1] / 1024**3


def pool_of(lab, directory):
    for pool in lab.conn.listAllStoragePools(0):
        if f"<path>{directory}</path>" in pool.XMLDesc(0):
            return pool
    raise AssertionError(f"no pool for {directory}")


def test_shrinking_a_made_disk_is_refused_and_nothing_changes(lab):
    vm = lab.add_vm("vm-container-0-0", "disksize=4")
    lab.start(vm)

    done = lab.cli("set", "host", "vm", vm, "disksize=2")

    assert done.code == 1
    assert "cannot shrink to 2 GiB" in done.err
    assert disks(lab, vm).endswith(":4G")
    assert volume_gib(lab, f"{DIR}/{vm}.vda") == 4


def test_resizing_a_phy_disk_is_refused(lab):
    vm = lab.add_vm("vm-container-0-0", "disk=phy:/dev/sdz,vda,virtio", "disksize=4")

    done = lab.cli("set", "host", "vm", vm, "disksize=8")

    assert done.code == 1
    assert "phy device" in done.err
    assert disks(lab, vm) == "phy:/dev/sdz,vda,virtio:4G"


def test_growing_a_disk_not_made_yet_changes_the_definition_only(lab):
    vm = lab.add_vm("vm-container-0-0", "disksize=4")

    lab.cli.ok("set", "host", "vm", vm, "disksize=6")
    lab.start(vm)

    assert volume_gib(lab, f"{DIR}/{vm}.vda") == 6


def test_real_sizes_show_next_to_defined_ones_and_a_mismatch_is_pointed_out(lab):
    vm = lab.add_vm("vm-container-0-0", "disksize=4")
    lab.cli.ok("add", "host", "vm", "disk", vm, f"disk=qcow2:{DIR}/{vm}.vdb", "disksize=2")
    lab.start(vm)
    lab.stop(vm)
    # A volume bigger than its definition (made outside cairn; never shrunk).
    path = f"{DIR}/{vm}.vdc"
    pool_of(lab, DIR).createXML(
        "<volume><name>" + vm + ".vdc</name><capacity unit='GiB'>6</capacity></volume>", 0
    )
    lab.cli.ok("add", "host", "vm", "disk", vm, f"disk=file:{path}", "disksize=5")

    shown = disks(lab, vm, "status=yes")
    done = lab.cli("list", "host", "vm", vm, "showdisks=yes", "status=yes")

    assert shown.split() == [
        f"file:{DIR}/{vm}.vda,vda,virtio:4G=4G",
        f"qcow2:{DIR}/{vm}.vdb,vdb,virtio:2G=2G",
        f"file:{path},vdc,virtio:5G=6G!",
    ]
    assert f"disk file:{path},vdc,virtio is 6G on its container, not 5G" in done.err


def test_a_disk_path_of_another_vm_is_refused(lab):
    one = lab.add_vm("vm-container-0-0")
    two = lab.add_vm("vm-container-0-0")

    done = lab.cli("add", "host", "vm", "disk", two, f"disk=file:{DIR}/{one}.vda")

    assert done.code == 1
    assert f"used by VM {one}" in done.err
    assert disks(lab, two) == f"file:{DIR}/{two}.vda,vda,virtio:36G"


def test_a_disk_added_to_a_vm_that_is_off_comes_with_its_next_start(lab):
    vm = lab.add_vm("vm-container-0-0", "disksize=1")

    out = lab.cli.ok("add", "host", "vm", "disk", vm, f"disk=qcow2:{DIR}/{vm}.data", "disksize=2")
    assert "when it next starts" in out
    lab.start(vm)

    assert f"<source file='{DIR}/{vm}.data'/>" in lab.xml(vm)
    assert "<target dev='vdb' bus='virtio'/>" in lab.xml(vm)
    assert volume_gib(lab, f"{DIR}/{vm}.data") == 2


def test_removing_a_disk_keeps_its_volume_unless_asked(lab):
    vm = lab.add_vm("vm-container-0-0", "disksize=1")
    lab.cli.ok("add", "host", "vm", "disk", vm, f"disk=file:{DIR}/{vm}.b", "disksize=1")
    lab.cli.ok("add", "host", "vm", "disk", vm, f"disk=file:{DIR}/{vm}.c", "disksize=1")
    lab.start(vm)
    lab.stop(vm)

    lab.cli.ok("remove", "host", "vm", "disk", vm, "vdb")
    lab.cli.ok("remove", "host", "vm", "disk", vm, f"{DIR}/{vm}.c", "delete=yes")

    assert disks(lab, vm) == f"file:{DIR}/{vm}.vda,vda,virtio:1G"
    assert volume_gib(lab, f"{DIR}/{vm}.b") == 1
    try:
        lab.conn.storageVolLookupByPath(f"{DIR}/{vm}.c")
        raise AssertionError("the volume of vdc was not deleted")
    except libvirt.libvirtError as exc:
        assert exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL
    # Added again, the next device is vdb again: positions were renumbered.
    lab.cli.ok("add", "host", "vm", "disk", vm, f"disk=file:{DIR}/{vm}.d")
    assert disks(lab, vm).split()[1].startswith(f"file:{DIR}/{vm}.d,vdb,")


def snapshots(lab, vm):
    out = lab.cli.ok("list", "host", "vm", "snapshot", vm, "output-format=json")
    return [(r["snapshot"], r["state"], r["current"], r["description"]) for r in json.loads(out)]


def qcow2_vm(lab):
    return lab.add_vm("vm-container-0-0", f"disk=qcow2:{DIR}/snap-{len(lab.conn.listAllDomains())}")


def test_snapshots_are_taken_listed_reverted_and_removed(lab):
    vm = qcow2_vm(lab)
    lab.start(vm)

    lab.cli.ok("add", "host", "vm", "snapshot", vm, "first", "description=a clean system")
    lab.stop(vm)
    lab.cli.ok("add", "host", "vm", "snapshot", vm, "second")

    assert snapshots(lab, vm) == [
        ("first", "running", "no", "a clean system"),
        ("second", "shutoff", "yes", ""),
    ]
    again = lab.cli("add", "host", "vm", "snapshot", vm, "second")
    assert again.code == 1 and "has a snapshot second already" in again.err

    lab.cli.ok("remove", "host", "vm", "snapshot", vm, "second")
    assert [s[0] for s in snapshots(lab, vm)] == ["first"]


def test_a_revert_that_would_start_a_vm_that_is_off_is_refused(lab):
    vm = qcow2_vm(lab)
    lab.start(vm)
    lab.cli.ok("add", "host", "vm", "snapshot", vm, "up")
    lab.stop(vm)

    done = lab.cli("revert", "host", "vm", "snapshot", vm, "up")

    assert done.code == 1
    assert "start the VM first" in done.err
    assert lab.state(vm) == "shutoff"


def test_a_revert_that_turns_a_running_vm_off_releases_it(lab, plugins):
    plugins.logger("disallocate")
    vm = qcow2_vm(lab)
    lab.start(vm)
    lab.stop(vm)
    lab.cli.ok("add", "host", "vm", "snapshot", vm, "cold")
    lab.cli.ok("set", "host", "attr", vm, "kvm_autostart", "true")
    lab.start(vm)
    assert lab.autostart(vm)
    before = plugins.calls("disallocate")

    done = lab.act("revert", "host", "vm", "snapshot", vm, "cold")

    assert done.code == 0, done.err
    assert done.rows[0]["result"].startswith("reverted (off now, released")
    assert lab.state(vm) == "shutoff"
    assert plugins.calls("disallocate") == [*before, f"disallocate {vm} reverted"]
    assert not lab.autostart(vm)  # off by cairn's hand: it must not come back by itself


def test_snapshots_of_a_vm_with_a_raw_disk_are_refused(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)

    done = lab.cli("add", "host", "vm", "snapshot", vm, "x")

    assert done.code == 1
    assert "need every disk in qcow2 format, but vda is file (raw)" in done.err


def test_a_snapshot_name_that_could_change_the_xml_is_refused(lab):
    vm = qcow2_vm(lab)
    lab.start(vm)

    done = lab.cli("add", "host", "vm", "snapshot", vm, "<a>")

    assert done.code == 1
    assert "snapshot name '<a>'" in done.err
