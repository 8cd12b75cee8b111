"""Many real cairn processes at once on one database: nothing fails, nothing is lost."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import build_at

CAIRN = str(Path(sys.executable).parent / "cairn")
N = 16


def start_all(url: str, argvs: list[list[str]]) -> list[tuple[int, str, str]]:
    """Starts every process before waiting for any, then collects them all."""
    env = {**os.environ, "CAIRN_DB_URL": url, "CAIRN_PLUGIN_PATH": ""}
    procs = [
        subprocess.Popen(
            [CAIRN, *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for argv in argvs
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out, err))
    return results


def assert_all_ok(results: list[tuple[int, str, str]]) -> None:
    failed = [(i, code, err) for i, (code, _, err) in enumerate(results) if code != 0 or err]
    assert not failed, f"{len(failed)} of {len(results)} failed: {failed[:3]}"


def test_sixteen_writers_on_one_host(cli):
    cli.ok("add", "host", "compute-0-0", "appliance=compute")
    before = json.loads(cli.ok("list", "host", "attr", "compute-0-0", "output-format=json"))

    # Round 1: a different attribute each.
    assert_all_ok(
        start_all(
            cli.url, [["set", "host", "attr", "compute-0-0", f"a{i}", f"v{i}"] for i in range(N)]
        )
    )
    rows = json.loads(cli.ok("list", "host", "attr", "compute-0-0", "output-format=json"))
    got = {r["attr"]: (r["value"], r["source"]) for r in rows}
    for i in range(N):
        assert got[f"a{i}"] == (f"v{i}", "H")
    assert len(rows) == len(before) + N

    # Round 2: the same attribute, sixteen values; one of them wins, whole.
    assert_all_ok(
        start_all(
            cli.url, [["set", "host", "attr", "compute-0-0", "same", f"w{i}"] for i in range(N)]
        )
    )
    rows = json.loads(
        cli.ok("list", "host", "attr", "compute-0-0", "attr=same", "output-format=json")
    )
    assert len(rows) == 1
    assert rows[0]["value"] in {f"w{i}" for i in range(N)}
    assert rows[0]["source"] == "H"


def test_sixteen_processes_create_a_new_sqlite_database_once(tmp_path):
    path = tmp_path / "new" / "cairn.db"
    assert not path.exists()
    results = start_all(f"sqlite:///{path}", [["set", "attr", f"a{i}", f"v{i}"] for i in range(N)])
    assert_all_ok(results)
    with sqlite3.connect(path) as conn:
        assert len(conn.execute("SELECT version_num FROM alembic_version").fetchall()) == 1
        # Seeded exactly once: the default appliances and global attribute are there once.
        apps = [r[0] for r in conn.execute("SELECT name FROM appliances ORDER BY name")]
        assert apps == ["compute", "frontend", "hosted-vm", "vm-container"]
        attrs = dict(conn.execute("SELECT name, value FROM global_attrs").fetchall())
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert attrs == {"cpu_mode": "host-passthrough", **{f"a{i}": f"v{i}" for i in range(N)}}


@pytest.fixture
def any_db(every_db_url: str) -> str:
    build_at(every_db_url)
    return every_db_url


def test_sixteen_add_host_vm_on_one_container(any_db: str) -> None:
    """On PostgreSQL about 12 of 16 failed on a unique constraint (name, slice, MAC)."""
    results = start_all(any_db, [["add", "host", "vm", "vm-container-0-0"] for _ in range(N)])
    assert_all_ok(results)
    _, out, _ = start_all(any_db, [["list", "host", "vm", "output-format=json"]])[0]
    vms = [r for r in json.loads(out) if r["container"] == "vm-container-0-0"]
    assert sorted(r["slice"] for r in vms) == list(range(N))
    assert len({r["vm-host"] for r in vms}) == len({r["mac"] for r in vms}) == N
