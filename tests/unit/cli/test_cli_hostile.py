"""Cairn used as a hostile user would: whatever the words, the environment or
the config file, a one-line `error - ...`, never a traceback, and never the
wrong database silently."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.cli import tree
from testkit import CAIRN, Cli, build_cluster

# Commands that reach libvirt or this machine are left out of the fuzzing.
_ACTS = frozenset({"container", "move", "pause", "resume", "save", "restore", "start", "stop"})
_ACTS |= {"watch", "profile"}
COMMANDS = [c for c in tree.all_commands() if not _ACTS & set(c)]


def _one_error(code: int, err: str) -> None:
    assert code != 0
    assert err.startswith("error - ") and err.count("\n") == 1, err


def test_a_word_too_long_for_a_file_name(sqlite_cli: Cli) -> None:
    for words in (["x" * 300], ["list", "y" * 300], ["list", "host", "z" * 300]):
        result = sqlite_cli(*words)
        _one_error(result.code, result.err)


def test_arguments_that_are_not_utf8(sqlite_cli: Cli) -> None:
    bad = b"\xff\xfe".decode("utf-8", "surrogateescape")
    for words in (["list", "host", bad], ["set", "attr", "note", bad], [bad]):
        result = sqlite_cli(*words)
        _one_error(result.code, result.err)
        assert "not UTF-8" in result.err


def test_a_word_with_nul_and_bytes_that_are_not_utf8(sqlite_cli: Cli) -> None:
    # A NUL keeps the command in the client; the error line names the word, and
    # its undecodable byte must be written escaped, not fail to print.
    result = sqlite_cli("add", "appliance", "\x00\udc80")
    _one_error(result.code, result.err)
    result.err.encode("utf-8")  # printable on any UTF-8 terminal


def test_as_a_process_too(tmp_path: Path) -> None:
    env = {**os.environ, "CAIRN_DB_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    done = subprocess.run([CAIRN, "list", "host", b"\xff"], capture_output=True, env=env)
    _one_error(done.returncode, done.stderr.decode())


@pytest.mark.parametrize(
    "url", ["oracle://u:pw@h/db", "mssql+pyodbc://u:pw@h/db", "nosuch://h/db", "firebird://h"]
)
def test_an_unsupported_database_scheme(sqlite_cli: Cli, monkeypatch, url: str) -> None:
    monkeypatch.setenv("CAIRN_DB_URL", url)
    for words in (["list", "host"], ["set", "attr", "a", "b"]):
        result = sqlite_cli(*words)
        _one_error(result.code, result.err)
        assert "pw" not in result.err


def test_a_config_file_that_is_not_utf8(sqlite_cli: Cli, monkeypatch, tmp_path: Path) -> None:
    config = tmp_path / "cairn.toml"
    config.write_bytes(b'db_url = "sqlite:////tmp/\xff.db"\n')
    monkeypatch.delenv("CAIRN_DB_URL")
    monkeypatch.setenv("CAIRN_CONFIG", str(config))
    result = sqlite_cli("list", "host")
    _one_error(result.code, result.err)
    assert "not UTF-8" in result.err


@pytest.mark.parametrize("what", ["missing", "directory"])
def test_cairn_config_naming_no_file(sqlite_cli: Cli, monkeypatch, tmp_path: Path, what) -> None:
    """Was ignored: the default database was used instead, silently."""
    monkeypatch.delenv("CAIRN_DB_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("CAIRN_CONFIG", str(tmp_path if what == "directory" else tmp_path / "no"))
    result = sqlite_cli("list", "host")
    _one_error(result.code, result.err)
    assert f"which is {'a directory' if what == 'directory' else 'missing'}" in result.err
    assert not (tmp_path / "data").exists()


def test_a_read_creates_no_database_where_its_directory_is_missing(
    sqlite_cli: Cli, monkeypatch, tmp_path: Path
) -> None:
    where = tmp_path / "typo" / "deeper" / "cairn.db"
    monkeypatch.setenv("CAIRN_DB_URL", f"sqlite:///{where}")
    reads = (["list", "host"], ["list", "host", "vm"], ["dump"], ["report", "host", "attr", "h"])
    for words in reads:
        result = sqlite_cli(*words)
        _one_error(result.code, result.err)
        assert "no database at" in result.err
    assert not (tmp_path / "typo").exists()
    sqlite_cli.ok("add", "os", "other")  # a command that writes creates it, as before
    assert where.is_file()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://cairn:p@ss@127.0.0.1:1/cairn",
        "postgresql://cairn:@@ss@127.0.0.1:1/cairn",
        "mysql://cairn:a@b@c@127.0.0.1:1/cairn",
    ],
)
def test_a_password_holding_at_is_never_shown(sqlite_cli: Cli, monkeypatch, url: str) -> None:
    monkeypatch.setenv("CAIRN_DB_URL", url)
    for words in (["list", "host"], ["add", "os", "x"], ["init"]):
        result = sqlite_cli(*words)
        _one_error(result.code, result.err)
        assert "ss@" not in result.err and "b@" not in result.err and "%40" in result.err


_WORDS = st.one_of(
    st.sampled_from(["host", "vm", "attr", "appliance", "os", "compute-0-0", "vm-container-0-0"]),
    st.sampled_from(["kvm", "cpu_mode", "kvm_device_0", "CPU_MODE", "mem=0", "cpus=-1"]),
    st.sampled_from(["a" * 300, "../../etc", "x=", "=y", "%s", "'", '"', "<a>", "&", "*"]),
    st.text(max_size=12),
    st.binary(max_size=6).map(lambda b: b.decode("utf-8", "surrogateescape")),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), rest=st.lists(_WORDS, max_size=5))
def test_random_command_lines_never_give_a_traceback(
    fuzz_cli: Cli, command: tuple[str, ...], rest: list[str]
) -> None:
    result = fuzz_cli(*command, *rest)  # an exception here fails the test
    assert isinstance(result.code, int)
    for line in result.err.splitlines():
        assert line.startswith(("error - ", "warning - ")), line
    if result.code:
        assert result.err.startswith("error - ")


@pytest.fixture
def fuzz_cli(sqlite_cli: Cli) -> Cli:
    build_cluster(sqlite_cli)
    sqlite_cli.ok("set", "attr", "kvm_connection", "test:///default")  # no real libvirtd
    return sqlite_cli


def test_a_nul_byte_is_refused_at_input_on_every_backend(cli: Cli) -> None:
    """PostgreSQL refuses NUL, SQLite would keep it and `dump | sh` would drop it:
    a word holding one is refused before any backend sees it."""
    cli.ok("add", "host", "n1", "appliance=compute")
    before = cli.dump()
    done = cli.process(input="set host attr n1 foo 'a\0b'\n")
    assert done.code != 0 and "line 1: the argument 'a\\0b' holds a NUL byte" in done.err
    direct = cli("set", "host", "attr", "n1", "foo", "a\0b")
    _one_error(direct.code, direct.err)
    assert "NUL" in direct.err
    assert cli.dump() == before
