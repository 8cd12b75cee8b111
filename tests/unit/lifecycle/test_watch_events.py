"""The watcher turns libvirt's stop events into exactly one plugin_disallocate.

Against libvirt's test driver, in-process: `lab` (tests/unit/lifecycle/conftest.py)
holds the test:///default host open, cairn commands start the VMs, and this
test's own connection (`lab.conn`) destroys or saves them the way something
outside cairn would. The watcher is driven step by step (`_connect`, then each
queued event through `handle`) or runs its loop in a thread.

"Exactly once" needs a point after which no more events can come: a fence
domain, unknown to cairn, is destroyed last; events arrive in order on one
queue, so when its event has been handled, every earlier one has been too.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import libvirt
import pytest
from lxml import etree
from sqlalchemy import select

from cairn.db.models import VM, Host
from cairn.db.session import Database
from cairn.hypervisor.events import Event, Stopped
from cairn.lifecycle.watch import Watcher
from testkit import wait_for, write_behind
from testkit import watch_messages as messages

TEST_URI = "test:///default"
DEADLINE = 10.0


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:6]


@pytest.fixture
def vm(lab: Any, plugins: Any, tag: str) -> Callable[[str], str]:
    """Adds and starts (allocates) a VM called `<label>-<tag>` through cairn."""
    plugins.logger("disallocate")

    def started(label: str) -> str:
        name = lab.add_vm("vm-container-0-0", f"name={label}-{tag}")
        done = lab.start(name)
        assert done.code == 0, done.err
        assert lab.state(name) == "running"
        return name

    return started


@pytest.fixture
def fence(lab: Any, tag: str) -> Callable[[], str]:
    """Destroys a running domain that cairn does not know; returns its name."""
    dom = lab.conn.createXML(_domain_xml(f"fence-{tag}"), 0)  # transient: gone once off

    def destroy() -> str:
        dom.destroy()
        return str(dom.name())

    return destroy


def _domain_xml(name: str) -> str:
    dom = etree.Element("domain", type="test")
    etree.SubElement(dom, "name").text = name
    etree.SubElement(dom, "memory", unit="MiB").text = "64"
    os_el = etree.SubElement(dom, "os")
    etree.SubElement(os_el, "type", arch="x86_64").text = "hvm"
    return etree.tostring(dom, encoding="unicode")


def pump(w: Watcher, last: str) -> list[Event]:
    """Handle queued events in order until the Stopped event of `last`; all of them."""
    seen: list[Event] = []
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            event = w.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"no stop event for {last} within {DEADLINE:g} s; saw {seen}")
        w.handle(event)
        seen.append(event)
        if isinstance(event, Stopped) and event.name == last:
            return seen


def allocated(url: str, name: str) -> bool:
    db = Database(url, writes=False)
    try:
        with db.session() as session:
            return bool(
                session.execute(
                    select(VM.allocated).join(VM.host).where(Host.name == name)
                ).scalar_one()
            )
    finally:
        db.close()


@contextmanager
def running(w: Watcher) -> Iterator[None]:
    """The watcher's own loop in a thread, for the duration of the block."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def loop() -> None:
        try:
            w.run(until=stop.is_set)
        except BaseException as exc:  # re-raised in the test's thread
            failures.append(exc)

    thread = threading.Thread(target=loop, name="watcher", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(DEADLINE)
    assert not thread.is_alive(), "the watcher did not stop when asked"
    if failures:
        raise failures[0]


# --- step by step ----------------------------------------------------------


def test_a_destroyed_vm_is_disallocated_exactly_once(lab, plugins, vm, watcher, fence, caplog):
    name = vm("gone")
    watcher._connect(TEST_URI)
    assert plugins.calls() == []  # running: nothing to reconcile

    lab.conn.lookupByName(name).destroy()
    seen = pump(watcher, fence())

    assert Stopped(TEST_URI, name, "destroyed") in seen
    assert plugins.calls() == [f"disallocate {name} stopped-by-itself (destroyed)"]
    assert f"{name}: disallocated (stopped-by-itself (destroyed))" in messages(caplog)
    assert not allocated(lab.cli.url, name)

    watcher.handle(Stopped(TEST_URI, name, "destroyed"))  # the same news twice
    assert len(plugins.calls()) == 1


def test_a_managed_save_keeps_the_allocation(lab, plugins, vm, watcher, fence, caplog):
    name = vm("saved")
    watcher._connect(TEST_URI)

    lab.conn.lookupByName(name).managedSave(0)
    seen = pump(watcher, fence())

    assert Stopped(TEST_URI, name, "saved") in seen
    assert plugins.calls() == []
    assert f"{name} stopped (saved): kept allocated" in messages(caplog)
    assert allocated(lab.cli.url, name)
    # It still holds its allocation, so the eventual stop releases it.
    assert lab.stop(name).by_host()[name]["detail"] == "released"
    assert plugins.calls() == [f"disallocate {name} stopped"]


def test_a_vm_of_someone_else_is_ignored(lab, plugins, vm, watcher, fence, caplog):
    name = vm("ours")
    watcher._connect(TEST_URI)

    pump(watcher, fence())  # the fence itself is a domain cairn does not know

    assert plugins.calls() == []
    assert allocated(lab.cli.url, name)
    assert not [m for m in messages(caplog) if "fence" in m]


def test_stop_host_vm_then_the_destroy_event_disallocates_once(lab, plugins, vm, watcher, fence):
    name = vm("stopped")
    watcher._connect(TEST_URI)

    done = lab.stop(name)  # its poweroff is a "destroyed" event the watcher then sees
    assert done.by_host()[name]["detail"] == "released"
    seen = pump(watcher, fence())

    assert Stopped(TEST_URI, name, "destroyed") in seen
    assert plugins.calls() == [f"disallocate {name} stopped"]
    assert not allocated(lab.cli.url, name)


def test_the_destroy_event_then_stop_host_vm_disallocates_once(lab, plugins, vm, watcher, fence):
    name = vm("destroyed")
    watcher._connect(TEST_URI)
    lab.conn.lookupByName(name).destroy()
    pump(watcher, fence())

    done = lab.stop(name)

    assert done.code == 0, done.err
    assert done.by_host()[name]["detail"] == "nothing allocated"
    assert plugins.calls() == [f"disallocate {name} stopped-by-itself (destroyed)"]


def test_a_stop_heard_late_does_not_release_the_vm_started_again(lab, plugins, vm, watcher, fence):
    """A stop event the watcher handles only after the VM was started again (its
    queue was long: a storm of stops, a busy database) is old news: the VM runs
    and holds its new allocation."""
    name = vm("again")
    watcher._connect(TEST_URI)
    assert lab.stop(name).by_host()[name]["detail"] == "released"  # its event waits, queued

    assert lab.start(name).code == 0
    seen = pump(watcher, fence())

    assert Stopped(TEST_URI, name, "destroyed") in seen
    assert lab.state(name) == "running"
    assert plugins.calls() == [f"disallocate {name} stopped"]
    assert allocated(lab.cli.url, name)


def test_two_vms_destroyed_at_the_same_moment_are_each_disallocated_once(
    lab, plugins, vm, watcher, fence
):
    names = [vm("left"), vm("right")]
    watcher._connect(TEST_URI)
    doms = [lab.conn.lookupByName(n) for n in names]
    together = threading.Barrier(len(doms))

    def destroy(dom: libvirt.virDomain) -> None:
        together.wait()
        dom.destroy()

    threads = [threading.Thread(target=destroy, args=(d,)) for d in doms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)
    pump(watcher, fence())

    assert sorted(plugins.calls()) == sorted(
        f"disallocate {n} stopped-by-itself (destroyed)" for n in names
    )


def test_two_frontends_watchers_release_each_vm_once_between_them(
    lab, plugins, vm, watcher, fence, caplog
):
    """Two frontends on one database: both watchers get every stop, handle them at
    the same time, and each VM is released once; the other says it found it so."""
    names = [vm("fa"), vm("fb"), vm("fc")]
    other = Watcher(lab.cli.url, refresh=3600)
    try:
        for w in (watcher, other):
            w._connect(TEST_URI)
        for name in names:
            lab.conn.lookupByName(name).destroy()
        last = fence()
        at_once(lambda w: pump(w, last), (watcher, other))
    finally:
        other.close()

    assert sorted(plugins.calls()) == sorted(
        f"disallocate {n} stopped-by-itself (destroyed)" for n in names
    )
    said = messages(caplog)
    for name in names:
        assert said.count(f"{name}: disallocated (stopped-by-itself (destroyed))") == 1, said
        assert said.count(f"{name}: released already (stopped-by-itself (destroyed))") == 1, said
        assert not allocated(lab.cli.url, name)


def at_once(work: Callable[[Watcher], None], watchers: tuple[Watcher, ...]) -> None:
    """`work` on each watcher, in a thread each, all let go at the same moment;
    an error in any is raised here."""
    start = threading.Barrier(len(watchers))
    errors: list[BaseException] = []

    def run(w: Watcher) -> None:
        try:
            start.wait()
            work(w)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in watchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE * 3)
    assert not errors, errors


