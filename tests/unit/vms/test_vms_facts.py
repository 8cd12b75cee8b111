"""VM facts (cairn.vms.facts): what `list host vm` shows, read over the
models, the same VMs as the mapped rows, in an order of its own."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest
from sqlalchemy import insert, select

from cairn.db import models
from cairn.db.chunks import MANY
from cairn.db.engine import make_engine
from cairn.db.hostfacts import natural
from cairn.errors import NotFound
from cairn.vms.define import vms_for
from cairn.vms.facts import disks, macs, vm_facts
from testkit import reading


@pytest.fixture
def vms(example_cluster: Any) -> Any:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=3", "mem=1024")
    cli.ok("add", "host", "vm", "vm-container-0-1", "login", "cpus=2", "disk=file:/a.img")
    cli.ok("add", "host", "vm", "vm-container-0-1", "disk=qcow2:/z.qcow2,,ide", "disk=file:/b.img")
    cli.ok("set", "host", "vm", "cdrom", "login-0-1-0", "cdrom=/isos/x.iso")
    return cli


def test_facts_name_the_mapped_vms(vms: Any) -> None:
    with reading(vms.url) as session:
        # Host order (rack, rank, name), not the order the VMs were added in.
        for words, names in (
            ([], ["hosted-vm-0-0-0", "hosted-vm-0-1-1", "login-0-1-0"]),
            (["login-0-1-0"], ["login-0-1-0"]),
            (["login", "hosted-vm"], ["login-0-1-0", "hosted-vm-0-0-0", "hosted-vm-0-1-1"]),
            (["*-0-1-*"], ["hosted-vm-0-1-1", "login-0-1-0"]),
        ):
            found = vm_facts(session, words, all_if_empty=True)
            assert [vm.host.name for vm in found] == names
            mapped = vms_for(session, words, all_if_empty=True)
            assert [vm.id for vm in mapped] == [vm.id for vm in found]
            assert [(vm.slice, vm.memory_mb, vm.container.name, vm.cdrom) for vm in mapped] == [
                (vm.slice, vm.memory_mb, vm.container, vm.cdrom) for vm in found
            ]
            held = disks(session, found)
            for vm in mapped:
                assert [(f"{d.kind}:{d.path},{d.device},{d.bus}", d.size_gb) for d in vm.disks] == (
                    held.get(vm.id, [])
                )
                assert set(macs(session, found).get(vm.host_id, [])) == {
                    i.mac for i in vm.host.interfaces if i.mac
                }


def test_macs_in_natural_interface_order_and_disks_in_position_order(vms: Any) -> None:
    vms.ok("add", "host", "interface", "hosted-vm-0-0-0", "eth10", "mac=52:54:00:aa:00:10")
    vms.ok("add", "host", "interface", "hosted-vm-0-0-0", "eth9", "mac=52:54:00:aa:00:09")
    # Equal numbers: the name decides, whatever order the database returns.
    vms.ok("add", "host", "interface", "hosted-vm-0-0-0", "eth11", "mac=52:54:00:aa:00:11")
    vms.ok("add", "host", "interface", "hosted-vm-0-0-0", "eth011", "mac=52:54:00:aa:00:12")
    with reading(vms.url) as direct:
        found = vm_facts(direct, ["hosted-vm-0-0-0"])
        assert macs(direct, found)[found[0].host.id][-4:] == [
            "52:54:00:aa:00:09",
            "52:54:00:aa:00:10",
            "52:54:00:aa:00:12",
            "52:54:00:aa:00:11",
        ]
        found = vm_facts(direct, ["hosted-vm-0-1-1"])
        # In the order given, not sorted: the first disk is the one booted.
        assert [d.split(",")[0] for d, _ in disks(direct, found)[found[0].id]] == [
            "qcow2:/z.qcow2",
            "file:/b.img",
        ]


def test_words_that_name_no_vm_are_refused(vms: Any) -> None:
    with reading(vms.url) as direct:
        with pytest.raises(NotFound, match=r"^host compute-0-0 is not a virtual machine"):
            vm_facts(direct, ["login-0-1-0", "compute-0-0"])
        with pytest.raises(NotFound, match=r"^no virtual machine matches compute"):
            vm_facts(direct, ["compute"])
        assert vm_facts(direct, []) == []  # no words and not all_if_empty: none


def test_many_vms_never_exceed_the_bound_value_limit(sqlite_example_cluster: Any) -> None:
    """More VMs than MANY: bound a piece at a time."""
    url = sqlite_example_cluster.url
    engine = make_engine(url, writes=True)
    count = MANY + 1
    with engine.begin() as conn:
        app, os_id, container = conn.execute(
            select(models.Host.appliance_id, models.Host.os_id, models.Host.id)
        ).first()
        names = [f"v-{i}" for i in range(count)]
        conn.execute(
            insert(models.Host), [{"name": n, "appliance_id": app, "os_id": os_id} for n in names]
        )
        ids = {n: i for n, i in conn.execute(select(models.Host.name, models.Host.id)).all()}
        conn.execute(
            insert(models.VM),
            [
                {
                    "host_id": ids[n],
                    "container_id": container,
                    "slice": i,
                    "memory_mb": 512,
                    "uuid": str(uuid.uuid4()),
                }
                for i, n in enumerate(names)
            ],
        )
        vm_ids = {h: v for h, v in conn.execute(select(models.VM.host_id, models.VM.id))}
        conn.execute(
            insert(models.Interface),
            [
                {
                    "host_id": ids[n],
                    "name": "eth0",
                    "mac": f"02:00:00:00:{i // 256:02x}:{i % 256:02x}",
                }
                for i, n in enumerate(names)
            ],
        )
        conn.execute(
            insert(models.VMDisk),
            [
                {
                    "vm_id": vm_ids[ids[n]],
                    "position": 0,
                    "kind": "file",
                    "path": f"/d/{n}",
                    "device": "vda",
                    "bus": "virtio",
                    "size_gb": 1,
                }
                for n in names
            ],
        )
    engine.dispose()
    with reading(url) as direct:
        raw = direct.connection().connection.dbapi_connection
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MANY)
        wanted = list(reversed(names))
        found = vm_facts(direct, wanted)
        assert [vm.host.name for vm in found] == wanted
        assert len(macs(direct, found)) == count
        assert all(len(d) == 1 for d in disks(direct, found).values())
        assert len(disks(direct, found)) == count


def test_natural_order_is_total() -> None:
    """Names that differ only in leading zeros still have one order, whatever
    order they come in (the database's is not fixed)."""
    names = ["eth10", "eth2", "eth011", "eth11", "eth", "eth02", "eth2a"]
    assert sorted(names, key=natural) == sorted(reversed(names), key=natural)
    assert sorted(names, key=natural)[:3] == ["eth", "eth02", "eth2"]


@pytest.mark.parametrize("example_cluster", ["sqlite"], indirect=True)
def test_answers_do_not_depend_on_the_order_the_database_returns_rows(vms: Any) -> None:
    """SQL without ORDER BY may return rows in any order (PostgreSQL and
    MariaDB differ from SQLite): the same answers when every read is reversed."""
    with reading(vms.url) as session:
        words_tried = ([], ["login", "hosted-vm"], ["*-0-1-*"])
        answers = [
            (found := vm_facts(session, words, all_if_empty=True), macs(session, found),
             disks(session, found))
            for words in words_tried
        ]  # fmt: skip
        session.rollback()
        # SQLite then returns every row of a query without ORDER BY the other way round.
        session.connection().exec_driver_sql("PRAGMA reverse_unordered_selects = ON")
        for words, (found, held_macs, held_disks) in zip(words_tried, answers, strict=True):
            assert vm_facts(session, words, all_if_empty=True) == found
            assert macs(session, found) == held_macs
            assert disks(session, found) == held_disks
