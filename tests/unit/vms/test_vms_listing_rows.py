"""The listings the web page joins map no row per VM or per host.

Mapping a row (with the relations it loads eagerly) is what made `list host vm
status=yes`, `list host interface` and `list host boot` take seconds with
10,000 VMs (benchmarks/web.py); their tables come from facts (plain tuples)
instead. Counted with SQLAlchemy's `load` event in this process, where the
`cli` fixture's service runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from cairn.db.models import VM, Host, Interface
from testkit import Cli

SETUP = [
    "add host vm-container-0-0 appliance=vm-container cpus=8",
    "set host attr vm-container-0-0 kvm_connection test:///default",
    "add host vm vm-container-0-0 mem=1024 cpus=2",
    "add host vm vm-container-0-0 mem=2048 cpus=1",
    "add host vm vm-container-0-0 mem=512 cpus=1",
]


@pytest.fixture
def loaded() -> Iterator[Counter[str]]:
    """{model name: rows mapped} while the test runs."""
    seen: Counter[str] = Counter()
    listeners = []
    for model in (VM, Host, Interface):

        def count(target: Any, context: Any, name: str = model.__name__) -> None:
            seen[name] += 1

        event.listen(model, "load", count)
        listeners.append((model, count))
    yield seen
    for model, count in listeners:
        event.remove(model, "load", count)


@pytest.mark.parametrize(
    ("line", "model"),
    [
        ("list host vm status=yes", "VM"),
        ("list host interface", "Host"),
        ("list host boot", "Host"),
        ("list host interface", "Interface"),
        ("list host interface disablekvm", "Interface"),
    ],
)
def test_a_listing_of_every_vm_maps_no_row_per_vm(
    sqlite_cli: Cli, hv: Any, loaded: Counter[str], line: str, model: str
) -> None:
    for setup in SETUP:
        sqlite_cli.ok(*setup.split())
    loaded.clear()
    out = sqlite_cli.ok(*line.split())
    assert "hosted-vm-0-0-2" in out
    assert loaded[model] <= 1  # at most the one container, never the three VMs (or their NICs)
