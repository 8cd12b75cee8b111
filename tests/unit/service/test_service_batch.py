"""Batch mode through the cairn service, as users run it (`cairn dump | cairn`):
the same lines, values and errors as in-process, and the service lives on."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import Services, client_env, service_pid
from testkit import CAIRN, new_database, one_error_line

# Each ends a line for str.splitlines() or for a text-mode stdin, but not for sh.
ODD = ["\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _cairn(
    services: Services, url: str, sock: Path, *words: str, input: bytes | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """`cairn WORDS` as a client process, its output as bytes (text mode
    would turn \\r into \\n itself); a service it starts is stopped with the test."""
    services.sockets.append(sock)
    return subprocess.run(
        [CAIRN, *words],
        env=client_env(url, sock, **env),
        capture_output=True,
        input=input,
        timeout=120,
    )


@pytest.mark.parametrize("through", ["service", "in-process"])
def test_a_dump_replays_byte_exact(
    db_url: str, services: Services, tmp_path: Path, through: str
) -> None:
    source, copy = tmp_path / "source.sock", tmp_path / "copy.sock"
    services.start(db_url, source, "watch=no")
    assert (
        _cairn(
            services, db_url, source, "add", "host", "compute-0-0", "appliance=compute"
        ).returncode
        == 0
    )
    for i, odd in enumerate(ODD):
        value = f"a{odd}b"
        done = _cairn(
            services, db_url, source, "set", "host", "attr", "compute-0-0", f"v{i}", value
        )
        assert done.returncode == 0, done.stderr
    dump = _cairn(services, db_url, source, "dump").stdout
    for i, odd in enumerate(ODD):
        assert shlex.quote(f"a{odd}b").encode() in dump, f"v{i} is not in the dump as it was set"
    backend = db_url.split(":")[0].split("+")[0]
    (tmp_path / "copy").mkdir()
    with new_database(backend, tmp_path / "copy") as url:
        env = {"CAIRN_SERVICE": "off"} if through == "in-process" else {}
        if through == "service":
            services.start(url, copy, "watch=no")
        replay = _cairn(services, url, copy, input=b"cairn init defaults=no\n" + dump, **env)
        assert (replay.returncode, replay.stderr) == (0, b"")
        assert _cairn(services, url, copy, "dump", **env).stdout == dump
        if through == "in-process":
            assert service_pid(copy) is None


def test_a_line_whose_own_held_write_is_refused_leaves_the_service_running(
    db_url: str, services: Services, tmp_path: Path
) -> None:
    sock = tmp_path / "cairn.sock"
    proc = services.start(db_url, sock, "watch=no")
    for i in range(3):
        assert (
            _cairn(
                services, db_url, sock, "add", "host", f"a-0-{i}", "appliance=compute"
            ).returncode
            == 0
        )
    assert (
        _cairn(services, db_url, sock, "add", "host", "attr", "a-0-0", "foo", "x").returncode == 0
    )
    done = _cairn(services, db_url, sock, input=b"add host attr 'a-0-*' FOO y\n")
    assert done.returncode == 1
    error = one_error_line(done.stderr.decode())
    assert error.startswith("error - line 1: attribute FOO for host a-0-0"), error
    assert service_pid(sock) == proc.pid
    listed = _cairn(services, db_url, sock, "list", "host", "attr", "a-0-1", "output-header=no")
    assert listed.returncode == 0 and b"FOO" not in listed.stdout
