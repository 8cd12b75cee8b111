"""Batch mode's held writes: a chunk's attributes go to the database together
(cairn.db.held), and a write refused when sent is still the error of its own
line, with the lines before it kept and none after it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from cairn.cli import batch
from cairn.cli.batch import run_lines
from testkit import Cli, one_error_line

HOSTS = [f"add host compute-0-{i} appliance=compute" for i in range(3)]


def _backend(cli: Cli) -> str:
    return cli.url.split(":")[0].split("+")[0]


@contextmanager
def _recorded() -> Iterator[list[tuple[str, bool]]]:
    """(statement, executemany) of each statement run meanwhile, in any engine."""
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, ctx: Any, many: bool) -> None:
        seen.append((" ".join(statement.split()), many))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def _batch(lines: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_lines(lines, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "CHUNK_SECONDS", 3600.0)  # however slow the run


def test_a_chunks_attributes_go_in_one_executemany(every_cli: Cli) -> None:
    every_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    # As in a dump: the hosts, then their attributes, then what follows them.
    lines = [*HOSTS[1:], *(f"set host attr compute-0-{i % 3} a{i} {i}" for i in range(6))]
    lines += ["add host compute-0-9 appliance=compute"]
    lines += [f"set host attr compute-0-9 a{i} {i}" for i in (9, 10)]
    with _recorded() as seen:
        code, _out, err = _batch(lines)
    assert code == 0, err
    inserts = [many for statement, many in seen if statement.startswith("INSERT INTO host_attrs")]
    if _backend(every_cli) == "mysql":  # no held writes: names compare without case there
        assert inserts == [False] * 8
    else:  # a line of another kind sends what the lines before it held
        assert inserts == [True, True]
    for i in range(6):
        listed = every_cli.ok("list", "host", "attr", f"compute-0-{i % 3}", "output-header=no")
        assert f"a{i}" in listed
    assert "a9" in every_cli.ok("list", "host", "attr", "compute-0-9", "output-header=no")


def test_a_write_refused_when_sent_is_the_error_of_its_own_line(every_cli: Cli) -> None:
    every_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    every_cli.ok("set", "host", "attr", "compute-0-0", "Colour", "red")
    lines = [
        *HOSTS[1:],
        "set host attr compute-0-1 first yes",
        "set host attr compute-0-0 colour blue",  # line 4: differs from Colour only in case
        "set host attr compute-0-2 after yes",
        "add host compute-0-9 appliance=compute",
    ]
    code, _out, err = _batch(lines)
    assert code == 1
    line = one_error_line(err)
    assert line.startswith("error - line 4: attribute colour for host compute-0-0"), line
    assert "differs only in case" in line
    hosts = every_cli.ok("list", "host")
    assert "compute-0-1" in hosts and "compute-0-2" in hosts and "compute-0-9" not in hosts
    assert "first" in every_cli.ok("list", "host", "attr", "compute-0-1")
    assert "after" not in every_cli.ok("list", "host", "attr", "compute-0-2")
    kept = every_cli.ok("list", "host", "attr", "compute-0-0", "output-header=no")
    assert "Colour" in kept and "red" in kept and "blue" not in kept


def test_two_held_writes_that_differ_only_in_case(every_cli: Cli) -> None:
    lines = [
        HOSTS[0],
        "set host attr compute-0-0 Size big",
        "set host attr compute-0-0 size small",
        "set host attr compute-0-0 other x",
    ]
    code, _out, err = _batch(lines)
    assert code == 1
    assert one_error_line(err).startswith("error - line 3: attribute size"), err
    kept = every_cli.ok("list", "host", "attr", "compute-0-0", "output-header=no")
    assert "Size" in kept and "small" not in kept and "other" not in kept


def test_a_refusal_found_by_a_later_command_stops_before_it(every_cli: Cli) -> None:
    """A command that runs alone (a listing) sends what the lines before it
    held: the refused line's error comes first, and the listing never runs."""
    every_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    every_cli.ok("set", "host", "attr", "compute-0-0", "Colour", "red")
    lines = [
        "set host attr compute-0-0 colour blue",
        "list host attr compute-0-0 output-header=no",
    ]
    code, out, err = _batch(lines)
    assert code == 1 and out == ""
    assert one_error_line(err).startswith("error - line 1: attribute colour"), err


