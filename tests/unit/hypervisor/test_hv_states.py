import libvirt

from cairn.hypervisor.states import ACTIVE, State, from_libvirt


def test_every_libvirt_state_has_a_name():
    names = {
        libvirt.VIR_DOMAIN_NOSTATE: "nostate",
        libvirt.VIR_DOMAIN_RUNNING: "running",
        libvirt.VIR_DOMAIN_BLOCKED: "blocked",
        libvirt.VIR_DOMAIN_PAUSED: "paused",
        libvirt.VIR_DOMAIN_SHUTDOWN: "shutting-down",
        libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
        libvirt.VIR_DOMAIN_CRASHED: "crashed",
        libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended",
    }
    assert {code: str(from_libvirt(code)) for code in names} == names


def test_shutoff_with_managed_save_is_saved():
    assert from_libvirt(libvirt.VIR_DOMAIN_SHUTOFF, has_managed_save=True) is State.SAVED
    # only a shut-off domain can be "saved"
    assert from_libvirt(libvirt.VIR_DOMAIN_RUNNING, has_managed_save=True) is State.RUNNING


def test_unknown_future_state_reads_as_nostate():
    assert from_libvirt(99) is State.NOSTATE


def test_state_is_a_str_and_active_set():
    assert State.SAVED == "saved" and State.UNDEFINED == "undefined"
    assert State.PAUSED in ACTIVE and State.SHUTOFF not in ACTIVE and State.SAVED not in ACTIVE
