"""start/stop/pause/resume/save/restore change the real libvirt state.

Every check reads the domain through the test's own connection (`lab.state`),
not through cairn; `list host vm status=yes` must agree with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def test_start_defines_and_runs_the_vm(lab):
    vm = lab.add_vm("vm-container-0-0")
    assert lab.state(vm) == "undefined"
    assert lab.listed(vm)[vm]["status"] == "undefined"

    done = lab.start(vm)

    assert done.code == 0, done.err
    assert done.rows == [
        {"host": vm, "container": "vm-container-0-0", "result": "started", "detail": ""}
    ]
    assert lab.state(vm) == "running"
    assert lab.listed(vm)[vm]["status"] == "running"
    assert "<name>hosted-vm-0-0-0</name>" in lab.xml(vm)
    assert "<memory unit='KiB'>65536</memory>" in lab.xml(vm)


def test_stop_powers_off(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)

    done = lab.stop(vm)

    assert done.code == 0, done.err
    assert done.by_host()[vm]["result"] == "stopped"
    assert lab.state(vm) == "shutoff"
    assert lab.listed(vm)[vm]["status"] == "shutoff"


def test_stop_of_a_vm_that_is_not_running_succeeds(lab):
    vm = lab.add_vm("vm-container-0-0")
    done = lab.stop(vm)
    assert done.code == 0, done.err
    assert done.by_host()[vm]["result"] == "not running"
    assert lab.state(vm) == "undefined"


def test_pause_and_resume(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)

    paused = lab.act("pause", "host", "vm", vm)
    assert paused.code == 0, paused.err
    assert paused.by_host()[vm]["result"] == "paused"
    assert lab.state(vm) == "paused"
    assert lab.listed(vm)[vm]["status"] == "paused"

    resumed = lab.act("resume", "host", "vm", vm)
    assert resumed.code == 0, resumed.err
    assert resumed.by_host()[vm]["result"] == "resumed"
    assert lab.state(vm) == "running"
    assert lab.listed(vm)[vm]["status"] == "running"


def test_pause_of_a_stopped_vm_fails(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    lab.stop(vm)
    done = lab.act("pause", "host", "vm", vm)
    assert done.code == 1
    row = done.by_host()[vm]
    assert row["result"] == "failed"
    assert row["detail"].startswith("pause: ")
    assert "shutoff" in row["detail"]
    assert lab.state(vm) == "shutoff"


def test_save_then_restore(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)

    saved = lab.act("save", "host", "vm", vm)
    assert saved.code == 0, saved.err
    assert saved.by_host()[vm]["result"] == "saved"
    assert lab.state(vm) == "saved"
    assert lab.listed(vm)[vm]["status"] == "saved"

    restored = lab.act("restore", "host", "vm", vm)
    assert restored.code == 0, restored.err
    assert restored.by_host()[vm]["result"] == "restored"
    assert lab.state(vm) == "running"
    assert not lab.conn.lookupByName(vm).hasManagedSaveImage(0)


@pytest.mark.parametrize("paused_first", [False, True], ids=["running", "paused"])
def test_start_of_a_saved_vm_resumes_from_its_image(lab, paused_first):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    if paused_first:
        lab.act("pause", "host", "vm", vm)
    lab.act("save", "host", "vm", vm)
    assert lab.state(vm) == "saved"

    done = lab.start(vm)

    assert done.code == 0, done.err
    assert done.by_host()[vm]["result"] == "resumed from its saved image"
    assert lab.state(vm) == "running"
    assert not lab.conn.lookupByName(vm).hasManagedSaveImage(0)


def test_restore_without_an_image_fails(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    lab.stop(vm)

    done = lab.act("restore", "host", "vm", vm)

    assert done.code == 1
    row = done.by_host()[vm]
    assert row["result"] == "failed"
    assert "has no saved image" in row["detail"]
    assert "cairn start host vm" in row["detail"]
    assert lab.state(vm) == "shutoff"


def test_save_and_restore_with_a_file(lab, tmp_path: Path):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    image = tmp_path / "images" / f"{vm}.save"
    image.parent.mkdir()

    saved = lab.act("save", "host", "vm", vm, f"file={image}")
    assert saved.code == 0, saved.err
    assert saved.by_host()[vm]["result"] == f"saved to {image}"
    assert lab.state(vm) == "shutoff"  # a file save is not libvirt's managed save
    assert image.is_file()

    restored = lab.act("restore", "host", "vm", vm, f"file={image}")
    assert restored.code == 0, restored.err
    assert restored.by_host()[vm]["result"] == f"restored from {image}"
    assert lab.state(vm) == "running"


def test_save_with_a_file_names_one_vm(lab, tmp_path: Path):
    a = lab.add_vm("vm-container-0-0")
    b = lab.add_vm("vm-container-0-1")
    lab.start(a, b)
    done = lab.act("save", "host", "vm", a, b, f"file={tmp_path}/x.save")
    assert done.code == 1
    assert "one VM at a time" in done.err
    assert (lab.state(a), lab.state(b)) == ("running", "running")


def test_save_file_must_be_a_clean_absolute_path(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    done = lab.act("save", "host", "vm", vm, "file=relative/x.save")
    assert done.code == 1
    assert "absolute" in done.err
    assert lab.state(vm) == "running"


@pytest.mark.parametrize("state", ["running", "paused"])
def test_start_of_an_active_vm_is_refused(lab, state):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    if state == "paused":
        lab.act("pause", "host", "vm", vm)
    before = lab.xml(vm)

    done = lab.start(vm)

    assert done.code == 1
    row = done.by_host()[vm]
    assert row["result"] == "failed"
    assert f"is {state} on vm-container-0-0" in row["detail"]
    assert f"cairn stop host vm {vm}" in row["detail"]
    assert lab.state(vm) == state
    assert lab.xml(vm) == before


def test_start_again_after_stop(lab):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    lab.stop(vm)
    done = lab.start(vm)
    assert done.code == 0, done.err
    assert done.by_host()[vm]["result"] == "started"
    assert lab.state(vm) == "running"


class TestAutostart:
    """The libvirt autostart flag follows kvm_autostart on start; stop clears it."""

    def test_set_when_kvm_autostart_is_true(self, lab):
        vm = lab.add_vm("vm-container-0-0")
        lab.cli.ok("set", "host", "attr", vm, "kvm_autostart", "true")
        lab.start(vm)
        assert lab.state(vm) == "running"
        assert lab.autostart(vm) is True

    def test_resolved_from_the_appliance(self, lab):
        vm = lab.add_vm("vm-container-0-0")
        lab.cli.ok("set", "appliance", "attr", "hosted-vm", "kvm_autostart", "yes")
        lab.start(vm)
        assert lab.autostart(vm) is True

    def test_not_set_without_the_attribute(self, lab):
        vm = lab.add_vm("vm-container-0-0")
        lab.start(vm)
        assert lab.autostart(vm) is False

    def test_stop_clears_it(self, lab):
        vm = lab.add_vm("vm-container-0-0")
        lab.cli.ok("set", "host", "attr", vm, "kvm_autostart", "true")
        lab.start(vm)
        assert lab.autostart(vm) is True
        lab.stop(vm)
        assert lab.state(vm) == "shutoff"
        assert lab.autostart(vm) is False

    @pytest.mark.parametrize("change", ["false", "removed"])
    def test_start_clears_it_when_no_longer_true(self, lab, change):
        vm = lab.add_vm("vm-container-0-0")
        lab.cli.ok("set", "host", "attr", vm, "kvm_autostart", "true")
        lab.start(vm)
        lab.stop(vm)
        # Left set on the container by hand (or by an older cairn).
        lab.conn.lookupByName(vm).setAutostart(1)
        if change == "false":
            lab.cli.ok("set", "host", "attr", vm, "kvm_autostart", "false")
        else:
            lab.cli.ok("remove", "host", "attr", vm, "kvm_autostart")

        lab.start(vm)

        assert lab.state(vm) == "running"
        assert lab.autostart(vm) is False

    def test_follows_kvm_autostart_when_resuming_a_saved_vm(self, lab):
        vm = lab.add_vm("vm-container-0-0")
        lab.start(vm)
        lab.act("save", "host", "vm", vm)
        lab.cli.ok("set", "host", "attr", vm, "kvm_autostart", "true")

        done = lab.start(vm)

        assert done.code == 0, done.err
        assert lab.state(vm) == "running"
        assert lab.autostart(vm) is True
