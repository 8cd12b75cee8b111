"""The Airboss through its real socket with real signatures: what a tenant's
key may do, every refusal (changing nothing, audited), and the bounds."""

from __future__ import annotations

import pytest

from cairn.errors import CairnError


def test_the_owner_powers_a_vm_of_its_cluster_on_and_off(lab) -> None:
    rows = lab.call(lab.owner, "power", "vc-compute-0", action="on")
    assert [(r["host"], r["result"]) for r in rows] == [("vc-compute-0", "started")]
    assert lab.hv.lookupByName("vc-compute-0").isActive()
    rows = lab.call(lab.owner, "power", "vc-compute-0", action="off")
    assert [(r["host"], r["result"]) for r in rows] == [("vc-compute-0", "stopped")]
    assert not lab.hv.lookupByName("vc-compute-0").isActive()
    audit = lab.audit()
    assert [(a["op"], a["target"], a["result"]) for a in audit] == [
        ("power", "vc-compute-0", "accepted"),
        ("power", "vc-compute-0", "accepted"),
    ]
    assert {a["fingerprint"] for a in audit} == {lab.owner.fingerprint}
    assert audit[0]["source"].startswith("127.0.0.1:")


def test_macs_lists_the_cluster(lab) -> None:
    rows = lab.call(lab.owner, "macs", "vc")
    assert {r["host"] for r in rows} == {"vc", "vc-compute-0", "vc-compute-1"}
    assert rows == lab.rows("list", "host", "macs", "vc")
