"""Helpers the tests share (no fixtures: those are in conftest.py).

`Cli` runs cairn in-process against one database; `EXAMPLE_CLUSTER` is the
cluster the help examples and most command tests run against.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import servicekit
from cairn.cli.main import main
from cairn.service.client import main as client_main

ROOT = Path(__file__).resolve().parent.parent
CAIRN = str(Path(sys.executable).parent / "cairn")
PG_ADMIN_URL = os.environ.get("CAIRN_TEST_PG_URL")
counter = itertools.count()

# The cluster the help examples and most command tests run against.
EXAMPLE_CLUSTER = [
    "add host compute-0-0 appliance=compute rack=0 rank=0 cpus=8",
    "add host compute-0-1 appliance=compute rack=0 rank=1 cpus=8",
    "add host vm-container-0-0 appliance=vm-container rack=0 rank=0 cpus=16",
    "add host vm-container-0-1 appliance=vm-container rack=0 rank=1 cpus=16",
    "add appliance login",
    "set network private subnet=10.1.0.0/16 bridge=br0",
    "add network storage subnet=10.2.0.0/16",
    "add host interface compute-0-0 eth0 mac=52:54:00:00:00:01 ip=10.1.255.254 subnet=private",
    "set attr kvm_connection value=qemu+ssh://{host}/system",
    "set os attr linux ssh_port 22",
    "set appliance attr compute kvm_autostart false",
    "set host attr compute-0-0 kvm_autostart true",
]


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def pg_url(admin: str, name: str) -> str:
    base, _, _ = admin.rpartition("/")
    return f"{base}/{name}"


def pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),  # type: ignore[union-attr]
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


MYSQL_ADMIN_URL = os.environ.get("CAIRN_TEST_MYSQL_URL")


def mysql_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    assert MYSQL_ADMIN_URL is not None
    engine = create_engine(MYSQL_ADMIN_URL.replace("mysql://", "mysql+pymysql://", 1))
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


@contextlib.contextmanager
def new_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database on `backend` (sqlite, postgresql,
    mariadb), dropped afterwards; skipped (failed in CI) where it is not set up."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'cairn.db'}"
        return
    name = f"cairn_t{os.getpid()}_{next(counter)}_{uuid.uuid4().hex[:6]}"
    if backend == "postgresql":
        if PG_ADMIN_URL is None:
            pytest.skip("PostgreSQL not configured (CAIRN_TEST_PG_URL); scripts/test.sh sets it")
        pg_admin(f'CREATE DATABASE "{name}"')
        try:
            yield pg_url(PG_ADMIN_URL, name)
        finally:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    if MYSQL_ADMIN_URL is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but CAIRN_TEST_MYSQL_URL is not set: MariaDB tests must run")
        pytest.skip("MariaDB not configured (CAIRN_TEST_MYSQL_URL); scripts/test.sh sets it")
    mysql_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        yield MYSQL_ADMIN_URL.rstrip("/") + "/" + name + "?charset=utf8mb4"
    finally:
        mysql_admin(f"DROP DATABASE IF EXISTS `{name}`")


class Cli:
    """Runs `cairn WORDS...` in this process against one database."""

    def __init__(
        self,
        url: str,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        scratch: Path | None = None,
    ):
        self.url = url
        self._capsys = capsys
        monkeypatch.setenv("CAIRN_DB_URL", url)
        monkeypatch.setenv("CAIRN_PLUGIN_PATH", "")
        # Keys and certificates that commands make go to the test's own directories
        # (unless the test has chosen its own already).
        self._made: Path | None = None
        # Through the test's cairn service, as users run cairn; True: in this
        # process, as with CAIRN_SERVICE=off (the extra, smaller path).
        self.in_process = servicekit.IN_PROCESS
        if "CAIRN_CA_DIR" not in os.environ:
            if scratch is None:
                scratch = self._made = Path(tempfile.mkdtemp(prefix="cairn-test-"))
                _made.append(scratch)
            monkeypatch.setenv("HOME", str(scratch / "home"))
            monkeypatch.setenv("CAIRN_CA_DIR", str(scratch / "ca"))

    def __call__(self, *words: str) -> Outcome:
        """`cairn WORDS` as users run it: the `cairn` client's code, through the
        test's cairn service (tests/servicekit.py); in-process with
        CAIRN_TEST_SERVICE=off."""
        run = main if self.in_process else client_main
        if not self.in_process:
            servicekit.ensure()
        self._capsys.readouterr()
        code = run(list(words))
        captured = self._capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def here(self, *words: str) -> Outcome:
        """`cairn WORDS` run in this process, as with CAIRN_SERVICE=off."""
        self._capsys.readouterr()
        code = main(list(words))
        captured = self._capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def close(self) -> None:
        """Stops the test's cairn service and removes the scratch directory
        this Cli made (the fixtures call it; `remove_scratch` catches the rest)."""
        servicekit.stop()
        if self._made is not None:
            shutil.rmtree(self._made, ignore_errors=True)

    def ok(self, *words: str) -> str:
        result = self(*words)
        assert result.code == 0, f"cairn {' '.join(words)} failed: {result.err}"
        return result.out

    def line(self, command_line: str) -> Outcome:
        words = shlex.split(command_line)
        return self(*(words[1:] if words[:1] == ["cairn"] else words))

    def process(
        self, *words: str, input: str | None = None, alone: bool = False, **env_vars: str
    ) -> Outcome:
        """Runs cairn as a real process (for start-up, shell and concurrency
        tests): a client of the test's cairn service, or with `alone`, with
        none running (`cairn watch`, which is the service)."""
        if alone:
            servicekit.stop()
        elif not self.in_process:
            servicekit.ensure()
        env = {**os.environ, "CAIRN_DB_URL": self.url, **env_vars}
        if self.in_process:
            env["CAIRN_SERVICE"] = "off"
        done = subprocess.run(
            [CAIRN, *words], capture_output=True, text=True, env=env, input=input, timeout=120
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def dump(self) -> str:
        return self.ok("dump")


_made: list[Path] = []


def remove_scratch() -> None:
    """Removes every scratch directory a Cli made (at the end of the session)."""
    while _made:
        shutil.rmtree(_made.pop(), ignore_errors=True)


def build_cluster(cli: Cli) -> None:
    for line in EXAMPLE_CLUSTER:
        result = cli.line("cairn " + line)
        assert result.code == 0, f"{line}: {result.err}"


def run_at(url: str, *words: str) -> tuple[int, str, str]:
    """Runs cairn in-process against `url` outside any fixture (for session set-up)."""
    old = os.environ.get("CAIRN_DB_URL")
    os.environ["CAIRN_DB_URL"] = url
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(words))
    finally:
        if old is None:
            del os.environ["CAIRN_DB_URL"]
        else:
            os.environ["CAIRN_DB_URL"] = old
    return code, out.getvalue(), err.getvalue()


def build_at(url: str, then: tuple[str, ...] = ()) -> None:
    """The example cluster at `url`, then the `cairn ...` lines `then`."""
    for line in [*EXAMPLE_CLUSTER, *(t.removeprefix("cairn ") for t in then)]:
        code, _, err = run_at(url, *shlex.split(line))
        assert code == 0, f"building the example cluster: {line}: {err}"


# -- reading a database in a test, and resolving attributes the long way ------


@contextlib.contextmanager
def reading(url: str) -> Iterator[Any]:
    """A session on a read-only engine of the database at `url`."""
    from sqlalchemy.orm import Session

    from cairn.db.engine import make_engine

    engine = make_engine(url, writes=False)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def resolved_by_hand(session: Any, host: Any) -> dict[str, tuple[str, str]]:
    """{name: (stored value, source)} of a mapped host, read scope after scope
    with one query per scope and owner: the plain definition of precedence
    that `cairn.attrs.resolve` must agree with."""
    from sqlalchemy import select

    from cairn.attrs.resolve import intrinsic
    from cairn.db import models
    from cairn.db.hostfacts import HostFacts

    layers = [
        ("G", models.GlobalAttr, None),
        ("O", models.OSAttr, models.OSAttr.os_id == host.os_id),
        ("A", models.ApplianceAttr, models.ApplianceAttr.appliance_id == host.appliance_id),
        ("H", models.HostAttr, models.HostAttr.host_id == host.id),
    ]
    out: dict[str, tuple[str, str]] = {}
    for tag, model, where in layers:
        query = select(model.name, model.value)
        for name, value in session.execute(query if where is None else query.where(where)):
            out[name] = (value, tag)
    out.update({n: (v, "I") for n, v in intrinsic(HostFacts.of(host)).items()})
    return dict(sorted(out.items()))


# -- small helpers shared by the command tests ---------------------------------


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    assert lines[0].startswith("error - ")
    return lines[0]


def table(cli, *words: str) -> list[dict]:
    return json.loads(cli.ok(*words, "output-format=json"))


def this_host() -> str:
    return socket.gethostname().split(".")[0].lower()


def watch_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the watcher logged (logger cairn.watch)."""
    return [r.getMessage() for r in list(caplog.records) if r.name == "cairn.watch"]


