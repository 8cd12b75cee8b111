"""The service's request path: what a command writes reaches its client, a
bug in a command is reported as what it is and the service goes on, and
SIGTERM or SIGINT stop the service cleanly once the running commands end.

Every test talks to real `cairn watch` processes (the `services` fixture);
the bug is a real one: a row written with SQL that the code does not expect
(a text rack, which SQLite stores as it is and sorting hosts cannot compare).
"""

from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from cairn.cli.main import execute
from cairn.service import wire
from cairn.service.address import key_env
from cairn.service.control import hello
from conftest import Services, service_pid
from testkit import Cli, Outcome, one_error_line, wait_for


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "cairn.sock"


def _met(sock: Path) -> wire.Channel:
    """A channel to the service on `sock`, past its hello (this test's environment
    is the one its clients have: the `sqlite_cli` fixture set it)."""
    met = hello(str(sock), key_env())
    assert met is not None
    return met.chan


def _finish(chan: wire.Channel, words: list[str]) -> Outcome:
    """Sends one command line on a met channel, as the `cairn` client does; what came back."""
    chan.send(wire.RUN, b"0" + wire.pack(words))
    out, err, status = [], [], None
    while (frame := chan.receive()) is not None:
        tag, payload = frame
        if tag == wire.EXIT:
            status = int(payload)
        elif tag in (wire.OUT, wire.ERR):
            (out if tag == wire.OUT else err).append(payload.decode())
    chan.close()
    assert status is not None, f"no exit status; stderr: {''.join(err)!r}"
    return Outcome(status, "".join(out), "".join(err))


