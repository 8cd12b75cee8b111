"""`container evacuate` and `container return` on libvirt's test driver.

Every container of the lab is the same in-memory libvirt host, which cannot
migrate: a running VM's move is refused as "the same libvirt host", which
stands here for a move that fails. Real live moves off a container are in
tests/system/test_system_evacuate.py. Covered here: the container out of
service (no start, move or allocation puts a VM there; `container return`
ends it), and every VM that stays named with its reason, the database
unchanged for it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "plugins"
OUT = "vm-container-0-0"


def evacuate(lab, *words: str):
    return lab.cli("container", "evacuate", OUT, *words, "output-format=json")


def rows(done) -> dict[str, dict[str, str]]:
    return {r["vm"]: r for r in json.loads(done.out)}


def container_of(lab, vm: str) -> str:
    return str(lab.listed(vm)[vm]["container"])


@pytest.fixture
def allocate(lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example plugin_allocate, as a site installs it."""
    root = tmp_path / "plugins"
    where = root / "start" / "host" / "vm"
    where.mkdir(parents=True)
    shutil.copy(EXAMPLES / "start" / "host" / "vm" / "plugin_allocate.py", where)
    for directory in [root, *root.rglob("*")]:
        os.chmod(directory, 0o755 if directory.is_dir() else 0o644)
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(root))
    return root


def test_an_evacuated_container_takes_no_vm_until_it_returns(lab):
    vm = lab.add_vm(OUT)
    other = lab.add_vm("vm-container-0-1")

    done = evacuate(lab)

    assert done.code == 0, done.err
    assert rows(done)[vm]["container"] == OUT  # off: it stays, and says so
    assert "not running" in rows(done)[vm]["result"]
    assert done.err.splitlines()[-1] == (
        f"warning - {OUT} is out of service (cairn container return {OUT} brings it back);"
        f" 1 VM stayed on it: {vm}"
    )
    started = lab.start(vm)
    assert started.code == 1
    assert "out of service" in started.rows[0]["detail"], started.rows
    assert lab.state(vm) == "undefined"
    moved = lab.cli("move", "host", "vm", other, OUT)
    assert moved.code == 1 and f"container {OUT} is out of service" in moved.err, moved.err
    assert container_of(lab, other) == "vm-container-0-1"

    back = lab.cli("container", "return", OUT)

    assert (back.code, back.out) == (0, f"{OUT} is in service again\n")
    assert lab.start(vm).code == 0
    assert lab.state(vm) == "running"
    assert lab.cli.ok("container", "return", OUT) == f"{OUT} was in service already\n"


def test_allocation_passes_an_evacuated_container_over(lab, allocate):
    # 0-0 has the most room by far; out of service, it is not chosen.
    lab.cli.ok("set", "host", "attr", OUT, "kvm_memory_mb", "100000")
    vm = lab.add_vm(OUT)
    assert evacuate(lab).code == 0

    started = lab.start(vm)

    assert started.code == 0, started.err
    assert started.by_host()[vm]["container"] != OUT
    assert container_of(lab, vm) != OUT


def test_a_running_vm_whose_move_fails_stays_running_here_and_is_named(lab):
    vm = lab.add_vm(OUT)
    assert lab.start(vm).code == 0

    done = evacuate(lab)

    assert done.code == 1  # a running VM stayed
    row = rows(done)[vm]
    assert (row["state"], row["container"]) == ("running", OUT)
    assert "same libvirt host" in row["result"], row
    assert lab.state(vm) == "running"
    assert container_of(lab, vm) == OUT  # the database says where it runs
    assert done.err.splitlines()[-1].endswith(f"1 VM stayed on it: {vm}")
    # Out of service all the same: the mark was kept before any VM moved.
    assert lab.host_attr(OUT, "kvm_maintenance") == "true"


