"""pause, resume, save, restore and the autostart flag on a real libvirtd.

Each step is checked twice: with our own libvirt connection (state,
hasManagedSaveImage, autostart) and through `list host vm status=yes`.
"""

from __future__ import annotations

from typing import Any

import libvirt
import pytest

pytestmark = pytest.mark.system


def test_pause_resume_save_restore_change_the_real_state(lab: Any) -> None:
    vm = lab.add_vm("states")
    lab.verb("start", "host", "vm", vm)
    assert lab.state(vm) == libvirt.VIR_DOMAIN_RUNNING
    assert lab.status(vm) == "running"

    assert lab.verb("pause", "host", "vm", vm)["result"] == "paused"
    assert lab.state(vm) == libvirt.VIR_DOMAIN_PAUSED
    assert lab.status(vm) == "paused"

    assert lab.verb("resume", "host", "vm", vm)["result"] == "resumed"
    assert lab.state(vm) == libvirt.VIR_DOMAIN_RUNNING
    assert lab.status(vm) == "running"

    assert lab.verb("save", "host", "vm", vm)["result"] == "saved"
    dom = lab.dom(vm)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert dom.hasManagedSaveImage(0) == 1
    assert lab.status(vm) == "saved"

    assert lab.verb("restore", "host", "vm", vm)["result"] == "restored"
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert dom.hasManagedSaveImage(0) == 0  # libvirt drops the image once resumed
    assert lab.status(vm) == "running"

    lab.verb("stop", "host", "vm", vm)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert lab.status(vm) == "shutoff"


def test_start_of_a_saved_vm_resumes_it(lab: Any) -> None:
    vm = lab.add_vm("resume")
    lab.verb("start", "host", "vm", vm)
    lab.verb("save", "host", "vm", vm)

    row = lab.verb("start", "host", "vm", vm)

    assert row["result"] == "resumed from its saved image"
    dom = lab.dom(vm)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    assert dom.hasManagedSaveImage(0) == 0


def test_autostart_flag_follows_kvm_autostart_and_stop_clears_it(lab: Any) -> None:
    vm = lab.add_vm("auto")
    lab.attr(vm, "kvm_autostart", "true")

    lab.verb("start", "host", "vm", vm)
    dom = lab.dom(vm)
    assert dom.autostart() == 1

    lab.verb("stop", "host", "vm", vm)
    assert dom.autostart() == 0  # a VM the administrator stopped stays off

    lab.verb("start", "host", "vm", vm)  # still kvm_autostart=true: set again
    assert dom.autostart() == 1

    lab.attr(vm, "kvm_autostart", "false")
    lab.verb("stop", "host", "vm", vm)
    lab.verb("start", "host", "vm", vm)
    assert dom.isActive()
    assert dom.autostart() == 0


def test_start_from_a_saved_image_also_applies_kvm_autostart(lab: Any) -> None:
    vm = lab.add_vm("autosave")
    lab.attr(vm, "kvm_autostart", "true")
    lab.verb("start", "host", "vm", vm)
    lab.verb("save", "host", "vm", vm)
    lab.attr(vm, "kvm_autostart", "false")

    assert lab.verb("start", "host", "vm", vm)["result"] == "resumed from its saved image"

    assert lab.dom(vm).autostart() == 0
