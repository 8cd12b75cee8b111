"""`stop host vm action=reboot|reset` of a VM set to install restarts it: it installs again.

A VM set to install has on_reboot=destroy (cairn.designer): a reboot or reset
asked of libvirt ends its domain, and an installer that obeys the ACPI reboot
looks like an install that ended by itself. libvirt's test driver does what
QEMU does with a reboot (the domain ends, a SHUTDOWN stop); its reset changes
nothing, so there a cold restart shows as a new domain id (a new QEMU, on a
real libvirtd: tests/system/test_system_install_reboot.py).

The watcher is driven step by step, as in test_watch_events.py, whose
fixtures and helpers these tests share.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import test_watch_events as events
from sqlalchemy import text
from test_watch_events import TEST_URI, _boot, allocated, pump

from cairn.db.engine import make_engine
from cairn.hypervisor.events import Stopped
from testkit import wait_for
from testkit import watch_messages as messages

INSTALLS_AGAIN = "it is set to install, so it installs again"
tag, vm, fence = events.tag, events.vm, events.fence  # its fixtures, used here too


def installing(lab, vm, label: str) -> str:
    """A VM started, then set to install (`set host power action=install`): it runs
    with on_reboot=destroy."""
    name = vm(label)
    lab.cli.ok("set", "host", "power", name, "action=off")
    assert lab.act("set", "host", "power", name, "action=install").code == 0
    assert _boot(lab.cli.url, name) == "install"
    assert "<on_reboot>destroy</on_reboot>" in lab.xml(name)
    return name


@pytest.mark.parametrize("action", ["reboot", "reset"])
def test_an_installing_vm_rebooted_or_reset_runs_again_and_installs_again(
    lab, plugins, vm, watcher, fence, caplog, action
):
    name = installing(lab, vm, action)
    before = lab.conn.lookupByName(name).ID()
    released = plugins.calls()  # by the power off before the install
    watcher._connect(TEST_URI)

    done = lab.stop(name, f"action={action}")
    seen = pump(watcher, fence())  # the watcher hears what the command did

    assert done.code == 0, done.err
    assert lab.state(name) == "running"
    assert lab.conn.lookupByName(name).ID() != before  # a new QEMU: its install starts over
    assert _boot(lab.cli.url, name) == "install"
    assert allocated(lab.cli.url, name)
    assert plugins.calls() == released  # no plugin_disallocate
    # The restart's stop was heard, and found running again when handled.
    assert Stopped(TEST_URI, name, "destroyed") in seen
    assert f"{name} runs again on {TEST_URI}: its stop (destroyed) is old news" in messages(caplog)
    row = done.by_host()[name]
    assert (row["result"], row["detail"]) == ("restarted", INSTALLS_AGAIN)


def test_a_vm_that_boots_its_os_is_still_rebooted_in_place(lab, plugins, vm, watcher, fence):
    name = vm("os")
    before = lab.conn.lookupByName(name).ID()
    watcher._connect(TEST_URI)

    done = lab.stop(name, "action=reboot")

    assert (done.by_host()[name]["result"], done.by_host()[name]["detail"]) == ("rebooted", "")
    assert lab.state(name) == "running"
    assert lab.conn.lookupByName(name).ID() == before  # the same QEMU: only the guest rebooted
    pump(watcher, fence())
    assert allocated(lab.cli.url, name)
    assert plugins.calls() == []


def test_a_reboot_of_an_installing_vm_waits_for_its_row(lab, plugins, vm):
    """The command locks the VM's row before it powers the VM off, so the watcher's
    release of that stop waits for the command's commit (PostgreSQL and MariaDB;
    on SQLite every writing command holds the whole database from its start)."""
    if lab.cli.url.startswith("sqlite"):
        pytest.skip("SQLite: a writing command holds the database's write lock from its start")
    name = installing(lab, vm, "held")
    before = lab.conn.lookupByName(name).ID()
    done: list[Any] = []
    command = threading.Thread(target=lambda: done.append(lab.stop(name, "action=reboot")))
    engine = make_engine(lab.cli.url, writes=True)
    try:
        with engine.connect() as holder, engine.connect() as looker:
            holder.execute(
                text(
                    "SELECT vms.id FROM vms JOIN hosts ON hosts.id = vms.host_id"
                    " WHERE hosts.name = :name FOR UPDATE OF vms"
                ),
                {"name": name},
            )
            command.start()
            try:
                wait_for(lambda: _waits_for_a_row(looker), "the command to wait for the VM's row")
                assert lab.conn.lookupByName(name).ID() == before  # not touched yet
            finally:
                holder.rollback()
                command.join(60)
    finally:
        engine.dispose()

    assert not command.is_alive()
    assert done[0].code == 0, done[0].err
    assert done[0].by_host()[name]["result"] == "restarted"
    assert lab.state(name) == "running"
    assert lab.conn.lookupByName(name).ID() != before


def _waits_for_a_row(looker: Any) -> bool:
    """Whether a session of this database waits for a row lock (asked in a
    transaction of its own: PostgreSQL keeps what one saw of pg_stat_activity)."""
    with looker.begin():
        waiting = looker.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ILIKE '%FOR UPDATE%'"
            )
        ).scalar_one()
    return bool(waiting)
