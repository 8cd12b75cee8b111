"""Plain SQL reads (cairn.db.rows): straight through sqlite3 or psycopg
without SQLAlchemy, and the same answers whichever way the SQL runs."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cairn.attrs import read
from cairn.attrs.resolve import resolve_facts
from cairn.attrs.scopes import Scope
from cairn.db import models
from cairn.db.direct import open_direct
from cairn.db.engine import make_engine
from cairn.errors import CairnError, NotFound
from cairn.inventory.hostwords import host_facts
from testkit import CAIRN, both_readers, light_run

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


def test_direct_and_session_reads_agree(example_cluster):
    """Host words and resolution give the same answer straight and over SQLAlchemy."""
    with both_readers(example_cluster.url) as (embedded, rows):
        for words in WORDS:
            quick, slow = host_facts(embedded, words), host_facts(rows, words)
            assert quick == slow, words
            assert quick, words
            assert resolve_facts(embedded, quick) == resolve_facts(rows, slow)
        for reader in (embedded, rows):
            with pytest.raises(NotFound, match="'nosuchhost'"):
                host_facts(reader, ["compute-0-0", "nosuchhost"])


def test_host_words_keep_the_order_given_without_repeats(sqlite_example_cluster):
    embedded = open_direct(sqlite_example_cluster.url)
    assert embedded is not None
    names = [h.name for h in host_facts(embedded, ["vm-container-0-1", "compute", "compute-0-1"])]
    embedded.close()
    assert names == ["vm-container-0-1", "compute-0-0", "compute-0-1"]


def test_direct_reads_are_read_only(example_cluster):
    direct = open_direct(example_cluster.url)
    assert direct is not None
    with pytest.raises(Exception, match=r"readonly|read-only"):
        direct("DELETE FROM host_attrs", ())
    direct.close()
    assert "kvm_autostart" in example_cluster.ok("report", "host", "attr", "compute-0-0")


def test_direct_declines_what_it_cannot_read_safely(tmp_path, sqlite_example_cluster):
    missing = tmp_path / "none" / "cairn.db"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 100)
    assert open_direct(f"sqlite:///{missing}") is None
    assert not missing.parent.exists(), "the read path created a file"
    assert open_direct(f"sqlite:///{garbage}") is None
    assert open_direct("sqlite:///:memory:") is None
    assert open_direct("sqlite://") is None
    assert open_direct("mysql://u:p@127.0.0.1/db?ssl_ca=/x") is None
    assert open_direct("oracle://u:p@127.0.0.1/db") is None
    # A database at another schema revision goes to the path that migrates.
    behind = _path(sqlite_example_cluster.url)
    with sqlite3.connect(behind) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    conn.close()
    assert open_direct(f"sqlite:///{behind}") is None


def test_first_read_creates_the_database(cli):
    """A new database is not at the schema: the read goes the way that creates it."""
    assert open_direct(cli.url) is None
    out = cli.ok("list", "host", "attr", "attr=cpu_mode", "output-header=no")
    assert "host-passthrough" in out
    direct = open_direct(cli.url)
    assert direct is not None
    direct.close()


def test_unreachable_server_is_one_line():
    url = "postgresql://cairn:secret@127.0.0.1:1/cairn"
    shown = r"^cannot reach the database postgresql://cairn:\*\*\*@127\.0\.0\.1:1/cairn: "
    with pytest.raises(CairnError, match=shown) as err:
        open_direct(url)
    assert "secret" not in str(err.value) and "\n" not in str(err.value)


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


def test_attribute_reads_import_no_sqlalchemy(example_cluster):
    """The most frequent reads skip the 200 ms SQLAlchemy import."""
    argvs = [
        ["list", "host", "attr", "compute-0-0"],
        ["list", "host", "attr", "compute", "attr=kvm_autostart"],
        ["report", "host", "attr", "compute-0-0", "attr=ssh_port"],
        ["report", "host", "attr", "nosuchhost"],
        ["list", "host", "vm-container-*", "output-header=no"],
    ]
    result = light_run(example_cluster.url, argvs)
    assert result["codes"] == [0, 0, 0, 1, 0]
    assert result["heavy"] == []
    assert "compute-0-1  kvm_autostart  false" in result["out"]
    assert "\n22\n" in result["out"]
    assert "vm-container-0-1  vm-container  linux  0  1  16\n" in result["out"]


def test_a_failing_direct_read_is_one_line(example_cluster):
    direct = open_direct(example_cluster.url)
    assert direct is not None
    try:
        with pytest.raises(CairnError, match=r"^the database refused the read: .*no_such_table"):
            direct("SELECT * FROM no_such_table", ())
    finally:
        direct.close()
    with pytest.raises(CairnError, match=r"^the database refused the read: "):
        direct("SELECT 1", ())  # a closed (or lost) connection is one line too


def test_shared_sql_may_not_hold_percent(example_cluster):
    direct = open_direct(example_cluster.url)
    assert direct is not None
    with pytest.raises(ValueError, match="%"):
        direct("SELECT name FROM hosts WHERE name LIKE 'c%'", ())
    direct.close()


@pytest.mark.postgres
@pytest.mark.parametrize("example_cluster", ["postgresql"], indirect=True)
def test_postgresql_urls_are_read_as_sqlalchemy_reads_them(example_cluster):
    """Percent-encoded parts are decoded; a URL SQLAlchemy would read differently
    (an unencoded / in the password) is left to SQLAlchemy."""
    url = example_cluster.url
    scheme, rest = url.split("://", 1)
    creds, _, where = rest.rpartition("@")
    user, _, password = creds.partition(":")
    encoded = "".join(f"%{b:02X}" for b in password.encode())
    direct = open_direct(f"{scheme}://{user}:{encoded}@{where}")
    assert direct is not None
    assert host_facts(direct, ["compute-0-0"])[0].name == "compute-0-0"
    direct.close()
    assert open_direct(f"{scheme}://{user}:pass/word@{where}") is None
    assert open_direct(f"postgres://{rest}") is None
    assert open_direct(f"{scheme}://{rest}?host=a&host=b") is None  # multi-host: SQLAlchemy's
    blank = open_direct(f"{scheme}://{rest}?sslmode=")  # a blank option is dropped, as there
    assert blank is not None
    blank.close()


def test_many_hosts_never_exceed_the_bound_value_limit(sqlite_example_cluster):
    """More names or ids than MANY are read whole and filtered, not bound one by one."""
    from sqlalchemy import insert, select

    from cairn.db.rows import MANY

    url = sqlite_example_cluster.url
    engine = make_engine(url, writes=True)
    with engine.begin() as conn:
        app, os_id = conn.execute(select(models.Host.appliance_id, models.Host.os_id)).first()
        conn.execute(
            insert(models.Host),
            [{"name": f"n-{i}", "appliance_id": app, "os_id": os_id} for i in range(MANY + 1)],
        )
    engine.dispose()
    direct = open_direct(url)
    assert direct is not None
    direct._conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MANY)
    names = [f"n-{i}" for i in reversed(range(MANY + 1))]
    found = host_facts(direct, names)
    assert [h.name for h in found] == names
    resolved = resolve_facts(direct, found)
    assert len(resolved) == MANY + 1
    assert all(r["hostname"].value == h.name for h, r in zip(found, resolved.values(), strict=True))
    direct.close()


def test_statement_count_is_one_line(sqlite_example_cluster):
    done = subprocess.run(
        [CAIRN, "list", "host", "attr", "compute-0-0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "CAIRN_DB_URL": sqlite_example_cluster.url,
             "CAIRN_SQL_COUNT": "1", "CAIRN_SERVICE": "off"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    counts = [line for line in done.stderr.splitlines() if line.startswith("sql-statements: ")]
    assert len(counts) == 1 and int(counts[0].split()[-1]) > 0, done.stderr


_URL_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@settings(max_examples=400)
@given(user=_URL_TEXT, password=_URL_TEXT, host=_URL_TEXT, port=st.integers(1, 65535) | st.none(),
       dbname=_URL_TEXT, encode=st.booleans())  # fmt: skip
def test_postgresql_urls_the_direct_path_takes_mean_what_sqlalchemy_reads(
    user, password, host, port, dbname, encode
):
    """Any URL the direct path accepts names the same user, password, host, port
    and database as SQLAlchemy's reading of it; the others go to SQLAlchemy."""
    from urllib.parse import quote, unquote

    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from cairn.db.direct import _SERVER_URL

    def part(text: str) -> str:
        return quote(text, safe="") if encode else text

    where = f"{part(host)}:{port}" if port else part(host)
    url = f"postgresql://{part(user)}:{part(password)}@{where}/{part(dbname)}"
    parts = _SERVER_URL.fullmatch(url)
    event("left to SQLAlchemy" if parts is None else "read directly")
    if parts is None:
        return
    try:
        theirs = make_url(url)
    except (ArgumentError, ValueError):
        pytest.fail(f"the direct path takes {url!r}, which SQLAlchemy refuses")
    ours = {k: unquote(v) if v else None for k, v in parts.groupdict().items()}
    assert ours["user"] == (theirs.username or None)
    assert ours["password"] == (theirs.password or None)
    assert ours["host"] == (theirs.host or None)
    assert (int(ours["port"]) if ours["port"] else None) == theirs.port
    assert ours["dbname"] == (theirs.database or None)
