"""A SQLite database locked past the busy time-out, through a real cairn
service: one line that says it is locked, and nothing written (the service
does not take the locked database for a new one and seed it)."""

from __future__ import annotations

from testkit import one_error_line, write_locked


def test_a_locked_database_is_one_line_and_left_alone(services, sqlite_cli, tmp_path):
    c = sqlite_cli
    c.ok("set", "attr", "cpu_mode", "host-model")
    before = c.dump()
    url, sock = f"{c.url}?timeout=0.2", tmp_path / "cairn.sock"  # a busy time-out of 0.2 s
    services.start(url, sock, "watch=no")
    with write_locked(tmp_path / "cairn.db"):
        done = services.run(url, sock, "set", "attr", "x", "y")
    assert done.code == 1, done.out
    assert "is locked" in one_error_line(done.err)
    assert c.dump() == before
    assert services.run(url, sock, "set", "attr", "x", "y").code == 0  # the lock is gone
