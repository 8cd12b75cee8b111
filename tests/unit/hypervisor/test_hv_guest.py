import time

import libvirt
import pytest
from lxml import etree

from cairn.hypervisor.errors import (
    DomainNotFound,
    HypervisorError,
    InvalidState,
    OperationTimeout,
)
from cairn.hypervisor.guest import Guest, cpuset
from cairn.hypervisor.states import State


def raw_state(conn, name: str) -> int:
    """The state as libvirt itself reports it, bypassing Guest."""
    return conn.lookupByName(name).state()[0]


@pytest.fixture
def vm(conn, make_xml) -> Guest:
    return Guest.define(conn, make_xml("vm1"))


@pytest.fixture
def running(vm) -> Guest:
    vm.launch()
    return vm


def test_define_is_persistent_and_shut_off(conn, vm):
    assert conn.lookupByName("vm1").isPersistent()
    assert vm.state() is State.SHUTOFF and vm.name == "vm1"


def test_lookup(conn, vm):
    assert Guest.lookup(conn, "vm1").name == "vm1"
    with pytest.raises(DomainNotFound, match=r"^cannot find guest nope on test:///default: "):
        Guest.lookup(conn, "nope")


def test_launch_and_poweroff_are_idempotent(conn, vm):
    assert vm.launch() is True
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_RUNNING
    assert vm.launch() is False
    assert vm.poweroff() is True
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_SHUTOFF
    assert vm.poweroff() is False


def test_shutdown_waits_for_shutoff(conn, running):
    assert running.shutdown(timeout=5) is True
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_SHUTOFF
    assert running.shutdown(timeout=5) is False


def test_shutdown_times_out_when_the_guest_restarts(conn, make_xml):
    # on_poweroff=restart: the test driver honours the ACPI request and boots
    # the guest again, so it never reaches shutoff - like a guest that reboots.
    restart = etree.Element("on_poweroff")
    restart.text = "restart"
    guest = Guest.define(conn, make_xml("stubborn", restart))
    guest.launch()
    start = time.monotonic()
    with pytest.raises(OperationTimeout, match=r"did not stop within 0\.3 s; power it off"):
        guest.shutdown(timeout=0.3)
    assert 0.3 <= time.monotonic() - start < 1.0
    assert guest.state() is State.RUNNING


def test_shutdown_refuses_a_paused_guest(running):
    running.pause()
    with pytest.raises(InvalidState, match="it is paused"):
        running.shutdown(timeout=1)


def test_pause_and_resume(conn, vm):
    with pytest.raises(InvalidState):
        vm.pause()  # shut off
    vm.launch()
    assert vm.pause() is True
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_PAUSED
    assert vm.state() is State.PAUSED
    assert vm.pause() is False
    assert vm.resume() is True
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_RUNNING
    assert vm.resume() is False
    vm.poweroff()
    with pytest.raises(InvalidState):
        vm.resume()


def test_reset_and_reboot_keep_it_running_and_need_it_running(conn, vm):
    with pytest.raises(InvalidState):
        vm.reset()
    vm.launch()
    vm.reset()
    vm.reboot()
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_RUNNING


def test_restart_is_a_new_run_of_the_same_definition_and_needs_it_running(conn, vm, make_xml):
    with pytest.raises(InvalidState, match=r"^cannot restart guest vm1: it is shutoff$"):
        vm.restart()
    vm.launch()
    before = conn.lookupByName("vm1").ID()
    vm.restart()
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_RUNNING
    assert conn.lookupByName("vm1").ID() != before
    # A transient guest would be gone once off: refused, and it runs on.
    transient = Guest(conn.createXML(make_xml("passing"), 0))
    with pytest.raises(InvalidState, match="it is not defined"):
        transient.restart()
    assert raw_state(conn, "passing") == libvirt.VIR_DOMAIN_RUNNING
    conn.lookupByName("passing").destroy()


