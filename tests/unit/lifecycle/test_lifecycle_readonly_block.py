"""cairn.db.readonly.read_only: the database itself refuses writes in the block.

Runs on SQLite (query_only) and PostgreSQL (read-only transaction) through
the `cli` fixture's fresh database, with a real session like a command's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cairn.db.models import Host
from cairn.db.readonly import ReadOnlyViolation, is_read_only_error, read_only
from cairn.db.session import finish, open_session


@pytest.fixture
def session(cli) -> Iterator[Session]:
    cli.ok("add", "host", "node-a", "appliance=compute", "rack=1")
    cli.ok("add", "host", "node-b", "appliance=compute", "rack=2")
    s = open_session(cli.url, writes=True)
    yield s
    if s.is_active:
        s.rollback()
    s.close()
    s.get_bind().dispose()


def racks(url: str) -> dict[str, int]:
    """What is stored, read through a session of its own."""
    s = open_session(url, writes=False)
    try:
        return {h.name: h.rack for h in s.execute(select(Host)).scalars() if h.name != "vm"}
    finally:
        finish(s, ok=True)


def host(session: Session, name: str) -> Host:
    return session.execute(select(Host).where(Host.name == name)).scalar_one()


def test_an_orm_flush_is_refused(cli, session):
    with pytest.raises(ReadOnlyViolation), read_only(session):
        host(session, "node-a").rack = 7
        session.flush()


def test_raw_sql_is_refused_by_the_database(cli, session):
    with read_only(session), pytest.raises(DBAPIError) as caught:
        session.execute(text("UPDATE hosts SET rack = 9"))
    assert is_read_only_error(caught.value)


def test_raw_sql_escaping_the_block_becomes_a_violation(cli, session):
    with pytest.raises(ReadOnlyViolation, match="read-only"), read_only(session):
        session.execute(text("DELETE FROM hosts WHERE name = 'node-b'"))


def test_inserts_are_refused(cli, session):
    with read_only(session), pytest.raises(DBAPIError) as caught:
        session.execute(text("INSERT INTO global_attrs (name, value) VALUES ('x', 'y')"))
    assert is_read_only_error(caught.value)


def test_reads_work_inside(cli, session):
    with read_only(session):
        assert host(session, "node-b").rack == 2
        assert session.execute(text("SELECT count(*) FROM hosts")).scalar_one() == 3


def test_data_written_before_is_kept_and_writes_after_work(cli, session):
    host(session, "node-a").rack = 5  # pending: read_only flushes it first
    session.execute(text("UPDATE hosts SET rack = 6 WHERE name = 'node-b'"))

    with pytest.raises(ReadOnlyViolation), read_only(session):
        assert host(session, "node-a").rack == 5
        session.execute(text("UPDATE hosts SET rack = 99"))

    with pytest.raises(ReadOnlyViolation), read_only(session):
        host(session, "node-b").rack = 98
        session.flush()

    # After the blocks the same transaction writes again.
    session.execute(text("INSERT INTO global_attrs (name, value) VALUES ('after', 'yes')"))
    host(session, "node-b").rack = 8
    finish(session, ok=True)

    assert racks(cli.url) == {"node-a": 5, "node-b": 8}
    assert "after" in cli.ok("list", "attr")


def test_unflushed_changes_made_inside_are_dropped(cli, session):
    with read_only(session):
        host(session, "node-a").rack = 42
    session.flush()
    finish(session, ok=True)
    assert racks(cli.url)["node-a"] == 1


def test_a_swallowed_refusal_leaves_the_session_usable(cli, session):
    with read_only(session), pytest.raises(DBAPIError):
        session.execute(text("UPDATE hosts SET rack = 99"))
    host(session, "node-b").rack = 3
    finish(session, ok=True)
    assert racks(cli.url) == {"node-a": 1, "node-b": 3}


def test_blocks_can_follow_each_other(cli, session):
    expected = 1
    for rack in (10, 11, 12):
        with read_only(session):
            assert host(session, "node-a").rack == expected
        session.execute(text("UPDATE hosts SET rack = :r WHERE name = 'node-a'"), {"r": rack})
        session.expire_all()
        expected = rack
    finish(session, ok=True)
    assert racks(cli.url)["node-a"] == 12


def test_other_errors_pass_through_unchanged(cli, session):
    with pytest.raises(DBAPIError) as caught, read_only(session):
        session.execute(text("SELECT * FROM no_such_table"))
    assert not is_read_only_error(caught.value)
    host(session, "node-a").rack = 4
    finish(session, ok=True)
    assert racks(cli.url)["node-a"] == 4
