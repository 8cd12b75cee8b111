"""The example cluster, built once per session and backend, and a fresh copy of
it per test (`example_cluster`, `sqlite_example_cluster`): on SQLite the built
file is copied; on PostgreSQL (where CREATE DATABASE costs ~0.3 s) one
database is built per session and every table's rows and id sequence are put
back as they were before each test. conftest.py makes these fixtures visible.

A test module whose every test first runs the same commands on the example
cluster names them in `CLUSTER_SETUP` (`cairn ...` lines): they are then run
once, into a template of their own, instead of in each test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit import PG_ADMIN_URL, Cli, build_at, pg_admin, pg_url


class PgSnapshot:
    """A PostgreSQL database holding the example cluster, and its rows to restore."""

    def __init__(self, setup: tuple[str, ...] = ()) -> None:
        from sqlalchemy import MetaData, create_engine

        self.name = f"cairn_tmpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        pg_admin(f'CREATE DATABASE "{self.name}"')
        self.url = pg_url(PG_ADMIN_URL, self.name)
        build_at(self.url, setup)
        self.engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        self.meta = MetaData()
        self.meta.reflect(self.engine)
        self.tables = [t for t in self.meta.sorted_tables if t.name != "alembic_version"]
        with self.engine.connect() as conn:
            self.rows = {
                t.name: [dict(r._mapping) for r in conn.execute(t.select())] for t in self.tables
            }

    def restore(self) -> None:
        from sqlalchemy import func, select, text

        with self.engine.begin() as conn:
            for table in reversed(self.tables):
                conn.execute(table.delete())
            for table in self.tables:
                if self.rows[table.name]:
                    conn.execute(table.insert(), self.rows[table.name])
            for table in self.tables:
                if "id" not in table.c:
                    continue
                top = conn.execute(select(func.max(table.c.id))).scalar()
                conn.execute(
                    text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, :called)"),
                    {"t": table.name, "v": top or 1, "called": top is not None},
                )

    def drop(self) -> None:
        self.engine.dispose()
        pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def cluster_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """(backend, CLUSTER_SETUP) -> the built example cluster (a SQLite file / a
    PgSnapshot), built on first use."""

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, key: tuple[str, tuple[str, ...]]) -> Any:
            backend, setup = key
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("template") / "cairn.db"
                build_at(f"sqlite:///{path}", setup)
                self[key] = str(path)
            else:
                self[key] = PgSnapshot(setup)
            return self[key]

    templates = Lazy()
    yield templates
    for (backend, _), made in templates.items():
        if backend == "postgresql":
            made.drop()


def _copy(
    backend: str, templates: dict[Any, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    key = (backend, tuple(getattr(request.module, "CLUSTER_SETUP", ())))
    if backend == "sqlite":
        source = Path(templates[key])
        target = tmp_path / "cairn.db"
        for suffix in ("", "-wal"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
        yield f"sqlite:///{target}"
        return
    if PG_ADMIN_URL is None:
        pytest.skip("PostgreSQL not configured (CAIRN_TEST_PG_URL); scripts/test.sh sets it")
    snapshot = templates[key]
    snapshot.restore()
    yield snapshot.url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def example_cluster(
    request: pytest.FixtureRequest,
    cluster_templates: dict[Any, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    """A `cli` (see tests/conftest.py) on a fresh copy of the example cluster."""
    for url in _copy(request.param, cluster_templates, tmp_path, request):
        cli = Cli(url, capsys, monkeypatch)
        yield cli
        cli.close()


@pytest.fixture
def sqlite_example_cluster(
    request: pytest.FixtureRequest,
    cluster_templates: dict[Any, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Any]:
    for url in _copy("sqlite", cluster_templates, tmp_path, request):
        cli = Cli(url, capsys, monkeypatch)
        yield cli
        cli.close()
