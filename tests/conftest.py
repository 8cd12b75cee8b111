"""Shared fixtures: a fresh database per test on every backend, and a `cli`
that runs cairn commands in-process (or as real processes) against it.

Backends: SQLite always; PostgreSQL when CAIRN_TEST_PG_URL names a role that
may create databases (scripts/test.sh starts the server and sets it). In CI
(CI=true) a missing PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cairn.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
CAIRN = str(Path(sys.executable).parent / "cairn")
PG_ADMIN_URL = os.environ.get("CAIRN_TEST_PG_URL")
_counter = itertools.count()

# The cluster the help examples and most command tests run against.
EXAMPLE_CLUSTER = [
    "add host compute-0-0 appliance=compute rack=0 rank=0 cpus=8",
    "add host compute-0-1 appliance=compute rack=0 rank=1 cpus=8",
    "add host vm-container-0-0 appliance=vm-container rack=0 rank=0 cpus=16",
    "add host vm-container-0-1 appliance=vm-container rack=0 rank=1 cpus=16",
    "add appliance login",
    "add network private subnet=10.1.0.0/16 bridge=br0",
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


def _pg_url(admin: str, name: str) -> str:
    base, _, _ = admin.rpartition("/")
    return f"{base}/{name}"


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),  # type: ignore[union-attr]
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_ADMIN_URL is None and os.environ.get("CI") == "true":
        raise pytest.UsageError(
            "CI=true but CAIRN_TEST_PG_URL is not set: PostgreSQL tests must run"
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database URL on each backend (created by cairn on first use)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cairn.db'}"
        return
    if PG_ADMIN_URL is None:
        pytest.skip("PostgreSQL not configured (CAIRN_TEST_PG_URL); scripts/test.sh sets it")
    name = f"cairn_t{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(PG_ADMIN_URL, name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cairn.db'}"


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
        if "CAIRN_CA_DIR" not in os.environ:
            scratch = scratch or Path(tempfile.mkdtemp(prefix="cairn-test-"))
            monkeypatch.setenv("HOME", str(scratch / "home"))
            monkeypatch.setenv("CAIRN_CA_DIR", str(scratch / "ca"))

    def __call__(self, *words: str) -> Outcome:
        self._capsys.readouterr()
        code = main(list(words))
        captured = self._capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    def ok(self, *words: str) -> str:
        result = self(*words)
        assert result.code == 0, f"cairn {' '.join(words)} failed: {result.err}"
        return result.out

    def line(self, command_line: str) -> Outcome:
        import shlex

        words = shlex.split(command_line)
        return self(*(words[1:] if words[:1] == ["cairn"] else words))

    def process(self, *words: str, input: str | None = None) -> Outcome:
        """Runs cairn as a real process (for start-up, shell and concurrency tests)."""
        env = {**os.environ, "CAIRN_DB_URL": self.url}
        done = subprocess.run(
            [CAIRN, *words], capture_output=True, text=True, env=env, input=input, timeout=120
        )
        return Outcome(done.returncode, done.stdout, done.stderr)

    def dump(self) -> str:
        return self.ok("dump")


@pytest.fixture
def cli(
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Cli:
    return Cli(db_url, capsys, monkeypatch, tmp_path / "scratch")


@pytest.fixture
def sqlite_cli(
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Cli:
    return Cli(sqlite_url, capsys, monkeypatch, tmp_path / "scratch")


def build_cluster(cli: Cli) -> None:
    for line in EXAMPLE_CLUSTER:
        result = cli.line("cairn " + line)
        assert result.code == 0, f"{line}: {result.err}"


@pytest.fixture
def cluster(cli: Cli) -> Cli:
    build_cluster(cli)
    return cli
