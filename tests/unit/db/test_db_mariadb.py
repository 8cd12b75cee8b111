"""MariaDB/MySQL through PyMySQL, selected by URL: the inventory, attributes, VM
definitions and concurrent writers work there as on SQLite and PostgreSQL.

Runs when CAIRN_TEST_MYSQL_URL names a user that may create cairn_* databases
(scripts/services.sh starts MariaDB and prints it); in CI a missing server fails.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit import CAIRN, Cli, build_cluster, new_database, reading, resolved_by_hand

pytestmark = pytest.mark.mariadb


@pytest.fixture
def maria_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Cli]:
    with new_database("mariadb", tmp_path) as url:
        cli = Cli(url, capsys, monkeypatch)
        yield cli
        cli.close()


def test_inventory_attributes_and_vms(maria_cli: Cli) -> None:
    build_cluster(maria_cli)
    value = "<cputune>\n <vcpupin vcpu='0' cpuset='1'/></cputune> Grüße ☃ & 'q' \"d\" $HOME"
    maria_cli.ok("set", "host", "attr", "compute-0-0", "note", f"value={value}")
    assert maria_cli.ok("report", "host", "attr", "compute-0-0", "attr=note") == value + "\n"
    listed = maria_cli.ok("list", "host", "attr", "compute-0-0", "attr=note")
    assert "&lt;cputune&gt;" in listed and listed.split()[-1] == "H"
    maria_cli.ok("add", "host", "vm", "vm-container-0-0", "mem=512", "num-macs=2")
    maria_cli.ok("add", "host", "vm", "vm-container-0-0")
    vms = maria_cli.ok("list", "host", "vm", "output-header=no").splitlines()
    # The first VM's second MAC is a row of its own under it, as in Rocks.
    assert [line.split()[0] for line in vms] == ["hosted-vm-0-0-0"] * 2 + ["hosted-vm-0-0-1"]
    macs = {line.split()[4] for line in vms}
    assert len(macs) == 3  # every MAC of both VMs, each once
    xml = maria_cli.ok("report", "host", "vm", "config", "hosted-vm-0-0-0")
    assert "<name>hosted-vm-0-0-0</name>" in xml and xml.count("<interface") == 2


def test_failed_command_leaves_database_unchanged(maria_cli: Cli) -> None:
    build_cluster(maria_cli)
    before = maria_cli.dump()
    bad = maria_cli("set", "host", "attr", "compute-*", "kvm", "maybe")
    assert bad.code == 1 and bad.err.startswith("error - ") and bad.err.count("\n") == 1
    assert maria_cli("add", "host", "compute-0-0", "appliance=compute").code == 1
    assert maria_cli.dump() == before


def test_sixteen_concurrent_writers(maria_cli: Cli) -> None:
    build_cluster(maria_cli)
    env = {**os.environ, "CAIRN_DB_URL": maria_cli.url}
    procs = [
        subprocess.Popen(
            [CAIRN, "set", "host", "attr", "compute-0-1", f"attr{i}", f"value-{i}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(16)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(code == 0 for code, _ in results), results
    listed = maria_cli.ok("list", "host", "attr", "compute-0-1", "output-header=no")
    for i in range(16):
        assert f"attr{i} " in listed and f"value-{i}" in listed


def test_reads_agree_with_the_mapped_rows(maria_cli: Cli) -> None:
    from cairn.attrs.resolve import resolve_facts
    from cairn.db.hostfacts import HostFacts
    from cairn.inventory import lookup
    from cairn.inventory.hostwords import host_facts

    build_cluster(maria_cli)
    maria_cli.ok("set", "host", "attr", "compute-0-1", "ssh_port", "2201")
    with reading(maria_cli.url) as session:
        for words in (["compute-0-0"], ["compute", "vm-container-0-1"], ["*-0-1"], []):
            facts, mapped = host_facts(session, words), lookup.hosts(session, words)
            assert facts == [HostFacts.of(h) for h in mapped] and facts, words
            resolved = resolve_facts(session, facts)
            for host in mapped:
                got = {n: (r.value, r.source) for n, r in resolved[host.id].items()}
                assert got == resolved_by_hand(session, host), host.name


def test_an_unreachable_server_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from cairn.cli.main import main

    monkeypatch.setenv("CAIRN_DB_URL", "mysql://u:secret@127.0.0.1:1/cairn_x")
    assert main(["list", "host", "attr", "compute-0-0"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error - cannot reach the database mysql+pymysql://u:***@127.0.0.1:1/")
    assert err.count("\n") == 1
    assert "secret" not in err
