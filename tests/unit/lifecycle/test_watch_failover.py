"""Restart elsewhere, only after fencing (cairn.lifecycle.failover), in the watcher's loop.

The lab's containers all reach libvirt's test driver in-process; the one that
dies, vm-container-0-1, is pointed at a test driver file that does not exist,
so its libvirt is unreachable from then on, with kvm_ha_dead_after 1. Its VMs
were started through cairn (allocated) and destroyed before the watcher runs,
as a fence leaves them. The fence plugin is a real plugin file that logs its
call and answers; the restart runs cairn's start with the lab's allocate,
preboot-free and disallocate loggers.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cairn.hypervisor.states import State
from cairn.lifecycle.watch import Watcher
from testkit import wait_for, write_behind
from testkit import watch_messages as messages

DEAD = "vm-container-0-1"
TEST_URI = "test:///default"
UNREACHABLE = "test:///nonexistent.xml"
SHARED = "/srv/nfs/vms"
DEADLINE = 10.0
FENCED = f"fenced ({DEAD} is off)"

FENCE = """
def run(*, container, uri, attrs):
    with open(LOG, "a") as f:
        f.write("fence " + container + " " + uri + "\\n")
    return ANSWER
"""


@pytest.fixture
def ha(lab: Any, plugins: Any, config: Any) -> Any:
    """The lab with /srv/nfs/vms shared and allocate/disallocate loggers."""
    config.write_text(
        f'vm_storage_dirs = ["/"]\nvm_host_devices = ["/dev/"]\nvm_shared_dirs = ["{SHARED}"]\n'
    )
    plugins.logger("allocate")
    plugins.logger("disallocate")
    return lab


@pytest.fixture
def on_dead(ha: Any) -> Callable[..., str]:
    """Adds a VM on DEAD with a shared disk, starts it (allocated), then
    destroys it before anyone watches (no event tells)."""
    tag = uuid.uuid4().hex[:6]

    def made(label: str, *, kvm_ha: bool = True) -> str:
        name = ha.add_vm(DEAD, f"name={label}-{tag}", f"disk=file:{SHARED}/{label}-{tag}.vda")
        if kvm_ha:
            ha.cli.ok("set", "host", "attr", name, "kvm_ha", "true")
        done = ha.start(name)
        assert done.code == 0, done.err
        ha.conn.lookupByName(name).destroy()
        return name

    return made


def kill(lab: Any) -> None:
    lab.cli.ok("set", "host", "attr", DEAD, "kvm_connection", UNREACHABLE)
    lab.cli.ok("set", "host", "attr", DEAD, "kvm_ha_dead_after", "1")


@pytest.fixture
def watcher(lab: Any, caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], Watcher]]:
    """Makes the watcher once the test has written its plugins; closed after."""
    import logging

    caplog.set_level(logging.INFO, logger="cairn.watch")
    made: list[Watcher] = []

    def make() -> Watcher:
        made.append(Watcher(lab.cli.url, refresh=3600))
        return made[-1]

    yield make
    for w in made:
        w.close()


@contextmanager
def running(w: Watcher) -> Iterator[None]:
    """The watcher's loop in a thread; once stopped, its fail-overs are over too."""
    stop = threading.Event()
    loop = threading.Thread(target=w.run, kwargs={"until": stop.is_set}, daemon=True)
    loop.start()
    try:
        yield
    finally:
        stop.set()
        loop.join(DEADLINE)
    assert not loop.is_alive()


def container_of(lab: Any, name: str) -> str:
    out = lab.cli.ok("list", "host", "vm", name, "output-format=json")
    return str(json.loads(out)[0]["container"])


def test_a_fenced_container_s_kvm_ha_vms_restart_elsewhere_exactly_once(
    ha, plugins, on_dead, watcher, caplog
):
    plugins.write("fence", FENCE.replace("ANSWER", "True"))
    name, plain = on_dead("ha"), on_dead("plain", kvm_ha=False)
    kill(ha)
    w = watcher()

    with running(w):
        wait_for(lambda: any("restarted on" in m for m in messages(caplog)), "the restart")

    assert plugins.calls() == [
        f"allocate {name}",
        f"allocate {plain}",
        f"fence {DEAD} {UNREACHABLE}",
        f"disallocate {name} {FENCED}",
        f"disallocate {plain} {FENCED}",
        f"allocate {name}",
    ]
    assert ha.state(name) == "running"
    assert container_of(ha, name) != DEAD
    assert container_of(ha, plain) == DEAD  # not kvm_ha: released, left where it was
    status = ha.listed(plain)[plain]["status"]
    assert status == f"unreachable (dead, fenced; restarted elsewhere: {name})"

    w._fence_the_dead(time.monotonic() + 3600)  # the dead container, much later
    w.settle(DEADLINE)
    assert len(plugins.calls()) == 6, "fenced or restarted a second time"


