"""The watcher reconciles on every (re)connect and retries lost containers with backoff.

Against libvirt's test driver, in-process (`lab` from tests/unit/lifecycle/conftest.py
holds the host). A VM that stops while nobody watches leaves no event behind:
only the reconcile after connecting can release it. The test driver never
drops a connection by itself, so a lost connection is the `Lost` event that
`Subscription` emits from libvirt's close callback, handed to the watcher; the
real loss of a real libvirtd is in tests/system/test_system_watch.py.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from cairn.hypervisor.events import Lost
from cairn.lifecycle.watch import BACKOFF_MAX, BACKOFF_START
from testkit import wait_for
from testkit import watch_messages as messages

TEST_URI = "test:///default"
UNREACHABLE = "test:///nonexistent.xml"
DEADLINE = 10.0
FOUND_OFF = "found shutoff when watching began"


@pytest.fixture
def vm(lab: Any, plugins: Any) -> Callable[[str], str]:
    """Adds and starts (allocates) a VM called `<label>-<random>` through cairn."""
    plugins.logger("disallocate")
    tag = uuid.uuid4().hex[:6]

    def started(label: str) -> str:
        name = lab.add_vm("vm-container-0-0", f"name={label}-{tag}")
        done = lab.start(name)
        assert done.code == 0, done.err
        return name

    return started


def test_connect_disallocates_an_allocated_vm_that_stopped_unwatched(
    lab, plugins, vm, watcher, caplog
):
    gone, up, saved, paused = vm("gone"), vm("up"), vm("saved"), vm("paused")
    lab.conn.lookupByName(gone).destroy()  # before anyone watches: no event will tell
    lab.conn.lookupByName(saved).managedSave(0)
    lab.conn.lookupByName(paused).suspend()

    watcher._connect(TEST_URI)

    assert plugins.calls() == [f"disallocate {gone} {FOUND_OFF}"]
    assert f"{gone}: disallocated ({FOUND_OFF})" in messages(caplog)
    assert (lab.state(up), lab.state(saved), lab.state(paused)) == ("running", "saved", "paused")
    assert TEST_URI in watcher.subs and TEST_URI not in watcher.retry


def test_connect_disallocates_an_allocated_vm_whose_domain_is_gone(lab, plugins, vm, watcher):
    name = vm("undefined")
    dom = lab.conn.lookupByName(name)
    dom.destroy()
    dom.undefine()

    watcher._connect(TEST_URI)

    assert plugins.calls() == [f"disallocate {name} found undefined when watching began"]


def test_a_second_connect_does_not_disallocate_again(lab, plugins, vm, watcher):
    name = vm("twice")
    lab.conn.lookupByName(name).destroy()
    watcher._connect(TEST_URI)
    watcher.handle(Lost(TEST_URI, "end of file"))

    watcher._connect(TEST_URI)

    assert plugins.calls() == [f"disallocate {name} {FOUND_OFF}"]


def test_pages_are_told_to_show_a_container_anew_when_it_is_watched_and_when_it_is_lost(
    lab, plugins, vm, watcher
):
    """A VM that stops unwatched leaves no event behind: the pages showing it
    (cairn.web.live) hear a Resync of its container instead, as watching
    begins, and as it ends."""
    from cairn.lifecycle import news

    name = vm("unheard")
    said: list[Any] = []
    unsubscribe = news.subscribe(said.append)
    try:
        lab.conn.lookupByName(name).destroy()  # before anyone watches: no event will tell
        watcher._connect(TEST_URI)
        assert said == [news.Resync(TEST_URI)]
        watcher.handle(Lost(TEST_URI, "end of file"))
        assert said == [news.Resync(TEST_URI)] * 2
    finally:
        unsubscribe()


def test_lost_container_is_reconnected_by_the_loop_and_reconciled(
    lab, plugins, vm, watcher, caplog
):
    name, other = vm("crashed"), vm("survivor")
    watcher._connect(TEST_URI)
    assert plugins.calls() == []

    watcher.handle(Lost(TEST_URI, "end of file"))
    assert watcher.subs == {}
    assert watcher.retry[TEST_URI][1] == BACKOFF_START  # first retry right away
    assert f"lost {TEST_URI} (end of file); reconnecting" in messages(caplog)
    lab.conn.lookupByName(name).destroy()  # nobody subscribed: no event queued

    stop = threading.Event()
    loop = threading.Thread(target=watcher.run, kwargs={"until": stop.is_set}, daemon=True)
    loop.start()
    try:
        wait_for(lambda: plugins.calls(), "the reconcile after reconnecting")
    finally:
        stop.set()
        loop.join(DEADLINE)
    assert not loop.is_alive()

    assert plugins.calls() == [f"disallocate {name} {FOUND_OFF}"]
    assert messages(caplog).count(f"watching {TEST_URI}") == 2
    assert watcher.retry == {}
    assert lab.state(other) == "running"


def test_unreachable_container_is_retried_with_doubling_backoff(watcher, caplog):
    announced = [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert (BACKOFF_START, BACKOFF_MAX) == (1, 60)
    for delay in announced:
        before = time.monotonic()
        watcher._connect(UNREACHABLE)
        after = time.monotonic()
        when, next_delay = watcher.retry[UNREACHABLE]
        # The next attempt is due `delay` seconds from now, not sooner, not later.
        assert before + delay <= when <= after + delay
        assert next_delay == min(delay * 2, BACKOFF_MAX)
    assert UNREACHABLE not in watcher.subs

    retrying = [m for m in messages(caplog) if "retrying in" in m]
    assert [m.rsplit(" ", 2)[1] for m in retrying] == [str(d) for d in announced]
    assert retrying[0].startswith(f"cannot reach {UNREACHABLE}")


def test_the_loop_keeps_watching_one_container_while_another_is_unreachable(
    lab, plugins, vm, watcher, caplog
):
    name = vm("watched")
    lab.cli.ok("set", "host", "attr", "vm-container-0-1", "kvm_connection", UNREACHABLE)
    lab.add_vm("vm-container-0-1", f"name=elsewhere-{uuid.uuid4().hex[:6]}")

    stop = threading.Event()
    loop = threading.Thread(target=watcher.run, kwargs={"until": stop.is_set}, daemon=True)
    loop.start()
    try:
        wait_for(
            lambda: (
                f"watching {TEST_URI}" in messages(caplog)
                and any(m.endswith("retrying in 1 s") for m in messages(caplog))
            ),
            "one container watched and the other retried",
        )
        lab.conn.lookupByName(name).destroy()
        wait_for(lambda: plugins.calls(), "the destroyed VM to be disallocated")
    finally:
        stop.set()
        loop.join(DEADLINE)
    assert not loop.is_alive()

    assert plugins.calls() == [f"disallocate {name} stopped-by-itself (destroyed)"]
    assert UNREACHABLE in watcher.retry


HOLD_ALLOCATE = """
import os, time
def run(*, session, vm, **_):
    open({held!r}, "w").close()
    end = time.monotonic() + 60
    while not os.path.exists({go!r}) and time.monotonic() < end:
        time.sleep(0.01)
