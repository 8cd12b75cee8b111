"""A running VM set to install installs at its next reboot, and that install ends
its domain (cairn.lifecycle.reinstall), as one started to install does.

libvirt's test driver sends no REBOOT event (it reboots a domain in place
without one), so the watcher is handed the event QEMU's reboot sends; the
real one, from a guest that resets, is heard in
tests/system/test_system_install_reboot.py. The driver does end a domain
whose on_reboot is destroy when it reboots, a SHUTDOWN stop, as QEMU does.
"""

from __future__ import annotations

import libvirt
import test_watch_events as events
from test_watch_events import TEST_URI, _boot, allocated, pump

from cairn.hypervisor.events import Rebooted
from testkit import watch_messages as messages

tag, vm, fence = events.tag, events.vm, events.fence  # its fixtures, used here too
DESTROY = "<on_reboot>destroy</on_reboot>"


def inactive_xml(lab, name: str) -> str:
    return str(lab.conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))


def test_a_running_vm_set_to_install_installs_at_its_reboot_and_its_install_ends_it(
    lab, plugins, vm, watcher, caplog
):
    name = vm("later")
    before = lab.conn.lookupByName(name).ID()
    assert lab.act("set", "host", "boot", name, "action=install").code == 0
    assert DESTROY not in lab.xml(name)  # started to boot its OS: its reboots restart it
    watcher._connect(TEST_URI)

    watcher.handle(Rebooted(TEST_URI, name))  # the guest rebooted: PXE starts its install

    assert DESTROY in lab.xml(name)
    assert DESTROY not in inactive_xml(lab, name)  # the next start defines it anew
    assert lab.conn.lookupByName(name).ID() == before  # the same QEMU, not restarted
    assert f"{name} rebooted while set to install: its install's reboot ends it" in messages(caplog)
    assert allocated(lab.cli.url, name) and plugins.calls() == []

    lab.conn.lookupByName(name).reboot(0)  # its installer, done, reboots
    pump(watcher, name)

    assert lab.state(name) == "shutoff"
    assert _boot(lab.cli.url, name) == "os"
    assert not allocated(lab.cli.url, name)
    assert plugins.calls() == [f"disallocate {name} stopped-by-itself (shutdown)"]


def test_a_vm_that_boots_its_os_reboots_in_place_as_before(lab, plugins, vm, watcher, caplog):
    name = vm("os")
    watcher._connect(TEST_URI)
    watcher.handle(Rebooted(TEST_URI, name))
    watcher.handle(Rebooted(TEST_URI, "test"))  # the stock domain: not a cairn VM

    assert DESTROY not in lab.xml(name)
    assert DESTROY not in lab.xml("test")
    assert not [m for m in messages(caplog) if "rebooted while set to install" in m]
    lab.conn.lookupByName(name).reboot(0)
    assert lab.state(name) == "running"


def test_a_reboot_heard_too_late_is_told_and_the_watcher_goes_on(
    lab, plugins, vm, watcher, fence, caplog
):
    """Set to install, rebooted, then powered off before the watcher got to it."""
    name = vm("gone")
    assert lab.act("set", "host", "boot", name, "action=install").code == 0
    watcher._connect(TEST_URI)
    lab.conn.lookupByName(name).destroy()

    watcher.handle(Rebooted(TEST_URI, name))

    (said,) = [m for m in messages(caplog) if "rebooted while set to install" in m]
    assert said.startswith(f"{name} rebooted while set to install: cannot ")
    pump(watcher, fence())  # and goes on: the destroy is a release as always
    assert not allocated(lab.cli.url, name)
    assert _boot(lab.cli.url, name) == "install"  # a destroy is not an install's end
