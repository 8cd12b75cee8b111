"""Plain SQL reads (cairn.db.rows): the SQLite path without SQLAlchemy, and
the same answers whichever way the SQL runs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from cairn.attrs import read
from cairn.attrs.resolve import resolve_facts
from cairn.attrs.scopes import Scope
from cairn.db import models
from cairn.db.engine import make_engine
from cairn.db.rows import open_embedded, over_session
from cairn.errors import NotFound
from cairn.inventory.hostwords import host_facts

WORDS = [
    ["compute-0-0"],
    ["vm-container-0-1", "compute-0-0"],
    ["compute"],
    ["*-0-1"],
    ["compute-0-[01]", "compute"],
    ["localhost"],
    [],
]


def _path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def test_embedded_and_session_reads_agree(sqlite_example_cluster):
    """Host words and resolution give the same answer over sqlite3 and over SQLAlchemy."""
    url = sqlite_example_cluster.url
    embedded = open_embedded(url)
    assert embedded is not None
    engine = make_engine(url, writes=False)
    try:
        with Session(engine) as session:
            rows = over_session(session)
            for words in WORDS:
                quick, slow = host_facts(embedded, words), host_facts(rows, words)
                assert quick == slow, words
                assert quick, words
                assert resolve_facts(embedded, quick) == resolve_facts(rows, slow)
            for reader in (embedded, rows):
                with pytest.raises(NotFound, match="'nosuchhost'"):
                    host_facts(reader, ["compute-0-0", "nosuchhost"])
    finally:
        embedded.close()
        engine.dispose()


def test_host_words_keep_the_order_given_without_repeats(sqlite_example_cluster):
    embedded = open_embedded(sqlite_example_cluster.url)
    assert embedded is not None
    names = [h.name for h in host_facts(embedded, ["vm-container-0-1", "compute", "compute-0-1"])]
    embedded.close()
    assert names == ["vm-container-0-1", "compute-0-0", "compute-0-1"]


def test_embedded_reads_are_read_only(sqlite_example_cluster):
    embedded = open_embedded(sqlite_example_cluster.url)
    assert embedded is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        embedded("DELETE FROM host_attrs", ())
    embedded.close()
    assert "kvm_autostart" in sqlite_example_cluster.ok("report", "host", "attr", "compute-0-0")


def test_embedded_declines_what_it_cannot_read_safely(tmp_path, sqlite_example_cluster):
    missing = tmp_path / "none" / "cairn.db"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 100)
    assert open_embedded(f"sqlite:///{missing}") is None
    assert not missing.parent.exists(), "the read path created a file"
    assert open_embedded(f"sqlite:///{garbage}") is None
    assert open_embedded("sqlite:///:memory:") is None
    assert open_embedded("sqlite://") is None
    assert open_embedded("postgresql://u:p@127.0.0.1/db") is None
    # A database at another schema revision goes to the path that migrates.
    behind = _path(sqlite_example_cluster.url)
    with sqlite3.connect(behind) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    conn.close()
    assert open_embedded(f"sqlite:///{behind}") is None


def test_first_read_creates_the_database(tmp_path, capsys, monkeypatch):
    from testkit import Cli

    cli = Cli(f"sqlite:///{tmp_path / 'new' / 'cairn.db'}", capsys, monkeypatch)
    out = cli.ok("list", "host", "attr", "attr=cpu_mode", "output-header=no")
    assert "host-passthrough" in out
    assert (tmp_path / "new" / "cairn.db").is_file()


def test_attribute_tables_match_the_models():
    for scope, (table, owner) in read.TABLES.items():
        model = {
            Scope.GLOBAL: models.GlobalAttr,
            Scope.OS: models.OSAttr,
            Scope.APPLIANCE: models.ApplianceAttr,
            Scope.HOST: models.HostAttr,
        }[scope]
        assert model.__tablename__ == table
        columns = set(model.__table__.columns.keys())
        assert {"name", "value"} <= columns
        assert owner is None or owner in columns


_PROBE = """
import contextlib, io, json, sys
from cairn.cli.main import main
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    codes = [main(w) for w in json.loads(sys.argv[1])]
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'lxml', 'libvirt'})
print(json.dumps({"codes": codes, "heavy": heavy, "out": out.getvalue()}))
"""


def test_attribute_reads_import_no_sqlalchemy(sqlite_example_cluster):
    """The most frequent reads skip the 200 ms SQLAlchemy import on the embedded database."""
    argvs = [
        ["list", "host", "attr", "compute-0-0"],
        ["list", "host", "attr", "compute", "attr=kvm_autostart"],
        ["report", "host", "attr", "compute-0-0", "attr=ssh_port"],
        ["report", "host", "attr", "nosuchhost"],
    ]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "CAIRN_DB_URL": sqlite_example_cluster.url},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["codes"] == [0, 0, 0, 1]
    assert result["heavy"] == []
    assert "compute-0-1  kvm_autostart  false" in result["out"]
    assert "\n22\n" in result["out"]
