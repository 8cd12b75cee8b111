"""Batch mode: `cairn` with commands on stdin, as `sh` would read them."""

from __future__ import annotations

import io
from typing import Any

import pytest

from cairn.cli import batch
from cairn.cli.batch import Shared, commands, run_lines
from cairn.cli.main import execute
from cairn.cli.spec import Command
from cairn.errors import Conflict
from testkit import Cli, build_cluster, one_error_line


def test_commands_split_like_sh_with_quotes_across_lines() -> None:
    text = "cairn add host a\n\n# a comment\nset host attr a x 'two\nlines' # trailing\nlist host\n"
    assert list(commands(io.StringIO(text))) == [
        (1, ["add", "host", "a"]),
        (4, ["set", "host", "attr", "a", "x", "two\nlines"]),
        (6, ["list", "host"]),
    ]
    assert list(commands(["list host 'open"])) == [(1, None)]


def test_a_dump_replayed_in_batch_mode_gives_the_same_dump(cli: Cli, tmp_path) -> None:
    build_cluster(cli)
    cli.ok("set", "host", "attr", "compute-0-0", "nasty", "a\nb $HOME 'q\" `id`")
    dump = cli.dump()
    # An empty database without the defaults, as the dump holds them.
    replay = cli.process(
        input="cairn init defaults=no\n" + dump,
        CAIRN_DB_URL=f"sqlite:///{tmp_path / 'copy.db'}",
    )
    assert (replay.code, replay.err) == (0, ""), replay.err
    again = cli.process("dump", CAIRN_DB_URL=f"sqlite:///{tmp_path / 'copy.db'}")
    assert again.out == dump


def test_an_error_names_its_line_and_keeps_the_lines_before(sqlite_cli: Cli) -> None:
    out, err = io.StringIO(), io.StringIO()
    lines = [
        "add host compute-0-0 appliance=compute",
        "set host attr compute-0-0 first yes",
        "set host attr nosuch-0-0 second yes",
        "add host compute-0-1 appliance=compute",
    ]
    code = run_lines(lines, out, err)
    assert code == 1
    line = one_error_line(err.getvalue())
    assert line.startswith("error - line 3: ") and "nosuch-0-0" in line
    assert "compute-0-0" in sqlite_cli.ok("list", "host")
    assert "first" in sqlite_cli.ok("list", "host", "attr", "compute-0-0")
    assert "compute-0-1" not in sqlite_cli.ok("list", "host")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("list host\nlist host 'open\n", "error - line 2: a quote is never closed"),
        ("list host\n\nnosuch verb\n", "error - line 3: unknown command 'nosuch'"),
    ],
)
def test_bad_lines_are_named(sqlite_cli: Cli, text: str, says: str) -> None:
    done = sqlite_cli.process(input=text)
    assert done.code == 2
    assert one_error_line(done.err).startswith(says)


def test_a_failure_after_several_commits_keeps_every_line_before_it(
    every_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "CHUNK_LINES", 2)  # a commit after every second line
    lines = [f"add host compute-0-{i} appliance=compute" for i in range(5)]
    lines += ["set host attr compute-0-4 kept yes", "add host compute-0-0 appliance=compute"]
    lines += ["add host compute-0-9 appliance=compute"]
    out, err = io.StringIO(), io.StringIO()
    assert run_lines(lines, out, err) == 1
    line = one_error_line(err.getvalue())
    assert line.startswith("error - line 7: host compute-0-0 exists already"), line
    hosts = every_cli.ok("list", "host")
    assert all(f"compute-0-{i}" in hosts for i in range(5))
    assert "compute-0-9" not in hosts
    assert "kept" in every_cli.ok("list", "host", "attr", "compute-0-4")


class _Clash(Command):
    """Adds an OS that exists, past every check: the database refuses the flush."""

    writes = True
    in_batch = True

    def run(self, ctx: Any, a: dict[str, Any]) -> None:
        from cairn.db.models import OS

        ctx.session.add(OS(name="linux"))


def test_a_line_the_database_refuses_keeps_the_lines_before_it(every_cli: Cli) -> None:
    # A failed flush ends SQLAlchemy's whole transaction, not just the line's
    # savepoint: the lines before it in the same transaction must survive.
    out, err = io.StringIO(), io.StringIO()
    with Shared(None) as shared:
        for i in range(3):
            words = ["add", "host", f"compute-0-{i}", "appliance=compute"]
            assert execute(words, out, err, shared=shared) == 0, err.getvalue()
        words = ["set", "host", "attr", "compute-0-2", "kept", "yes"]
        assert execute(words, out, err, shared=shared) == 0, err.getvalue()
        with pytest.raises(Conflict, match="conflicts with what is stored"):
            shared.run(_Clash, {})
    hosts = every_cli.ok("list", "host")
    assert all(f"compute-0-{i}" in hosts for i in range(3))
    assert "kept" in every_cli.ok("list", "host", "attr", "compute-0-2")
    assert every_cli.ok("list", "os").count("linux") == 1