def test_without_a_fence_plugin_nothing_is_restarted_and_the_status_says_why(
    ha, plugins, on_dead, watcher, caplog
):
    name = on_dead("ha")
    kill(ha)
    w = watcher()

    with running(w):
        wait_for(lambda: any("not fenced" in m for m in messages(caplog)), "the refusal")

    assert plugins.calls() == [f"allocate {name}"]  # not released, not started again
    assert ha.state(name) == "shutoff"
    assert container_of(ha, name) == DEAD
    said = ha.listed(name)[name]["status"]
    assert said.startswith("unreachable (dead, not fenced: no fence plugin (watch/plugin_fence.py")
    assert said.endswith(f"kvm_ha VMs not restarted: {name})")
    assert any(m.startswith(f"container {DEAD} ({UNREACHABLE}) is dead, not fenced") for m in
               messages(caplog))  # fmt: skip


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("'off'", "did not confirm it off (returned 'off')"),
        ("1 / 0", "failed: ZeroDivisionError"),
    ],
)
def test_only_a_fence_that_answers_true_lets_vms_restart_and_it_is_tried_again(
    ha, plugins, on_dead, watcher, caplog, answer, said
):
    plugins.write("fence", FENCE.replace("ANSWER", answer))
    name = on_dead("ha")
    kill(ha)
    w = watcher()

    with running(w):
        wait_for(lambda: any("not fenced" in m for m in messages(caplog)), "the refusal")
    w._fence_the_dead(time.monotonic() + 2)  # after kvm_ha_dead_after again
    w.settle(DEADLINE)

    assert plugins.calls() == [f"allocate {name}"] + [f"fence {DEAD} {UNREACHABLE}"] * 2
    assert ha.state(name) == "shutoff" and container_of(ha, name) == DEAD
    assert said in ha.listed(name)[name]["status"]


def test_a_vm_whose_disk_is_no_longer_shared_is_released_but_not_restarted(
    ha, plugins, on_dead, watcher, caplog
):
    plugins.write("fence", FENCE.replace("ANSWER", "True"))
    name = on_dead("ha")
    write_behind(
        ha.cli.url,
        "UPDATE vm_disks SET path = '/var/lib/libvirt/images/x.vda' WHERE vm_id ="
        " (SELECT vms.id FROM vms JOIN hosts ON hosts.id = vms.host_id WHERE hosts.name = :n)",
        n=name,
    )
    kill(ha)
    w = watcher()

    with running(w):
        wait_for(lambda: any("not restarted elsewhere" in m for m in messages(caplog)), "it")

    assert plugins.calls()[1:] == [f"fence {DEAD} {UNREACHABLE}", f"disallocate {name} {FENCED}"]
    assert container_of(ha, name) == DEAD
    assert f"{name} cannot have kvm_ha: disk /var/lib/libvirt/images/x.vda" in "\n".join(
        messages(caplog)
    )


def test_a_container_back_after_its_fence_loses_its_copies_even_after_a_service_restart(
    ha, plugins, on_dead, watcher, caplog
):
    plugins.write("fence", FENCE.replace("ANSWER", "True"))
    name = on_dead("ha")
    kill(ha)
    with running(watcher()):
        wait_for(lambda: any("restarted on" in m for m in messages(caplog)), "the restart")
    new = container_of(ha, name)
    # The test driver is one host for every URI: for this test, the container the
    # VM went to gets a URI of its own, and the dead one answers at test:///default
    # again, where the domain now stands for the copy it kept.
    ha.cli.ok("set", "host", "attr", new, "kvm_connection", "test:///elsewhere.xml")
    ha.cli.ok("set", "host", "attr", DEAD, "kvm_connection", TEST_URI)

    fresh = watcher()  # a restarted service: it remembers nothing of the restart
    fresh._back(TEST_URI, {name: State.RUNNING, "test": State.RUNNING})

    assert ha.state(name) == "undefined"
    assert f"{name}: removed its old copy on {TEST_URI} (restarted elsewhere)" in messages(caplog)
    assert ha.host_attr(DEAD, "kvm_ha_status") is None
    assert ha.state("test") == "running"  # not a cairn VM: left alone