def test_reboot_ends_says_whether_its_reboot_ends_it(conn, vm, make_xml):
    ends = etree.Element("on_reboot")
    ends.text = "destroy"
    installing = Guest.define(conn, make_xml("installing", ends))
    assert installing.reboot_ends() is True
    assert vm.reboot_ends() is False


def test_managed_save_makes_it_saved_and_launch_resumes(conn, running):
    assert running.managed_save() is True
    dom = conn.lookupByName("vm1")
    assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF and dom.hasManagedSaveImage(0)
    assert running.state() is State.SAVED and running.has_managed_save()
    assert running.managed_save() is False
    assert running.launch() is True
    assert running.state() is State.RUNNING and not dom.hasManagedSaveImage(0)


def test_managed_save_of_a_shut_off_guest_is_refused(vm):
    with pytest.raises(InvalidState):
        vm.managed_save()


def test_remove_managed_save(conn, running):
    assert running.remove_managed_save() is False
    running.managed_save()
    assert running.remove_managed_save() is True
    assert not conn.lookupByName("vm1").hasManagedSaveImage(0)
    assert running.state() is State.SHUTOFF


def test_save_and_restore(conn, running, tmp_path):
    image = str(tmp_path / "vm1.save")
    running.save(image)
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_SHUTOFF
    Guest.restore(conn, image)
    assert raw_state(conn, "vm1") == libvirt.VIR_DOMAIN_RUNNING


def test_restore_of_a_missing_image_is_classified(conn, tmp_path):
    with pytest.raises(
        HypervisorError, match=r"^cannot restore guest from .*nope\.save on "
    ) as info:
        Guest.restore(conn, str(tmp_path / "nope.save"))
    assert info.value.code == libvirt.VIR_ERR_SYSTEM_ERROR


def test_autostart_set_and_cleared(conn, vm):
    assert vm.autostart() is False
    assert vm.set_autostart(True) is True
    assert conn.lookupByName("vm1").autostart() == 1
    assert vm.set_autostart(True) is False
    assert vm.set_autostart(False) is True
    assert conn.lookupByName("vm1").autostart() == 0


def test_vcpu_pins_read_back_from_cputune(conn, make_xml):
    cputune = etree.Element("cputune")
    etree.SubElement(cputune, "vcpupin", vcpu="0", cpuset="1")
    etree.SubElement(cputune, "vcpupin", vcpu="1", cpuset="2-3")
    guest = Guest.define(conn, make_xml("pinned", cputune))
    assert guest.vcpu_pins() == ["1", "2-3"]  # from the config
    guest.launch()
    assert guest.vcpu_pins() == ["1", "2-3"]  # from the live domain


def test_cpuset_syntax():
    assert cpuset([True, True, True, False, True]) == "0-2,4"
    assert cpuset([False, True]) == "1"
    assert cpuset([False, False]) == ""


def test_xml(vm):
    assert etree.fromstring(vm.xml(inactive=True)).findtext("name") == "vm1"


def test_undefine_drops_definition_and_managed_save(conn, running):
    running.managed_save()
    assert running.undefine() is True
    assert running.state() is State.UNDEFINED
    assert "vm1" not in conn.listDefinedDomains()
    assert running.undefine() is False


def test_undefine_of_a_running_guest_leaves_it_transient(conn, running):
    running.undefine()
    dom = conn.lookupByName("vm1")
    assert dom.isActive() and not dom.isPersistent()
    assert running.poweroff() is True
    assert running.state() is State.UNDEFINED  # a transient guest vanishes when it stops


def test_verbs_on_a_vanished_guest_raise_domain_not_found(conn, running):
    running.undefine()
    running.poweroff()
    with pytest.raises(DomainNotFound, match=r"^cannot start guest vm1 on test:///default: "):
        running.launch()


def test_shutdown_and_poweroff_of_a_saved_guest_change_nothing(running):
    running.managed_save()
    assert running.shutdown(timeout=1) is False
    assert running.poweroff() is False
    assert running.state() is State.SAVED