def wait_for(
    condition: Callable[[], Any],
    what: str | Callable[[], str],
    timeout: float = 10.0,
    every: float = 0.02,
) -> Any:
    """condition()'s first true value, polled every `every` s; a test failure after `timeout`.
    `what` may be a function: what it says when the time is up (a console as it is then)."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() >= deadline:
            said = what() if callable(what) else what
            pytest.fail(f"timed out after {timeout:g} s waiting for {said}")
        time.sleep(every)
    return value


def vm_summary(cli: Cli, name: str) -> dict[str, Any]:
    """One VM as `list host vm NAME showdisks=yes` gives it, its rows (one per
    further MAC and disk) folded into one: `disks` holds every disk as
    TYPE:PATH,DEVICE,BUS:SIZEG, separated by spaces."""
    rows = json.loads(cli.ok("list", "host", "vm", name, "showdisks=yes", "output-format=json"))
    assert rows and all(r["vm-host"] == name for r in rows), rows
    first = {k: v for k, v in rows[0].items() if k not in ("disk", "disksize")}
    first["disks"] = " ".join(f"{r['disk']}:{r['disksize']}G" for r in rows if r["disk"])
    return first


def statements(cli: Any, *words: str) -> tuple[int, str]:
    """(SQL statements, stdout) of `cairn WORDS` as a whole process (CAIRN_SQL_COUNT=1)."""
    import re

    env = {**os.environ, "CAIRN_DB_URL": cli.url, "CAIRN_SQL_COUNT": "1", "CAIRN_SERVICE": "off"}
    done = subprocess.run([CAIRN, *words], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = re.findall(r"^sql-statements: (\d+)$", done.stderr, re.MULTILINE)
    assert len(found) == 1, done.stderr
    return int(found[0]), done.stdout


@contextlib.contextmanager
def write_locked(path: Path) -> Iterator[None]:
    """The SQLite database at `path` with its write lock held by another connection."""
    import sqlite3

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def write_behind(url: str, statement: str, **params: Any) -> None:
    """Run one SQL statement on the database at `url` behind cairn's back (no
    checks): a row as anyone who can write the database could store it."""
    from sqlalchemy import text

    from cairn.db.engine import make_engine

    engine = make_engine(url, writes=True)
    try:
        with engine.begin() as conn:
            conn.execute(text(statement), params)
    finally:
        engine.dispose()
