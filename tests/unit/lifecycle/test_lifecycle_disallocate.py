"""plugin_disallocate runs exactly once per allocation.

Each hook appends a line to a log file the test reads: `allocate VM`,
`disallocate VM REASON`.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def vm(lab, plugins):
    plugins.logger("allocate")
    plugins.logger("disallocate")
    return lab.add_vm("vm-container-0-0")


def held(plugins, vm):
    """Allocations the VM holds: allocate calls minus disallocate calls."""
    return len(plugins.calls("allocate")) - len(plugins.calls("disallocate"))


def test_once_after_stop(lab, plugins, vm):
    lab.start(vm)
    assert plugins.calls() == [f"allocate {vm}"]

    done = lab.stop(vm)

    assert done.code == 0, done.err
    assert done.by_host()[vm]["detail"] == "released"
    assert plugins.calls("disallocate") == [f"disallocate {vm} stopped"]
    assert lab.state(vm) == "shutoff"  # it ran after the VM was off


def test_runs_after_the_vm_is_off(lab, plugins):
    plugins.write(
        "disallocate",
        """
        import libvirt

        def run(*, session, vm, reason):
            conn = libvirt.open("test:///default")
            try:
                state = conn.lookupByName(vm.host.name).state(0)[0]
            finally:
                conn.close()
            with open(LOG, "a") as f:
                f.write("state-at-disallocate " + str(state) + "\\n")
        """,
    )
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    lab.stop(vm)
    import libvirt

    assert plugins.calls() == [f"state-at-disallocate {libvirt.VIR_DOMAIN_SHUTOFF}"]


def test_not_twice_on_a_second_stop(lab, plugins, vm):
    lab.start(vm)
    lab.stop(vm)
    again = lab.stop(vm)
    assert again.code == 0, again.err
    assert again.by_host()[vm]["result"] == "not running"
    assert again.by_host()[vm]["detail"] == "nothing allocated"
    assert len(plugins.calls("disallocate")) == 1


def test_not_on_pause_resume_save_restore(lab, plugins, vm):
    lab.start(vm)
    for verb in ("pause", "resume", "save", "restore", "pause", "save"):
        done = lab.act(verb, "host", "vm", vm)
        assert done.code == 0, f"{verb}: {done.err}"
    assert lab.state(vm) == "saved"
    assert lab.start(vm).code == 0  # resumes from the image: no allocate either
    assert lab.state(vm) == "running"
    assert plugins.calls() == [f"allocate {vm}"]

    lab.stop(vm)
    assert plugins.calls() == [f"allocate {vm}", f"disallocate {vm} stopped"]


def test_not_on_save_to_a_file(lab, plugins, vm, tmp_path):
    lab.start(vm)
    image = tmp_path / "vm.save"
    assert lab.act("save", "host", "vm", vm, f"file={image}").code == 0
    assert lab.act("restore", "host", "vm", vm, f"file={image}").code == 0
    assert lab.state(vm) == "running"
    assert plugins.calls("disallocate") == []


def test_not_on_reset_or_reboot(lab, plugins, vm):
    lab.start(vm)
    for action in ("reset", "reboot"):
        done = lab.stop(vm, f"action={action}")
        assert done.code == 0, done.err
    assert lab.state(vm) == "running"
    assert plugins.calls("disallocate") == []
    lab.stop(vm, "action=shutdown")
    assert plugins.calls("disallocate") == [f"disallocate {vm} stopped"]


def test_once_with_terminate_after_the_vm_went_off(lab, plugins, vm):
    lab.start(vm)
    lab.conn.lookupByName(vm).destroy()  # it went off without cairn

    done = lab.stop(vm, "terminate=yes")

    assert done.code == 0, done.err
    assert done.rows == [
        {"host": vm, "container": "vm-container-0-0", "result": "terminated", "detail": "released"}
    ]
    assert plugins.calls("disallocate") == [f"disallocate {vm} terminated"]

    again = lab.stop(vm, "terminate=yes")
    assert again.by_host()[vm]["detail"] == "nothing allocated"
    assert len(plugins.calls("disallocate")) == 1


def test_terminate_of_a_running_vm_is_refused(lab, plugins, vm):
    lab.start(vm)
    done = lab.stop(vm, "terminate=yes")
    assert done.code == 1
    row = done.by_host()[vm]
    assert row["result"] == "failed"
    assert "stop it first" in row["detail"]
    assert lab.state(vm) == "running"
    assert plugins.calls("disallocate") == []


def test_terminate_when_the_container_is_unreachable(lab, plugins, vm):
    lab.start(vm)
    lab.cli.ok("set", "host", "attr", "vm-container-0-0", "kvm_connection", "test:///no/such.xml")
    done = lab.stop(vm, "terminate=yes")
    assert done.code == 0, done.err
    assert done.by_host()[vm]["result"] == "terminated"
    assert plugins.calls("disallocate") == [f"disallocate {vm} terminated"]


def test_stop_after_the_vm_went_off_by_itself_releases_once(lab, plugins, vm):
    lab.start(vm)
    lab.conn.lookupByName(vm).destroy()
    done = lab.stop(vm)
    assert done.code == 0, done.err
    assert done.by_host()[vm]["result"] == "not running"
    assert done.by_host()[vm]["detail"] == "released"
    assert plugins.calls("disallocate") == [f"disallocate {vm} stopped"]


class TestFailedStart:
    """A start that fails after allocate releases what allocate took, once."""

    def test_preboot_raises(self, lab, plugins, vm):
        plugins.write("preboot", "def run(*, session, vm, xml):\n    raise OSError('no gpu')\n")

        done = lab.start(vm)

        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert detail.startswith("preboot: ")
        assert "OSError: no gpu" in detail
        assert detail.endswith("released (disallocate ran)")
        assert plugins.calls() == [f"allocate {vm}", f"disallocate {vm} start-failed"]
        assert lab.state(vm) == "undefined"
        lab.stop(vm)
        assert len(plugins.calls("disallocate")) == 1

    def test_define_refuses_the_preboot_xml(self, lab, plugins, vm):
        plugins.write(
            "preboot",
            """
            def run(*, session, vm, xml):
                return xml.replace("<type arch=", "<type arch='no-such-arch' x=")
            """,
        )

        done = lab.start(vm)

        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert detail.startswith("define: ")
        assert detail.endswith("released (disallocate ran)")
        assert plugins.calls() == [f"allocate {vm}", f"disallocate {vm} start-failed"]
        assert lab.state(vm) == "undefined"

    def test_disk_step_fails(self, lab, plugins):
        plugins.logger("allocate")
        plugins.logger("disallocate")
        vm = lab.add_vm("vm-container-0-0", "disk=file:/top-level.img")
        done = lab.start(vm)
        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert detail.startswith("disks: ")
        assert detail.endswith("released (disallocate ran)")
        assert plugins.calls() == [f"allocate {vm}", f"disallocate {vm} start-failed"]

    def test_allocate_fails_nothing_to_release(self, lab, plugins):
        plugins.write("allocate", "def run(*, session, vm):\n    raise RuntimeError('full')\n")
        plugins.logger("disallocate")
        vm = lab.add_vm("vm-container-0-0")
        done = lab.start(vm)
        assert done.code == 1
        assert "released" not in done.by_host()[vm]["detail"]
        assert plugins.calls() == []

    def test_next_start_allocates_again(self, lab, plugins, vm):
        plugins.write("preboot", "def run(*, session, vm, xml):\n    raise OSError('no gpu')\n")
        lab.start(vm)
        plugins.path("preboot").unlink()
        assert lab.start(vm).code == 0
        assert plugins.calls() == [
            f"allocate {vm}",
            f"disallocate {vm} start-failed",
            f"allocate {vm}",
        ]
        assert held(plugins, vm) == 1

    def test_disallocate_failing_too_is_reported(self, lab, plugins, vm):
        plugins.write("preboot", "def run(*, session, vm, xml):\n    raise OSError('no gpu')\n")
        plugins.write("disallocate", "def run(*, session, vm, reason):\n    raise OSError('nfs')\n")
        done = lab.start(vm)
        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert "OSError: no gpu" in detail
        assert "disallocate also failed" in detail
        assert str(plugins.path("disallocate")) in detail


class TestDisallocateFails:
    def test_the_row_fails_and_terminate_retries(self, lab, plugins, vm):
        lab.start(vm)
        plugins.write("disallocate", "def run(*, session, vm, reason):\n    raise OSError('nfs')\n")

        done = lab.stop(vm)

        assert done.code == 1
        row = done.by_host()[vm]
        assert row["result"] == "stopped"
        assert f"plugin {plugins.path('disallocate')} failed: OSError: nfs" in row["detail"]
        assert f"cairn stop host vm {vm} terminate=yes" in row["detail"]
        assert lab.state(vm) == "shutoff"

        plugins.logger("disallocate")
        retried = lab.stop(vm, "terminate=yes")
        assert retried.code == 0, retried.err
        assert plugins.calls("disallocate") == [f"disallocate {vm} terminated"]


def test_stop_of_a_saved_vm_discards_its_image_and_releases_once(lab, plugins, vm):
    lab.start(vm)
    lab.act("save", "host", "vm", vm)

    done = lab.stop(vm)

    assert done.code == 0, done.err
    assert done.rows[0]["result"] == "saved image discarded"
    assert done.rows[0]["detail"] == "released"
    assert lab.state(vm) == "shutoff"
    assert plugins.calls("disallocate") == [f"disallocate {vm} stopped"]
    # The next start boots afresh, with a new allocation: never unallocated.
    started = lab.start(vm)
    assert started.rows[0]["result"] == "started"
    assert lab.state(vm) == "running"
    assert held(plugins, vm) == 1


def test_start_after_the_vm_went_off_by_itself_does_not_allocate_twice(lab, plugins, vm):
    lab.start(vm)
    lab.conn.lookupByName(vm).destroy()
    assert lab.start(vm).code == 0
    assert lab.state(vm) == "running"
    assert held(plugins, vm) == 1
