"""`move host vm` of running VMs, migrated for real to a second container.

The second container is a second libvirtd on this machine in namespaces of
its own (peer.py): another host to libvirt, with its own view of
/var/lib/libvirt, so a disk copied there is a different file.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest
from peer import Peer
from sysdaemon import URI
from watcher import disallocations

from testkit import this_host

pytestmark = pytest.mark.system

PEER_HOST = "vm-container-9-0"
MARK = b"cairn-was-here"
DESTROYED = "stopped-by-itself (destroyed)"
SPOT = 512 * 1024 * 1024  # where the second mark sits in the 1 GiB disk


@pytest.fixture
def peer(lab: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Peer]:
    # kvm_connection names the peer's socket, which only an administrator may allow.
    config = lab.tmp / "cairn.toml"
    config.write_text('kvm_connection_options = ["socket"]\n')
    monkeypatch.setenv("CAIRN_CONFIG", str(config))
    # A short path: the peer's socket path must fit a unix socket name (108 bytes).
    made = Peer(Path(tempfile.mkdtemp(prefix="cairn-peer-")))
    made.start()
    try:
        lab.run("add", "host", PEER_HOST, "appliance=vm-container", "rack=9", "rank=0")
        lab.attr(PEER_HOST, "kvm_connection", made.uri)
        yield made
    finally:
        made.stop()


def disk_of(lab: Any, vm: str) -> Path:
    row = json.loads(lab.run("list", "host", "vm", vm, "showdisks=yes", "output-format=json"))[0]
    return Path(row["disk"].split(":")[1].split(",")[0])  # file:PATH,DEVICE,BUS


def marked_disk(lab: Any, vm: str) -> Path:
    """The VM's disk made beforehand, with marks to find after a copy (cairn
    leaves a disk that exists as it is)."""
    path = disk_of(lab, vm)
    with path.open("wb") as disk:
        disk.write(MARK)
        disk.seek(SPOT)
        disk.write(MARK)
        disk.truncate(1024**3)
    return path


def has_marks(path: Path) -> bool:
    with path.open("rb") as disk:
        first = disk.read(len(MARK))
        disk.seek(SPOT)
        return first == MARK and disk.read(len(MARK)) == MARK


def container_of(lab: Any, vm: str) -> str:
    (row,) = json.loads(lab.run("list", "host", "vm", vm, "output-format=json"))
    return str(row["container"])


@pytest.mark.parametrize("live", ["yes", "no"])
def test_a_running_vm_moves_with_its_disk_and_keeps_what_it_holds(
    lab: Any, peer: Peer, live: str
) -> None:
    lab.plugins()
    vm = lab.add_vm(f"move-{live}")
    lab.attr(vm, "kvm_autostart", "true")
    source_disk = marked_disk(lab, vm)
    lab.verb("start", "host", "vm", vm)

    said = lab.run("move", "host", "vm", vm, PEER_HOST, f"live={live}", "copy-storage=yes")

    how = "live-migrated" if live == "yes" else "migrated"
    assert said == f"{vm}: {how} to {PEER_HOST}\n"
    there = peer.conn.lookupByName(vm)
    assert there.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert there.isPersistent() == 1 and there.autostart() == 1
    with pytest.raises(libvirt.libvirtError):
        lab.dom(vm)  # undefined on the old container
    copied = peer.outside(str(source_disk))
    assert copied != source_disk and has_marks(copied)
    assert container_of(lab, vm) == PEER_HOST
    assert lab.status(vm) == "running"  # asked of the new container
    assert lab.plugin_calls() == [f"allocate {vm}"]  # moving releases nothing

    lab.verb("stop", "host", "vm", vm)
    assert there.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert lab.plugin_calls() == [f"allocate {vm}", f"disallocate {vm} stopped"]


def test_a_failed_move_leaves_the_vm_running_where_it_was(lab: Any, peer: Peer) -> None:
    vm = lab.add_vm("clash")
    lab.attr(vm, "kvm_migrate_downtime", "40")
    lab.verb("start", "host", "vm", vm)
    assert lab.dom(vm).migrateGetMaxDowntime(0) == 300  # QEMU's own, until a move
    # A different domain of the same name on the new container: libvirt refuses.
    clash = lab.dom(vm).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    clash = clash.replace(lab.dom(vm).UUIDString(), "00000000-0000-4000-8000-00000000c1a5")
    peer.conn.defineXML(clash)
    source_disk = disk_of(lab, vm)

    outcome = lab.cli("move", "host", "vm", vm, PEER_HOST, "copy-storage=yes")

    assert outcome.code == 1
    (line,) = outcome.err.splitlines()
    assert line.startswith("error - ") and vm in line and "migrate" in line
    assert "already exists" in line, line
    assert lab.state(vm) == libvirt.VIR_DOMAIN_RUNNING
    # The move asked libvirt for the VM's downtime before the migration (it stays).
    assert lab.dom(vm).migrateGetMaxDowntime(0) == 40
    assert container_of(lab, vm) == this_host()
    assert source_disk.exists()
    # The disk was made there for the copy (its pool's directory stays) and
    # removed again when the migration failed.
    assert peer.outside(str(source_disk.parent)).is_dir()
    assert not peer.outside(str(source_disk)).exists()


def test_the_watcher_keeps_a_migrated_vm_allocated_and_follows_it(
    lab: Any, peer: Peer, watch: Any
) -> None:
    """Seed: plugin_disallocate is not for a VM that migrated (libvirt says so);
    once moved, the VM stopping on its new container releases it, once."""
    lab.plugins()
    vm = lab.add_vm("watched")
    lab.verb("start", "host", "vm", vm)
    w = watch("refresh=1")
    w.wait_line(f"INFO watching {URI}")  # the containers that hold VMs: this one

    lab.run("move", "host", "vm", vm, PEER_HOST, "copy-storage=yes")
    w.wait_line(f"INFO {vm} stopped (migrated): kept allocated")
    w.wait_line(f"INFO watching {peer.uri}")  # it holds a VM now
    assert disallocations(lab) == []

    peer.conn.lookupByName(vm).destroy()  # stops by itself, on its new container
    w.wait_line(f"INFO {vm}: disallocated")
    assert disallocations(lab) == [f"disallocate {vm} {DESTROYED}"]
    assert "Traceback" not in w.text()


def test_local_disks_without_copy_storage_are_refused_with_what_to_do(lab: Any, peer: Peer) -> None:
    vm = lab.add_vm("local")
    lab.verb("start", "host", "vm", vm)

    outcome = lab.cli("move", "host", "vm", vm, PEER_HOST)

    assert outcome.code == 1
    (line,) = outcome.err.splitlines()
    assert line.startswith("error - ") and vm in line
    assert "for disks local to the container use copy-storage=yes" in line, line
    assert lab.state(vm) == libvirt.VIR_DOMAIN_RUNNING
    assert lab.dom(vm).migrateGetMaxDowntime(0) == 50  # cairn's default, asked for the move
    assert container_of(lab, vm) == this_host()
    with pytest.raises(libvirt.libvirtError):
        peer.conn.lookupByName(vm)
