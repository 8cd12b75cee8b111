"""`list host vm status=yes` answers from the states the service's watcher heard.

The container here is libvirt's test driver on a file: every connection that
opens it gets a world of its own, made from the file. So the watcher's world
(its subscription's connection) and a command's (a connection opened anew) can
differ, and the listing shows which one it answered from: once the watcher
has listed the container and the file no longer has the domain, asking would
say "undefined"; the watcher's world says what its events said.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import pytest

from cairn.hypervisor import heard
from cairn.lifecycle.watch import Watcher
from testkit import wait_for

CONTAINER = "vm-container-0-2"
NAME = "heard-vm"


def _node(path: Path, *names: str) -> None:
    domains = "".join(
        f"<domain type='test'><name>{n}</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64'>hvm</type></os></domain>"
        for n in names
    )
    path.write_text(f"<node>{domains}</node>")


@pytest.fixture
def world(lab: Any, tmp_path: Path) -> Iterator[tuple[Watcher, str]]:
    """A watcher that keeps what it hears, subscribed to a container whose file
    has NAME running, cairn's VM of that name on it; then the file loses it."""
    node = tmp_path / "node.xml"
    _node(node, NAME)
    uri = f"test://{node}"
    lab.cli.ok("set", "host", "attr", CONTAINER, "kvm_connection", uri)
    lab.add_vm(CONTAINER, f"name={NAME}")
    w = Watcher(lab.cli.url, refresh=3600, keep=True)
    w._connect(uri)
    assert uri in w.subs
    _node(node)  # a connection opened from now on finds no such domain
    try:
        yield w, uri
    finally:
        w.close()


def status(lab: Any) -> str:
    return str(lab.listed(NAME)[NAME]["status"])


def test_the_listing_is_what_the_watcher_heard(
    lab: Any, world: tuple[Watcher, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heard, "SETTLE", 0.0)
    w, uri = world
    assert status(lab) == "running"  # its listing when it subscribed
    dom = w.subs[uri]._conn.lookupByName(NAME)  # type: ignore[union-attr]
    dom.suspend()  # events, as from anything outside cairn
    wait_for(lambda: status(lab) == "paused", "the listing to say paused")
    dom.resume()
    # Defined anew while it runs (DEFINED): it runs on, and the listing says so.
    dom.connect().defineXML(dom.XMLDesc(0))
    dom.destroy()
    wait_for(lambda: status(lab) == "shutoff", "the listing to say shutoff")
    dom.connect().defineXML(dom.XMLDesc(0))
    dom.create()
    wait_for(lambda: status(lab) == "running", "the listing to say running")
    w._forget(uri)  # not watched any more: asked
    assert status(lab) == "undefined"


def test_defined_anew_while_running_stays_running(
    lab: Any, world: tuple[Watcher, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heard, "SETTLE", 0.0)
    w, uri = world
    conn = w.subs[uri]._conn
    assert conn is not None
    dom = conn.lookupByName(NAME)
    conn.defineXML(dom.XMLDesc(0))  # DEFINED (updated): persistence, not state
    # A second domain started after it: its event comes after the first's.
    conn.createXML(
        "<domain type='test'><name>heard-fence</name><memory unit='MiB'>64</memory>"
        "<os><type arch='x86_64'>hvm</type></os></domain>",
        0,
    )
    wait_for(lambda: "heard-fence" in heard.states({uri})[uri], "the fence domain's event")
    assert dom.state(0)[0] == libvirt.VIR_DOMAIN_RUNNING
    assert status(lab) == "running"


def test_a_container_cairn_just_used_is_asked(
    lab: Any, world: tuple[Watcher, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its events may still be on their way: for SETTLE seconds after a command
    used it, the container itself answers."""
    monkeypatch.setattr(heard, "SETTLE", 3600.0)
    assert status(lab) == "running"  # not used by any command yet
    lab.stop(NAME)  # asks its state (from a world of its own): uses the container
    assert status(lab) == "undefined"