def queued(w: Watcher, last: str) -> list[Event]:
    """The events queued until the Stopped event of `last`, taken but not handled."""
    seen: list[Event] = []
    deadline = time.monotonic() + DEADLINE
    while not (seen and isinstance(seen[-1], Stopped) and seen[-1].name == last):
        try:
            seen.append(w.events.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            pytest.fail(f"no stop event for {last} within {DEADLINE:g} s; saw {seen}")
    return seen


def test_a_storm_of_stops_is_released_in_one_transaction_each_vm_once_by_two_frontends(
    lab, plugins, vm, watcher, fence, caplog
):
    """Many VMs destroyed at once, their stops taken together by each of two
    frontends' watchers at the same moment (on PostgreSQL, rows the other holds
    are skipped, then waited for alone): each VM released once between them; a
    VM started again before its stop is handled keeps its allocation."""
    names = [vm(f"storm{i}") for i in range(8)]
    again = names.pop()
    other = Watcher(lab.cli.url, refresh=3600)
    try:
        for w in (watcher, other):
            w._connect(TEST_URI)
        for name in [*names, again]:
            lab.conn.lookupByName(name).destroy()
        assert lab.stop(again).by_host()[again]["detail"] == "released"
        assert lab.start(again).code == 0
        last = fence()
        batches = {w: queued(w, last) for w in (watcher, other)}
        at_once(lambda w: w._handle_queued(batches[w]), (watcher, other))
        assert not watcher.deferred and not other.deferred
    finally:
        other.close()

    calls = plugins.calls()
    assert sorted(calls) == sorted(
        [f"disallocate {again} stopped"]
        + [f"disallocate {n} stopped-by-itself (destroyed)" for n in names]
    )
    assert all(not allocated(lab.cli.url, n) for n in names)
    assert lab.state(again) == "running" and allocated(lab.cli.url, again)
    said = messages(caplog)
    assert said.count(f"{again} runs again on {TEST_URI}: its stop (destroyed) is old news") == 2


# --- the loop in a thread ----------------------------------------------------


def test_the_loop_disallocates_a_destroyed_vm_and_keeps_a_saved_one(
    lab, plugins, vm, watcher, caplog
):
    gone, kept = vm("w1"), vm("w2")

    with running(watcher):
        wait_for(lambda: f"watching {TEST_URI}" in messages(caplog), "the watcher to connect")
        lab.conn.lookupByName(gone).destroy()
        lab.conn.lookupByName(kept).managedSave(0)
        # Handled in order: once w2's line is there, w1's event is done too.
        wait_for(
            lambda: f"{kept} stopped (saved): kept allocated" in messages(caplog),
            "the save to be seen",
        )

    assert plugins.calls() == [f"disallocate {gone} stopped-by-itself (destroyed)"]
    assert messages(caplog).count(f"{gone}: disallocated (stopped-by-itself (destroyed))") == 1
    assert allocated(lab.cli.url, kept)


def test_stop_host_vm_while_the_loop_runs_disallocates_once(lab, plugins, vm, watcher, caplog):
    """The command and the watcher race for the same VM; the row lock decides."""
    name, marker = vm("raced"), vm("marker")

    with running(watcher):
        wait_for(lambda: f"watching {TEST_URI}" in messages(caplog), "the watcher to connect")
        done = lab.stop(name)
        lab.conn.lookupByName(marker).managedSave(0)
        wait_for(
            lambda: f"{marker} stopped (saved): kept allocated" in messages(caplog),
            "the watcher to handle the events",
        )

    assert done.code == 0, done.err
    calls = plugins.calls()
    assert len(calls) == 1, calls
    # Whoever won, the command's report agrees with what ran.
    if calls == [f"disallocate {name} stopped"]:
        assert done.by_host()[name]["detail"] == "released"
    else:
        assert calls == [f"disallocate {name} stopped-by-itself (destroyed)"]
        assert done.by_host()[name]["detail"] == "nothing allocated"


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """SQLite's busy time-out cut short, before the watcher's engine is made."""
    import cairn.db.engine as engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_S", 0.2)


def test_a_busy_database_defers_the_work_and_the_watcher_goes_on(
    short_busy_timeout, lab, plugins, vm, watcher, caplog
):
    """Another command holding SQLite's write lock past the busy time-out must
    not kill the watcher: the event waits, and is handled once the lock goes."""
    import sqlite3

    if not lab.cli.url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    name = vm("busy")
    watcher._connect(TEST_URI)
    lab.conn.lookupByName(name).destroy()
    holder = sqlite3.connect(lab.cli.url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        watcher._handle_or_defer(Stopped(TEST_URI, name, "destroyed"))
        assert [e for _, e in watcher.deferred] == [Stopped(TEST_URI, name, "destroyed")]
        assert plugins.calls() == []
        assert "the database is busy" in messages(caplog)[-1]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ((_, event),) = watcher.deferred
    watcher._handle_or_defer(event)
    assert plugins.calls() == [f"disallocate {name} stopped-by-itself (destroyed)"]


def test_the_watcher_starts_and_watches_while_a_command_holds_the_write_lock(
    short_busy_timeout, lab, plugins, vm, caplog
):
    """A long writing command (a bulk start, an evacuation) holds SQLite's write
    lock from its first statement. The watcher only reads to start, find its
    containers and reconcile one where nothing is to release: none of that may
    wait for the lock (a service's watcher once died of it as it started)."""
    import sqlite3

    if not lab.cli.url.startswith("sqlite"):
        pytest.skip("SQLite's write lock")
    name = vm("held")
    holder = sqlite3.connect(lab.cli.url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        w = Watcher(lab.cli.url, refresh=3600)
        try:
            w._refresh_containers()
            assert set(w.subs) == {TEST_URI} and not w.retry, messages(caplog)
        finally:
            w.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not [m for m in messages(caplog) if "busy" in m]
    assert plugins.calls() == []
    assert lab.state(name) == "running"


def test_a_container_no_uri_can_name_is_skipped_and_the_others_are_watched(
    lab, plugins, vm, watcher, tag, caplog
):
    # A container renamed behind cairn's back to a name no libvirt URI may hold,
    # with a VM defined on it: the watcher says so and goes on watching the rest.
    lab.add_vm("vm-container-0-1", f"name=idle-{tag}")
    write_behind(
        lab.cli.url, "UPDATE hosts SET name = :bad WHERE name = 'vm-container-0-1'", bad="x;y z"
    )
    gone = vm("w1")

    with running(watcher):
        wait_for(lambda: f"watching {TEST_URI}" in messages(caplog), "the watcher to connect")
        lab.conn.lookupByName(gone).destroy()
        wait_for(lambda: not allocated(lab.cli.url, gone), "the destroyed VM to be released")

    assert any(m.startswith("not watching x;y z: ") for m in messages(caplog)), messages(caplog)
    assert plugins.calls() == [f"disallocate {gone} stopped-by-itself (destroyed)"]


def _boot(url: str, name: str) -> str | None:
    db = Database(url, writes=False)
    try:
        with db.session() as session:
            return session.execute(select(Host.boot).where(Host.name == name)).scalar_one()
    finally:
        db.close()


def test_an_install_that_ends_by_itself_sets_the_boot_back_to_os(
    lab, plugins, vm, watcher, fence, caplog
):
    """`set host power action=install`, then the guest's installer ends it (a
    shutdown from inside: the test driver's shutdown stops it at once): it is
    installed, so its boot is os; one destroyed mid-install stays at install."""
    done, crashed = vm("installed"), vm("crashed")
    for name in (done, crashed):
        lab.cli.ok("set", "host", "power", name, "action=off")
        assert lab.act("set", "host", "power", name, "action=install").code == 0
        assert _boot(lab.cli.url, name) == "install"
    watcher._connect(TEST_URI)

    lab.conn.lookupByName(done).shutdown()
    lab.conn.lookupByName(crashed).destroy()
    seen = pump(watcher, fence())

    assert Stopped(TEST_URI, done, "shutdown") in seen
    assert _boot(lab.cli.url, done) == "os"
    assert f"{done}: its install ended (stopped-by-itself (shutdown)): boot set to os" in (
        messages(caplog)
    )
    assert _boot(lab.cli.url, crashed) == "install"
    assert not allocated(lab.cli.url, done) and not allocated(lab.cli.url, crashed)