def _here(*words: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    code = execute(list(words), out, err)
    return Outcome(code, out.getvalue(), err.getvalue())


def _log(services: Services, n: int = 0) -> Path:
    return services.tmp / f"service-{n}.log"


# -- output: help attrs ---------------------------------------------------------


def test_help_attrs_reaches_the_client_alone_and_in_a_batch(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    url = sqlite_cli.url
    services.start(url, sock, "watch=no")
    here = _here("help", "attrs")
    assert here.code == 0 and here.out.startswith("ATTRIBUTE ")
    assert "kvm_connection" in here.out

    alone = _finish(_met(sock), ["help", "attrs"])
    assert alone == here

    batch = services.run(url, sock, input="help attrs\nlist host\n")
    assert (batch.code, batch.err) == (0, "")
    assert batch.out.startswith(here.out)
    assert batch.out[len(here.out) :] == _here("list", "host").out
    assert "ATTRIBUTE" not in _log(services).read_text()


# -- a bug in a command -----------------------------------------------------------


def _break_rack(url: str, host: str) -> None:
    """A row the code does not expect: a text rack, beside the others' numbers."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE hosts SET rack = 'abc' WHERE name = ?", (host,))


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """Read with SQL: cairn's own listings trip on the broken row too."""
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return db.execute(sql).fetchall()


_BUG = (
    r"error - {where}internal error in '{title}': TypeError: '<' not supported between"
    r" instances of '(str|int)' and '(str|int)' \(a bug in cairn; {hint}\)"
)


def test_a_bug_in_a_command_is_reported_in_one_line_and_the_service_goes_on(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    url = sqlite_cli.url
    sqlite_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    sqlite_cli.ok("add", "host", "compute-0-1", "appliance=compute")
    proc = services.start(url, sock, "watch=no")
    _break_rack(url, "compute-0-1")
    log = _log(services)
    hint = re.escape(f"the traceback is in the service log {log}")

    listed = services.run(url, sock, "list", "host")
    assert listed.code == 70, listed
    assert listed.out == ""
    line = one_error_line(listed.err)
    assert re.fullmatch(_BUG.format(where="", title="list host", hint=hint), line), line
    text = log.read_text()
    assert "ERROR internal error in 'list host'\nTraceback (most recent call last):" in text
    assert "TypeError: '<' not supported" in text

    # A writer that fails so writes nothing, and leaves the write lock free.
    setting = services.run(url, sock, "set", "host", "attr", "*", "foo", "bar")
    assert setting.code == 70
    assert re.fullmatch(
        _BUG.format(where="", title="set host attr", hint=hint), one_error_line(setting.err)
    )
    assert _rows(url, "SELECT * FROM host_attrs WHERE name = 'foo'") == []

    # The same service goes on serving.
    assert service_pid(sock) == proc.pid
    added = services.run(url, sock, "add", "host", "compute-0-2", "appliance=compute")
    assert (added.code, added.err) == (0, "")


def test_a_bug_in_a_batch_line_names_the_line_and_keeps_the_lines_before_it(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    url = sqlite_cli.url
    sqlite_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    proc = services.start(url, sock, "watch=no")
    _break_rack(url, "compute-0-0")
    hint = re.escape(f"the traceback is in the service log {_log(services)}")
    lines = [
        "add host compute-0-1 appliance=compute",  # shares a transaction with the next line
        "set host attr '*' foo bar",
        "add host compute-0-2 appliance=compute",
    ]
    done = services.run(url, sock, input="\n".join(lines) + "\n")
    assert done.code == 70
    line = one_error_line(done.err)
    assert re.fullmatch(_BUG.format(where="line 2: ", title="set host attr", hint=hint), line)
    hosts = _rows(url, "SELECT name FROM hosts WHERE name LIKE 'compute-%' ORDER BY name")
    assert hosts == [("compute-0-0",), ("compute-0-1",)]
    assert _rows(url, "SELECT * FROM host_attrs WHERE name = 'foo'") == []
    assert service_pid(sock) == proc.pid

    # The line that runs on its own (not in a shared transaction) says the same.
    listed = services.run(url, sock, input="list host\n")
    assert listed.code == 70
    assert re.fullmatch(
        _BUG.format(where="line 1: ", title="list host", hint=hint), one_error_line(listed.err)
    )


def test_a_plain_process_says_the_same_line_and_shows_the_traceback_when_asked(
    sqlite_cli: Cli,
) -> None:
    sqlite_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    _break_rack(sqlite_cli.url, "compute-0-0")

    plain = sqlite_cli.process("list", "host", CAIRN_SERVICE="off")
    assert plain.code == 70
    hint = re.escape("CAIRN_DEBUG=1 shows its traceback")
    line = one_error_line(plain.err)
    assert re.fullmatch(_BUG.format(where="", title="list host", hint=hint), line), line

    debug = sqlite_cli.process("list", "host", CAIRN_SERVICE="off", CAIRN_DEBUG="1")
    assert debug.code == 70
    assert debug.err.startswith("Traceback (most recent call last):")
    *_, last = debug.err.splitlines()
    hint = re.escape("the traceback is above")
    assert re.fullmatch(_BUG.format(where="", title="list host", hint=hint), last), last


# -- stopping ---------------------------------------------------------------------


def _stopped_cleanly(proc: subprocess.Popen[str], log: Path, why: str) -> list[str]:
    """The service exited 0 with one line for its stop and no traceback; the log's lines."""
    assert proc.wait(timeout=60) == 0, log.read_text()
    lines = log.read_text().splitlines()
    assert "Traceback" not in log.read_text()
    assert lines[-1].endswith(f" INFO cairn service stopped ({why})"), lines
    return lines


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_an_idle_service_with_status_0_and_one_log_line(
    sqlite_cli: Cli, services: Services, sock: Path, sig: signal.Signals
) -> None:
    proc = services.start(sqlite_cli.url, sock, "watch=no")
    proc.send_signal(sig)
    lines = _stopped_cleanly(proc, _log(services), sig.name)
    listening = next(i for i, line in enumerate(lines) if "listening on" in line)
    assert len(lines) == listening + 2, lines  # "stopped" alone after it
    assert not sock.exists()


def test_sigterm_lets_a_running_command_finish_before_the_service_exits(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    url = sqlite_cli.url
    proc = services.start(url, sock, "watch=no")
    log = _log(services)
    chan = _met(sock)  # a client the service has taken: its command is on its way
    proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "waiting for 1 client(s) to end" in log.read_text(), "the drain")
    assert service_pid(sock) is None  # no new client once it stops

    done = _finish(chan, ["add", "host", "compute-0-0", "appliance=compute"])
    assert (done.code, done.err) == (0, "")
    _stopped_cleanly(proc, log, "SIGTERM")
    assert "compute-0-0" in sqlite_cli.ok("list", "host")


def test_a_second_signal_stops_without_waiting_for_running_commands(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    proc = services.start(sqlite_cli.url, sock, "watch=no")
    log = _log(services)
    chan = _met(sock)
    proc.send_signal(signal.SIGTERM)
    wait_for(lambda: "waiting for 1 client(s) to end" in log.read_text(), "the drain")
    proc.send_signal(signal.SIGINT)
    _stopped_cleanly(proc, log, "SIGTERM")
    chan.close()


def test_an_interactive_command_is_refused_in_a_batch_through_the_service(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    url = sqlite_cli.url
    services.start(url, sock, "watch=no")
    lines = [
        "add host compute-0-0 appliance=compute",
        "open host console compute-0-0",
        "add host compute-0-1 appliance=compute",
    ]
    done = services.run(url, sock, input="\n".join(lines) + "\n")
    assert done.code == 2
    assert one_error_line(done.err) == (
        "error - line 2: 'open host console' needs your terminal, which the cairn service"
        " cannot reach from a batch or the JSON API: run it as a command line of its own"
    )
    hosts = sqlite_cli.ok("list", "host")
    assert "compute-0-0" in hosts and "compute-0-1" not in hosts
    assert os.path.exists(sock)
