"""db: the schema revision, what a new database holds, `cairn init`, SQLite's WAL
mode, and one-line errors for databases that cannot be used."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from cairn.db import schema
from testkit import one_error_line, table, this_host, write_locked

MIGRATIONS = Path(schema.__file__).resolve().parent / "migrations"
SEEDED_APPLIANCES = {"frontend", "compute", "vm-container", "hosted-vm"}


def test_head_is_alembics_head():
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    heads = script.get_heads()
    assert len(heads) == 1, f"migrations must form one line, heads: {heads}"
    assert heads[0] == schema.HEAD


def test_new_database_is_seeded(cli):
    apps = {r["appliance"]: r for r in table(cli, "list", "appliance")}
    assert set(apps) == SEEDED_APPLIANCES
    assert [
        (r["appliance"], r["attr"], r["value"]) for r in table(cli, "list", "appliance", "attr")
    ] == [("vm-container", "kvm", "true")]
    assert [(r["attr"], r["value"]) for r in table(cli, "list", "attr")] == [
        ("cpu_mode", "host-passthrough")
    ]
    assert [r["os"] for r in table(cli, "list", "os")] == ["linux"]
    hosts = table(cli, "list", "host")
    assert [(h["host"], h["appliance"], h["os"]) for h in hosts] == [
        (this_host(), "frontend", "linux")
    ]
    assert apps["frontend"]["hosts"] == 1
    assert apps["vm-container"]["kvm"] == "true"


def test_localhost_is_the_seeded_frontend(cli):
    rows = table(cli, "list", "host", "localhost")
    assert [r["host"] for r in rows] == [this_host()]


def test_init_creates_then_is_ready_and_changes_nothing(cli):
    out = cli.ok("init")
    assert "created" in out and schema.HEAD in out
    cli.ok("add", "host", "compute-0-0", "appliance=compute")
    cli.ok("remove", "host", "localhost")  # removed on purpose: never seeded again
    cli.ok("remove", "appliance", "hosted-vm")
    before = cli.dump()
    for words in (["init"], ["init", "defaults=yes"], ["init", "defaults=no"]):
        out = cli.ok(*words)
        assert "ready" in out and "created" not in out
        assert cli.dump() == before


def test_init_on_a_database_made_by_a_command(cli):
    cli.ok("list", "host")
    assert "ready" in cli.ok("init")


def test_init_defaults_no_seeds_nothing(cli):
    assert "created" in cli.ok("init", "defaults=no")
    assert cli.dump() == ""
    assert table(cli, "list", "appliance") == []
    assert table(cli, "list", "host") == []
    assert table(cli, "list", "attr") == []
    assert table(cli, "list", "os") == []


def test_init_does_not_print_the_password(cli):
    from sqlalchemy.engine import make_url

    out = cli.ok("init")
    password = make_url(cli.url).password
    if password:
        assert password not in out
        assert "***" in out


def test_sqlite_file_is_in_wal_mode(sqlite_cli, tmp_path):
    sqlite_cli.ok("list", "host")
    path = tmp_path / "cairn.db"
    assert path.is_file()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (schema.HEAD,)
        ]


def test_sqlite_directory_is_created_by_init_not_by_a_read(tmp_path, monkeypatch, capsys):
    from cairn.cli.main import main

    path = tmp_path / "a" / "b" / "cairn.db"
    monkeypatch.setenv("CAIRN_DB_URL", f"sqlite:///{path}")
    # A read of a database that is not there is an error, and makes nothing.
    assert main(["list", "os", "output-header=no"]) == 1
    assert "does not exist" in capsys.readouterr().err or not path.parent.exists()
    assert not (tmp_path / "a").exists()
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["list", "os", "output-header=no"]) == 0
    assert capsys.readouterr().out == "linux\n"
    assert path.is_file()


def test_database_newer_than_cairn_is_refused(sqlite_cli, tmp_path):
    sqlite_cli.ok("list", "host")
    with sqlite3.connect(tmp_path / "cairn.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    r = sqlite_cli("list", "host")
    assert r.code == 1 and r.out == ""
    assert "9999" in one_error_line(r.err)
    r = sqlite_cli("init")
    assert r.code == 1
    one_error_line(r.err)
    with sqlite3.connect(tmp_path / "cairn.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]


@pytest.mark.parametrize("words", [["list", "host"], ["set", "attr", "x", "y"], ["init"]])
def test_unreachable_postgresql(monkeypatch, capsys, words):
    from cairn.cli.main import main

    monkeypatch.setenv("CAIRN_DB_URL", "postgresql://nobody:s3cret-pw@127.0.0.1:1/none")
    assert main(words) == 1
    out, err = capsys.readouterr()
    line = one_error_line(err)
    assert out == ""
    assert "database" in line and "127.0.0.1" in line
    assert "s3cret-pw" not in line


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////proc/forbidden/x.db",
        "sqlite:////proc/x.db",
        "nonsense",
        "foo://x/y",
        "postgresql://u@h:notaport/x",
    ],
)
def test_unusable_database_url(monkeypatch, capsys, url):
    from cairn.cli.main import main

    monkeypatch.setenv("CAIRN_DB_URL", url)
    assert main(["list", "host"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    one_error_line(err)


def test_config_file_names_the_database(tmp_path, monkeypatch, capsys):
    from cairn.cli.main import main

    db = tmp_path / "from-config.db"
    config = tmp_path / "cairn.toml"
    config.write_text(f'db_url = "sqlite:///{db}"\n')
    monkeypatch.delenv("CAIRN_DB_URL", raising=False)
    monkeypatch.setenv("CAIRN_CONFIG", str(config))
    assert main(["list", "os", "output-header=no"]) == 0
    assert capsys.readouterr().out == "linux\n"
    assert db.is_file()
    config.write_text("db_url = [unclosed\n")
    assert main(["list", "os"]) == 1
    assert str(config) in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("words", [["set", "attr", "x", "y"], ["init"]])
def test_a_locked_sqlite_database_is_reported_as_locked_and_left_alone(sqlite_cli, tmp_path, words):
    """A lock held past the busy time-out (cut to 0.2 s by the URL's timeout=) is
    one line that says it is a lock; the database is not taken for a new one
    (whose defaults would set cpu_mode back to host-passthrough)."""
    c = sqlite_cli
    c.ok("set", "attr", "cpu_mode", "host-model")
    before = c.dump()
    with write_locked(tmp_path / "cairn.db"):
        done = c.process(*words, CAIRN_DB_URL=f"{c.url}?timeout=0.2", CAIRN_SERVICE="off")
    assert done.code == 1, done.out
    assert "is locked" in one_error_line(done.err)
    assert c.dump() == before


def test_current_revision_is_none_only_without_a_schema(sqlite_cli, tmp_path):
    """A lock is raised, not taken for "no schema" (which would seed the defaults)."""
    from sqlalchemy.exc import OperationalError

    from cairn.db.engine import make_engine

    sqlite_cli.ok("list", "host")
    engine = make_engine(f"{sqlite_cli.url}?timeout=0.1", writes=True)
    holder = sqlite3.connect(tmp_path / "cairn.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as conn, pytest.raises(OperationalError, match="locked"):
            schema.current_revision(conn)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}", writes=True)
    with empty.connect() as conn:
        assert schema.current_revision(conn) is None
    empty.dispose()


def test_a_bad_busy_timeout_in_the_url_is_one_line(sqlite_cli):
    done = sqlite_cli.process("set", "attr", "x", "y", CAIRN_DB_URL=f"{sqlite_cli.url}?timeout=x")
    assert done.code == 1
    assert "timeout='x'" in one_error_line(done.err)