def test_a_command_that_runs_alone_sees_the_lines_before_it(every_cli: Cli) -> None:
    out, err = io.StringIO(), io.StringIO()
    lines = [
        "add host compute-0-0 appliance=compute",
        "set host attr compute-0-0 colour blue",
        "list host attr compute-0-0 attr=colour output-header=no",
        "set host attr compute-0-0 colour red",
    ]
    assert run_lines(lines, out, err) == 0, err.getvalue()
    assert "blue" in out.getvalue() and "red" not in out.getvalue()
    assert "red" in every_cli.ok("list", "host", "attr", "compute-0-0", "attr=colour")


# -- Replayable lines: no savepoint of their own; undone by running again ----


def test_a_replayable_line_that_wrote_then_failed_leaves_nothing(every_cli: Cli) -> None:
    """`set host attr ... kvm false` writes every host, then refuses to take
    kvm from one that holds VMs: its writes go, the lines before it stay. (The
    check reads kvm back: that line's writes cannot be held, cairn.db.held.)"""
    for i in range(2):
        every_cli.ok("add", "host", f"compute-0-{i}", "appliance=compute")
    every_cli.ok("set", "host", "attr", "compute-0-1", "kvm", "true")
    every_cli.ok("add", "host", "vm", "compute-0-1")
    out, err = io.StringIO(), io.StringIO()
    lines = [
        "set host attr compute-0-0 before yes",
        "add host compute-9-9 appliance=compute",
        "set host attr 'compute-0-*' kvm false",
        "set host attr compute-0-0 after yes",
    ]
    assert run_lines(lines, out, err) != 0
    line = one_error_line(err.getvalue())
    assert line.startswith("error - line 3: host compute-0-1 holds the VMs"), line
    attrs = every_cli.ok("list", "host", "attr", "compute-0-*", "attr=kvm", "output-header=no")
    assert "false" not in attrs  # the first host's write is undone with the line
    assert "before" in every_cli.ok("list", "host", "attr", "compute-0-0")
    assert "after" not in every_cli.ok("list", "host", "attr", "compute-0-0")
    assert "compute-9-9" in every_cli.ok("list", "host")


class _Drawn(Command):
    """Adds an OS with a new name each time it runs, as `add host vm` draws a UUID."""

    writes = True
    in_batch = True
    runs = 0

    def run(self, ctx: Any, a: dict[str, Any]) -> None:
        from cairn.db.models import OS

        type(self).runs += 1
        ctx.session.add(OS(name=f"drawn-{type(self).runs}"))


@pytest.mark.parametrize("replayable", [False, True])
def test_a_line_that_must_not_run_again_is_kept_as_it_ran(
    every_cli: Cli, monkeypatch: pytest.MonkeyPatch, replayable: bool
) -> None:
    """A later failing line undoes itself alone when the chunk holds a line
    that may not run again; a chunk of replayable lines runs them again."""
    monkeypatch.setattr(_Drawn, "runs", 0)
    monkeypatch.setattr(_Drawn, "replayable", replayable)
    monkeypatch.setattr(batch, "CHUNK_SECONDS", 3600.0)  # one chunk, however slow the run
    out, err = io.StringIO(), io.StringIO()
    with Shared(None) as shared:
        words = ["add", "host", "compute-0-0", "appliance=compute"]
        assert execute(words, out, err, shared=shared) == 0, err.getvalue()
        shared.run(_Drawn, {})
        words = ["set", "host", "attr", "nosuch-0-0", "after", "yes"]
        assert execute(words, out, err, shared=shared) != 0
    assert _Drawn.runs == (2 if replayable else 1)
    oses = every_cli.ok("list", "os")
    assert f"drawn-{_Drawn.runs}" in oses and oses.count("drawn-") == 1
    assert "compute-0-0" in every_cli.ok("list", "host")


def test_replayable_lines_take_no_savepoint(
    sqlite_cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(Engine, "before_cursor_execute", record)
    try:
        lines = ["add host compute-0-0 appliance=compute"]
        lines += [f"set host attr compute-0-0 a{i} {i}" for i in range(5)]
        assert run_lines(lines, io.StringIO(), io.StringIO()) == 0
        assert "SAVEPOINT" not in seen and "INSERT" in seen
        seen.clear()
        assert (
            run_lines(["add host compute-0-1 appliance=compute"], io.StringIO(), io.StringIO()) == 0
        )
        # One statement, after the schema's version is read on opening.
        assert seen.count("INSERT") == 1 and seen.count("SELECT") == 1, seen
        seen.clear()
        assert run_lines(["add host vm compute-0-0"], io.StringIO(), io.StringIO()) != 0
        assert "SAVEPOINT" in seen  # a line that may not run again takes one
    finally:
        event.remove(Engine, "before_cursor_execute", record)