def test_a_held_write_is_sent_before_a_line_reads_it(every_cli: Cli) -> None:
    lines = [
        HOSTS[0],
        "set host attr compute-0-0 colour blue",
        "remove host attr compute-0-0 colour",  # reads the row it removes
        "set host attr compute-0-0 colour green",
        "set host attr compute-0-0 size big",
        "add host attr compute-0-0 size huge",  # refused: the held size is there
    ]
    code, _out, err = _batch(lines)
    assert code == 1
    line = one_error_line(err)
    assert line.startswith("error - line 6: attribute size exists already"), line
    kept = every_cli.ok("list", "host", "attr", "compute-0-0", "output-header=no")
    assert "green" in kept and "big" in kept and "huge" not in kept


def test_hosts_of_a_long_replay_are_looked_up_together(sqlite_cli: Cli) -> None:
    """A dump sets attributes host after host: after a few lookups by name,
    the session reads every host's id once instead of one query a host."""
    hosts = [f"add host compute-0-{i} appliance=compute" for i in range(30)]
    assert _batch(hosts)[0] == 0
    lines = [f"set host attr compute-0-{i} a{j} {j}" for i in range(30) for j in range(2)]
    with _recorded() as seen:
        code, _out, err = _batch(lines)
    assert code == 0, err
    lookups = [s for s, _ in seen if s.startswith("SELECT") and "FROM hosts" in s]
    assert 1 < len(lookups) <= 10, lookups
    listed = sqlite_cli.ok("list", "host", "attr", "compute-0-29", "output-header=no")
    assert "a0" in listed and "a1" in listed


@pytest.mark.parametrize(
    "then",
    [
        "set host rack compute-0-0 notanumber",  # refused as it is read
        "frobnicate host",  # no such command
        "help",  # prints, but not after a failure
        "set host attr compute-0-0 x 'unclosed",
    ],
)
def test_a_refusal_comes_before_a_later_lines_own_error(sqlite_cli: Cli, then: str) -> None:
    sqlite_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    sqlite_cli.ok("set", "host", "attr", "compute-0-0", "Colour", "red")
    lines = [
        "set host attr compute-0-0 first yes",
        "set host attr compute-0-0 colour blue",
        then,
        "set host attr compute-0-0 last yes",
    ]
    code, out, err = _batch(lines)
    assert code == 1 and out == ""
    assert one_error_line(err).startswith("error - line 2: attribute colour"), err
    kept = sqlite_cli.ok("list", "host", "attr", "compute-0-0", "output-header=no")
    assert "first" in kept and "last" not in kept


def test_an_interrupt_while_held_writes_are_sent_keeps_the_lines_that_ran(
    sqlite_cli: Cli,
) -> None:
    sqlite_cli.ok("add", "host", "compute-0-0", "appliance=compute")

    def interrupt(conn: Any, cursor: Any, statement: str, p: Any, c: Any, many: bool) -> None:
        if many and "host_attrs" in statement:  # Ctrl-C while the held writes go
            raise KeyboardInterrupt

    lines = [
        "add host compute-0-1 appliance=compute",
        "set host attr compute-0-0 a 1",
        "set host attr compute-0-1 b 2",
    ]
    event.listen(Engine, "before_cursor_execute", interrupt)
    try:
        code, _out, err = _batch(lines)
    finally:
        event.remove(Engine, "before_cursor_execute", interrupt)
    assert code == 130 and one_error_line(err) == "error - interrupted", err
    assert "compute-0-1" in sqlite_cli.ok("list", "host")
    assert "b" in sqlite_cli.ok("list", "host", "attr", "compute-0-1", "attr=b", "output-header=no")


@pytest.mark.parametrize("first", [True, False], ids=["first-line", "after-lines"])
def test_a_line_whose_own_held_write_is_refused_gets_its_error(every_cli: Cli, first: bool) -> None:
    """The glob's first host has a case twin: the line's own held write is
    refused when its later writes send it. The line runs again holding
    nothing back, and fails with its own error (it used to run again held,
    without end, until a RecursionError stopped the service)."""
    for i in range(3):
        every_cli.ok("add", "host", f"a-0-{i}", "appliance=compute")
    every_cli.ok("add", "host", "attr", "a-0-0", "foo", "x")
    before = [] if first else ["set host attr a-0-1 kept yes"]
    code, out, err = _batch([*before, "add host attr 'a-0-*' FOO y", "set host attr a-0-2 z 1"])
    line = len(before) + 1
    assert (code, out) == (1, "")
    error = one_error_line(err)
    assert error.startswith(f"error - line {line}: attribute FOO for host a-0-0"), error
    assert "differs only in case" in error
    assert "FOO" not in every_cli.ok("list", "host", "attr", "a-0-1", "output-header=no")
    assert "z" not in every_cli.ok("list", "host", "attr", "a-0-2", "attr=z", "output-header=no")
    assert ("kept" in every_cli.ok("list", "host", "attr", "a-0-1")) is not first