def test_without_a_fence_a_container_that_answers_again_keeps_its_vms_and_loses_its_status(
    ha, plugins, on_dead, watcher, caplog
):
    name = on_dead("ha")
    ha.conn.lookupByName(name).create()  # it ran on all along
    kill(ha)
    w = watcher()
    with running(w):
        wait_for(lambda: any("not fenced" in m for m in messages(caplog)), "the refusal")
    ha.cli.ok("set", "host", "attr", DEAD, "kvm_connection", TEST_URI)

    w._back(TEST_URI, {name: State.RUNNING})

    assert ha.state(name) == "running"
    assert ha.host_attr(DEAD, "kvm_ha_status") is None
    assert ha.listed(name)[name]["status"] == "running"


def test_a_kvm_ha_value_stored_behind_cairn_s_back_is_logged_and_the_watcher_goes_on(
    ha, plugins, on_dead, watcher, caplog
):
    plugins.write("fence", FENCE.replace("ANSWER", "True"))
    name = on_dead("ha")
    write_behind(ha.cli.url, "UPDATE host_attrs SET value = 'maybe' WHERE name = 'kvm_ha'")
    kill(ha)
    w = watcher()

    with running(w):
        wait_for(lambda: any("trying again" in m for m in messages(caplog)), "the error")
    assert any(f"attribute kvm_ha of host {name}" in m for m in messages(caplog))
    assert w.next_fence[UNREACHABLE] < float("inf")  # tried again later

    assert plugins.calls() == [f"allocate {name}"]
    assert container_of(ha, name) == DEAD


def test_the_restarted_vms_are_spread_by_free_memory_and_start_together(
    ha, plugins, on_dead, watcher, caplog
):
    plugins.write("fence", FENCE.replace("ANSWER", "True"))
    big = [on_dead(f"big{i}") for i in range(2)]
    for name in big:  # 5000 MB each: one fits on a container of 4 CPUs (8192 MB), not two
        ha.cli.ok("set", "host", "vm", name, "mem=5000")
    kill(ha)

    with running(watcher()):
        wait_for(lambda: sum("restarted on" in m for m in messages(caplog)) == 2, "both")

    assert sorted(container_of(ha, n) for n in big) == ["vm-container-0-0", "vm-container-0-2"]
    assert [ha.state(n) for n in big] == ["running", "running"]


BARRIER = """
import time

def run(*, container, uri, attrs):
    with open(LOG, "a") as f:
        f.write("fence " + container + " " + uri + "\\n")
    if container == "vm-container-0-1":  # holds on until the other is being fenced too
        end = time.monotonic() + 10
        while "fence vm-container-0-2" not in open(LOG).read():
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
    return True
"""


def test_containers_dead_at_once_are_fenced_at_once(ha, plugins, on_dead, watcher, caplog):
    plugins.write("fence", BARRIER)
    first = on_dead("first")
    second = ha.add_vm("vm-container-0-2", f"name=second-{uuid.uuid4().hex[:6]}",
                       f"disk=file:{SHARED}/second.vda")  # fmt: skip
    ha.cli.ok("set", "host", "attr", second, "kvm_ha", "true")
    assert ha.start(second).code == 0
    ha.conn.lookupByName(second).destroy()
    for rank in (1, 2):
        container = f"vm-container-0-{rank}"
        ha.cli.ok("set", "host", "attr", container, "kvm_connection", f"test:///gone-{rank}.xml")
        ha.cli.ok("set", "host", "attr", container, "kvm_ha_dead_after", "1")

    with running(watcher()):
        wait_for(lambda: sum("restarted on" in m for m in messages(caplog)) == 2, "both", 20)

    assert container_of(ha, first) == container_of(ha, second) == "vm-container-0-0"
    assert [ha.state(first), ha.state(second)] == ["running", "running"]
    # One after the other, the first fence would have given up and been tried again.
    assert sorted(c.split()[1] for c in plugins.calls("fence")) == [
        "vm-container-0-1", "vm-container-0-2"
    ]  # fmt: skip


def test_no_fence_when_no_other_container_answers(ha, plugins, on_dead, watcher, caplog):
    plugins.write("fence", FENCE.replace("ANSWER", "True"))
    name = on_dead("ha")
    ha.cli.ok("set", "attr", "kvm_connection", "test:///cut-off.xml")  # every container
    kill(ha)
    w = watcher()

    with running(w):
        wait_for(lambda: any("no other container answers" in m for m in messages(caplog)), "it")

    assert plugins.calls() == [f"allocate {name}"]  # not fenced, not released
    assert "no other container answers" in ha.listed(name)[name]["status"]
    assert w.next_fence[UNREACHABLE] < float("inf")  # asked again later
