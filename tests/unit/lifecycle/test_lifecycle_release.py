"""Releasing an allocation once (cairn.lifecycle.hooks: Hooks.release and
release_once, the one copy the watcher and its fail-over share), on the lab's
real database with real disallocate plugins."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from cairn.db.models import VM, Host, HostAttr
from cairn.db.session import Database
from cairn.lifecycle.hooks import Hooks, release_once

# Writes a host attribute, then fails: its write must not outlive it.
WRITES_THEN_FAILS = """
from cairn.db.models import HostAttr

def run(*, session, vm, reason):
    session.add(HostAttr(host_id=vm.host_id, name="left_behind", value="yes"))
    session.flush()
    raise RuntimeError("the switch said no")
"""


def _released(lab: Any, name: str, hooks: Hooks, reason: str) -> tuple[bool, bool, bool]:
    """(what release_once said, the VM's allocation after it, a left_behind attribute)."""
    db = Database(lab.cli.url, writes=True)
    try:
        with db.session() as session:
            vm = session.execute(select(VM).join(VM.host).where(Host.name == name)).scalar_one()
            ran = release_once(session, hooks, vm, reason)
            session.commit()
            left = session.execute(
                select(HostAttr).where(HostAttr.name == "left_behind")
            ).scalar_one_or_none()
            return ran, vm.allocated, left is not None
    finally:
        db.close()


def test_release_once_runs_disallocate_once_and_says_so(
    lab: Any, plugins: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugins.logger("allocate")
    plugins.logger("disallocate")
    name = lab.add_vm("vm-container-0-0")
    assert lab.start(name).code == 0
    caplog.set_level(logging.INFO, "cairn.watch")

    first = _released(lab, name, Hooks.load(), "stopped-by-itself")
    second = _released(lab, name, Hooks.load(), "stopped-by-itself")

    assert first == (True, False, False)
    assert second == (False, False, False)
    assert plugins.calls("disallocate") == [f"disallocate {name} stopped-by-itself"]
    said = [r.getMessage() for r in caplog.records if r.name == "cairn.watch"]
    assert said == [
        f"{name}: disallocated (stopped-by-itself)",
        f"{name}: released already (stopped-by-itself)",
    ]


def test_a_failing_disallocate_leaves_the_vm_allocated_and_nothing_written(
    lab: Any, plugins: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plugins.logger("allocate")
    name = lab.add_vm("vm-container-0-0")
    assert lab.start(name).code == 0
    plugins.write("disallocate", WRITES_THEN_FAILS)

    assert _released(lab, name, Hooks.load(), "fenced (vm-container-0-0 is off)") == (
        False,
        True,
        False,
    )
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].startswith(f"{name}: disallocate failed: ")
    assert "the switch said no" in errors[0]
