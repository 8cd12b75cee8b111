"""Shared fixtures: a fresh database per test on every backend, and a `cli`
that runs cairn commands in-process (or as real processes) against it.

Backends: SQLite always; PostgreSQL when CAIRN_TEST_PG_URL names a role that
may create databases (scripts/test.sh starts the server and sets it). In CI
(CI=true) a missing PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import servicekit
from cluster_kit import cluster_templates, example_cluster, sqlite_example_cluster
from testkit import PG_ADMIN_URL, Cli, build_cluster, new_database, remove_scratch

__all__ = ["cluster_templates", "example_cluster", "sqlite_example_cluster"]

# Commands go through a cairn service, as users' do (tests/servicekit.py); its
# sockets, and those of services that `cairn` processes start, live in a
# directory of this session's. CAIRN_TEST_SERVICE=off runs them in-process.
RUNTIME_DIR = servicekit.session_runtime_dir()
if servicekit.IN_PROCESS:
    os.environ["CAIRN_SERVICE"] = "off"


@pytest.fixture(autouse=True)
def _no_service_left() -> Iterator[None]:
    """No cairn service outlives its test: the in-thread one stops, and so
    does any that a `cairn` process of the test started."""
    yield
    servicekit.stop()
    servicekit.stop_strays(RUNTIME_DIR)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    servicekit.stop()
    servicekit.stop_strays(RUNTIME_DIR)
    servicekit.remove(RUNTIME_DIR)
    remove_scratch()


# VMs may reach anything in most tests; see the file.
os.environ.setdefault("CAIRN_CONFIG", str(Path(__file__).resolve().parent / "cairn-test.toml"))


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: absent without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope` by module, the system tests in one scope (tests/workers.py)."""
    if config.getvalue("dist") != "loadscope":
        return None
    import workers

    return workers.OneMachine(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_ADMIN_URL is None and os.environ.get("CI") == "true":
        raise pytest.UsageError(
            "CI=true but CAIRN_TEST_PG_URL is not set: PostgreSQL tests must run"
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database URL on each backend (created by cairn on first use)."""
    with new_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def every_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """`db_url` with MariaDB too: a new, empty database on each of the three."""
    with new_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cairn.db'}"


@pytest.fixture
def cli(
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Cli]:
    cli = Cli(db_url, capsys, monkeypatch, tmp_path / "scratch")
    yield cli
    cli.close()


@pytest.fixture
def every_cli(
    every_db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Cli]:
    """`cli` on MariaDB too."""
    cli = Cli(every_db_url, capsys, monkeypatch, tmp_path / "scratch")
    yield cli
    cli.close()


@pytest.fixture
def sqlite_cli(
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Cli]:
    cli = Cli(sqlite_url, capsys, monkeypatch, tmp_path / "scratch")
    yield cli
    cli.close()


@pytest.fixture
def cluster(cli: Cli) -> Cli:
    build_cluster(cli)
    return cli


@pytest.fixture
def hv() -> Iterator[Any]:
    """A fresh in-memory libvirt host (test:///default, only its stock domain "test"),
    held open for the whole test. All connections to test:///default in one process
    share one host, dropped when the last one closes: holding one keeps what cairn
    did visible, and the next test gets a fresh host."""
    import gc

    import libvirt

    import cairn.hypervisor.errors  # noqa: F401  (silences libvirt's stderr handler)

    gc.collect()
    conn = libvirt.open("test:///default")
    domains = sorted(d.name() for d in conn.listAllDomains(0))
    if domains != ["test"]:
        conn.close()
        pytest.fail(f"test:///default is not fresh (leaked from another test): {domains}")
    yield conn
    gc.collect()  # domain objects in tracebacks keep the host alive otherwise
    conn.close()
    gc.collect()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty config file of this test's own (tests may write to it): the
    defaults an installed cairn has, not the suite's tests/cairn-test.toml."""
    path = tmp_path / "cairn.toml"
    path.write_text("")
    monkeypatch.setenv("CAIRN_CONFIG", str(path))
    return path