"""


def test_a_start_under_way_as_the_watcher_connects_stays_allocated(
    lab, plugins, vm, watcher, caplog, tmp_path
):
    """The watcher lists a container's domains as it connects, then reads the
    allocations. A start under way then (on SQLite it holds the write lock from
    its first statement to its commit) launches its VMs after that listing and
    commits before that read: they run and are allocated, and the listing has
    them off. They must stay allocated; CI once saw a whole container's freshly
    started VMs released this way."""
    if not lab.cli.url.startswith("sqlite"):
        pytest.skip("the read waits for a start only on SQLite (its write lock)")
    held, go = tmp_path / "held", tmp_path / "go"
    plugins.write("allocate", HOLD_ALLOCATE.format(held=str(held), go=str(go)))
    name = lab.add_vm("vm-container-0-0", f"name=late-{uuid.uuid4().hex[:6]}")
    started: list[Any] = []
    start = threading.Thread(target=lambda: started.append(lab.start(name)), daemon=True)
    start.start()
    wait_for(held.exists, "the start to hold the database, in its allocate plugin")

    connect = threading.Thread(target=watcher._connect, args=(TEST_URI,), daemon=True)
    connect.start()
    # Listed (the VM is off), and now waiting for the start's write lock to read.
    wait_for(lambda: f"watching {TEST_URI}" in messages(caplog), "the watcher to list")
    assert lab.state(name) == "undefined"
    go.touch()
    start.join(DEADLINE)
    connect.join(DEADLINE)
    assert not start.is_alive() and not connect.is_alive()

    assert started[0].code == 0, started[0].err
    assert lab.state(name) == "running"
    assert plugins.calls("disallocate") == []
    assert lab.listed(name)[name]["status"] == "running"
