"""MariaDB/MySQL through PyMySQL, selected by URL: the inventory, attributes, VM
definitions and concurrent writers work there as on SQLite and PostgreSQL.

Runs when CAIRN_TEST_MYSQL_URL names a user that may create cairn_* databases
(scripts/services.sh starts MariaDB and prints it); in CI a missing server fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit import CAIRN, Cli, both_readers, build_cluster, new_database

pytestmark = pytest.mark.mariadb


@pytest.fixture
def maria_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Cli]:
    with new_database("mariadb", tmp_path) as url:
        yield Cli(url, capsys, monkeypatch)


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


def test_direct_reads_agree_with_sqlalchemy_and_cannot_write(maria_cli: Cli) -> None:
    from cairn.attrs.resolve import resolve_facts
    from cairn.errors import CairnError
    from cairn.inventory.hostwords import host_facts

    build_cluster(maria_cli)
    with both_readers(maria_cli.url) as (direct, rows):
        for words in (["compute-0-0"], ["compute", "vm-container-0-1"], ["*-0-1"], []):
            quick, slow = host_facts(direct, words), host_facts(rows, words)
            assert quick == slow and quick, words
            assert resolve_facts(direct, quick) == resolve_facts(rows, slow)
        with pytest.raises(CairnError, match="READ ONLY"):
            direct("DELETE FROM host_attrs", ())
        with pytest.raises(CairnError, match="READ ONLY"):  # DDL would end the transaction
            direct("CREATE TABLE cairn_zz (x int)", ())


def test_attribute_reads_import_no_sqlalchemy(maria_cli: Cli) -> None:
    build_cluster(maria_cli)
    probe = (
        "import sys; from cairn.cli.main import main;"
        " code = main(['report', 'host', 'attr', 'compute-0-0', 'attr=ssh_port']);"
        " print('loaded' if 'sqlalchemy' in sys.modules else 'light', code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "CAIRN_DB_URL": maria_cli.url, "CAIRN_SERVICE": "off"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "22\nlight 0\n"


def test_an_unreachable_server_is_one_line() -> None:
    from cairn.db.direct import open_direct
    from cairn.errors import CairnError

    with pytest.raises(CairnError, match=r"^cannot reach the database mysql://u:\*\*\*@") as err:
        open_direct("mysql://u:secret@127.0.0.1:1/cairn_x")
    assert "secret" not in str(err.value) and "\n" not in str(err.value)