def test_a_vm_with_no_room_elsewhere_stays_and_says_so(lab):
    lab.cli.ok("set", "host", "attr", "vm-container-0-1", "kvm_memory_mb", "1024")
    lab.cli.ok("set", "host", "attr", "vm-container-0-2", "kvm_memory_mb", "512")
    vm = lab.add_vm(OUT, "mem=2048")
    assert lab.start(vm).code == 0

    done = evacuate(lab)

    assert done.code == 1
    assert rows(done)[vm]["result"] == (
        f"no container has 2048 MB free for {vm} (most: vm-container-0-1 with 1024 MB)"
    )
    assert lab.state(vm) == "running" and container_of(lab, vm) == OUT


def test_a_vm_whose_cdrom_is_only_on_this_container_stays_and_says_so(lab):
    iso = "/var/lib/libvirt/images/cairn-evacuate-rescue.iso"
    vm = lab.add_vm(OUT)
    lab.cli.ok("set", "host", "vm", "cdrom", vm, f"cdrom={iso}")
    assert lab.start(vm).code == 0

    done = evacuate(lab)

    assert done.code == 1
    said = rows(done)[vm]["result"]
    assert said.startswith(f"its CDROM {iso} is on {OUT}'s local disk, not on vm-container-0-"), (
        said
    )
    assert lab.state(vm) == "running" and container_of(lab, vm) == OUT


def test_what_stayed_and_what_was_off_are_told_apart(lab):
    running = lab.add_vm(OUT)
    off = lab.add_vm(OUT)
    assert lab.start(running).code == 0

    done = evacuate(lab)

    assert done.code == 1
    assert rows(done)[off]["state"] == "undefined"
    assert rows(done)[running]["state"] == "running"
    assert done.err.splitlines()[-1].endswith(f"2 VMs stayed on it: {running}, {off}")


def test_a_host_that_is_no_container_is_refused_and_nothing_changes(lab):
    lab.cli.ok("add", "host", "compute-0-0", "appliance=compute")
    before = lab.cli.dump()

    done = lab.cli("container", "evacuate", "compute-0-0")

    assert done.code == 1
    assert done.err.startswith("error - host compute-0-0 cannot run VMs"), done.err
    assert lab.cli.dump() == before


def test_return_cannot_undo_a_mark_made_at_another_scope(lab):
    lab.cli.ok("set", "appliance", "attr", "vm-container", "kvm_maintenance", "true")

    done = lab.cli("container", "return", OUT)

    assert done.code == 1
    assert "comes from another scope" in done.err, done.err


def test_a_saved_vm_stays_and_is_not_restored_there_until_the_container_returns(lab):
    vm = lab.add_vm(OUT)
    assert lab.start(vm).code == 0
    assert lab.act("save", "host", "vm", vm).code == 0

    done = evacuate(lab)

    assert done.code == 0  # nothing running stayed
    assert rows(done)[vm]["result"] == "saved here: restore it to move it, or stop it"
    started = lab.start(vm)
    assert started.code == 1
    assert started.rows[0]["detail"].startswith(f"{vm} is saved on it: container {OUT} is out")
    assert lab.state(vm) == "saved"
    assert lab.cli("container", "return", OUT).code == 0
    assert lab.start(vm).code == 0
    assert lab.state(vm) == "running"


def test_a_container_that_does_not_answer_is_out_of_service_and_the_error_says_so(lab):
    vm = lab.add_vm(OUT)
    lab.cli.ok("set", "host", "attr", OUT, "kvm_connection", "test:///nonexistent/cairn.xml")

    done = lab.cli("container", "evacuate", OUT)

    assert done.code == 1
    (line,) = done.err.splitlines()
    assert line.startswith("error - ") and line.endswith(
        f"; no VM moved, and {OUT} is out of service (cairn container return {OUT} brings it back)"
    ), line
    assert lab.host_attr(OUT, "kvm_maintenance") == "true"
    assert container_of(lab, vm) == OUT
