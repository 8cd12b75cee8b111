"""The reads behind host words and attribute resolution, over the models: the
same answers as the mapped rows and the plain definition of precedence, on
each backend, in pieces for many hosts, and streamed."""

from __future__ import annotations

import sqlite3
import subprocess
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from cairn.attrs.resolve import each_resolved, resolve_facts
from cairn.db import models
from cairn.db.chunks import MANY
from cairn.db.engine import make_engine
from cairn.db.hostfacts import HostFacts
from cairn.errors import NotFound
from cairn.inventory import lookup
from cairn.inventory.hostwords import host_facts
from testkit import CAIRN, reading, resolved_by_hand

WORDS = [
    ["compute-0-0"],
    ["vm-container-0-1", "compute-0-0"],
    ["compute"],
    ["*-0-1"],
    ["compute-0-[01]", "compute"],
    ["localhost"],
    [],
]


def test_facts_and_resolution_agree_with_the_mapped_rows(example_cluster):
    """Host words name the hosts `lookup.hosts` maps, with the same facts, and
    each resolves as the plain scope-after-scope definition says."""
    example_cluster.ok("set", "os", "attr", "linux", "ssh_port", "2222")
    example_cluster.ok("set", "appliance", "attr", "compute", "ssh_port", "2200")
    example_cluster.ok("set", "host", "attr", "compute-0-1", "ssh_port", "2201")
    with reading(example_cluster.url) as session:
        for words in WORDS:
            facts = host_facts(session, words)
            mapped = lookup.hosts(session, words)
            assert facts, words
            assert facts == [HostFacts.of(h) for h in mapped], words
            resolved = resolve_facts(session, facts)
            assert list(resolved) == [h.id for h in facts]
            for host in mapped:
                got = {n: (r.value, r.source) for n, r in resolved[host.id].items()}
                assert got == resolved_by_hand(session, host), host.name
        with pytest.raises(NotFound, match="'nosuchhost'"):
            host_facts(session, ["compute-0-0", "nosuchhost"])
        ports = {h.name: r["ssh_port"] for h, r in zip(
            host_facts(session, ["compute", "vm-container-0-1"]),
            resolve_facts(session, host_facts(session, ["compute", "vm-container-0-1"])).values(),
            strict=True,
        )}  # fmt: skip
    assert ports["compute-0-0"] == ("2200", "A")
    assert ports["compute-0-1"] == ("2201", "H")
    assert ports["vm-container-0-1"] == ("2222", "O")


def test_host_words_keep_the_order_given_without_repeats(sqlite_example_cluster):
    with reading(sqlite_example_cluster.url) as session:
        found = host_facts(session, ["vm-container-0-1", "compute", "compute-0-1"])
    assert [h.name for h in found] == ["vm-container-0-1", "compute-0-0", "compute-0-1"]


def test_first_read_creates_the_database(cli):
    out = cli.ok("list", "host", "attr", "attr=cpu_mode", "output-header=no")
    assert "host-passthrough" in out


def _add_hosts(url: str, count: int) -> list[str]:
    engine = make_engine(url, writes=True)
    names = [f"n-{i}" for i in range(count)]
    with engine.begin() as conn:
        app, os_id = conn.execute(select(models.Host.appliance_id, models.Host.os_id)).first()
        conn.execute(
            insert(models.Host), [{"name": n, "appliance_id": app, "os_id": os_id} for n in names]
        )
        ids = conn.execute(select(models.Host.id).where(models.Host.name.like("n-%"))).scalars()
        conn.execute(
            insert(models.HostAttr), [{"host_id": i, "name": "mine", "value": str(i)} for i in ids]
        )
    engine.dispose()
    return names


def test_many_hosts_never_exceed_the_bound_value_limit(sqlite_example_cluster):
    """More names or ids than MANY are bound a piece at a time."""
    url = sqlite_example_cluster.url
    names = _add_hosts(url, MANY * 2 + 1)
    with reading(url) as session:
        raw = session.connection().connection.dbapi_connection
        raw.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, MANY)
        wanted = list(reversed(names))
        found = host_facts(session, wanted)
        assert [h.name for h in found] == wanted
        resolved = resolve_facts(session, found)
    assert len(resolved) == len(names)
    for host, attrs in zip(found, resolved.values(), strict=True):
        assert attrs["hostname"].value == host.name
        assert attrs["mine"] == (str(host.id), "H")


def test_hosts_are_resolved_a_piece_at_a_time(sqlite_example_cluster):
    """The host scope is read MANY hosts at a time, as the rows are taken: the
    first host's attributes come before the later pieces are read."""
    url = sqlite_example_cluster.url
    _add_hosts(url, MANY + 1)
    with reading(url) as session:
        hosts = host_facts(session, [])
        statements: list[str] = []
        event.listen(
            session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2])
        )
        resolved = each_resolved(session, hosts)
        next(resolved)
        at_first = len(statements)
        rest = list(resolved)
    pieces = -(-len(hosts) // MANY)
    assert pieces >= 2
    assert at_first == 4  # global, os, appliance, the first piece of hosts
    assert len(statements) == 3 + pieces
    assert len(rest) == len(hosts) - 1


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


def _listed(cli: Any, *words: str) -> dict[tuple[str, str], tuple[str, str]]:
    """{(host, attr): (value, source)} from `list host attr` as JSON."""
    import json

    rows = json.loads(cli.ok("list", "host", "attr", *words, "output-format=json"))
    return {(r["host"], r["attr"]): (r["value"], r["source"]) for r in rows}


def test_scopes_resolve_alike_on_every_backend(every_db_url, capsys, monkeypatch, tmp_path):
    """The most specific scope wins, on SQLite, PostgreSQL and MariaDB alike:
    `list host attr` of every host agrees with the plain definition."""
    from testkit import Cli, build_cluster

    cli = Cli(every_db_url, capsys, monkeypatch, tmp_path / "scratch")
    build_cluster(cli)
    cli.ok("set", "attr", "layered", "g")
    cli.ok("set", "os", "attr", "linux", "layered", "o")
    cli.ok("set", "appliance", "attr", "compute", "layered", "a")
    cli.ok("set", "host", "attr", "compute-0-1", "layered", "<h & h>")
    cli.ok("set", "appliance", "attr", "vm-container", "only_here", "x")
    listed = _listed(cli)
    with reading(every_db_url) as session:
        hosts = lookup.hosts(session, [])
        expected = {
            (h.name, name): pair
            for h in hosts
            for name, pair in resolved_by_hand(session, h).items()
        }
    assert listed == expected
    assert listed["compute-0-0", "layered"] == ("a", "A")
    assert listed["compute-0-1", "layered"] == ("&lt;h &amp; h&gt;", "H")
    assert listed["vm-container-0-0", "layered"] == ("o", "O")
    assert ("compute-0-0", "only_here") not in listed
    assert _listed(cli, "attr=layered") == {k: v for k, v in listed.items() if k[1] == "layered"}
