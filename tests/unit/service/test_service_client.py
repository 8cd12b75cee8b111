"""The thin client and the service: one implementation, started on demand,
light, refusing other versions and other users, honest when it dies."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cairn.cli.main import execute
from cairn.service import wire
from cairn.service.address import version
from conftest import Services, client_env, service_pid
from testkit import Cli, one_error_line, wait_for


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "cairn.sock"


def test_a_command_gives_the_same_output_through_the_service(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    url = sqlite_cli.url
    services.start(url, sock, "watch=no")
    added = services.run(url, sock, "add", "host", "compute-0-0", "appliance=compute", "cpus=4")
    assert (added.code, added.err) == (0, "")
    # The service wrote it: this process reads the same database in-process.
    here = sqlite_cli("list", "host", "attr", "compute-0-0")
    there = services.run(url, sock, "list", "host", "attr", "compute-0-0")
    assert there == here
    assert "compute-0-0  cpus" in there.out
    # Errors and exit statuses come back as they are.
    bad_here = sqlite_cli("list", "host", "nosuch")
    bad_there = services.run(url, sock, "list", "host", "nosuch")
    assert bad_there == bad_here
    assert bad_there.code == 1
    one_error_line(bad_there.err)


_PROBE = """
import sys
from cairn.service.client import main
code = main(sys.argv[1:])
heavy = {'sqlalchemy', 'psycopg', 'libvirt', 'lxml', 'aiohttp'}
heavy = sorted(heavy & {m.split('.')[0] for m in sys.modules})
print("HEAVY", heavy, code)
"""


def test_the_client_imports_nothing_heavy(sqlite_cli: Cli, services: Services, sock: Path) -> None:
    services.start(sqlite_cli.url, sock, "watch=no")
    for words in (
        ["add", "host", "compute-0-0", "appliance=compute"],
        ["list", "host", "attr"],
        ["dump"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *words],
            env=client_env(sqlite_cli.url, sock),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[-1] == "HEAVY [] 0", done.stdout


def test_the_client_starts_a_service_when_none_runs(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    assert service_pid(sock) is None
    first = services.run(sqlite_cli.url, sock, "add", "host", "compute-0-0", "appliance=compute")
    assert (first.code, first.err) == (0, "")
    pid = service_pid(sock)
    assert pid is not None and pid != os.getpid()
    second = services.run(sqlite_cli.url, sock, "list", "host", "compute-0-0")
    assert second.code == 0 and "compute-0-0" in second.out
    assert service_pid(sock) == pid  # the same service answered again


def test_without_a_service_the_command_runs_in_the_client_and_says_so(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    done = services.run(
        sqlite_cli.url, blocker / "cairn.sock", "add", "host", "compute-0-0", "appliance=compute"
    )
    assert done.code == 0
    assert done.err.startswith("warning - no cairn service (")
    assert done.err.rstrip().endswith("running in this process")
    assert len(done.err.splitlines()) == 1
    assert "compute-0-0" in sqlite_cli.ok("list", "host")


def test_cairn_service_off_runs_in_process_silently(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    done = services.run(
        sqlite_cli.url, sock, "add", "host", "compute-0-0", "appliance=compute", CAIRN_SERVICE="off"
    )
    assert (done.code, done.err) == (0, "")
    assert service_pid(sock) is None


# -- versions ------------------------------------------------------------------------


class OldService:
    """A stand-in service on `sock`, by default of another cairn version: it
    answers hellos, obeys stop, and answers any other request with `answer`."""

    def __init__(
        self,
        sock: Path,
        owner: int,
        version: str = "0.0.1/1/old",
        answer: tuple[bytes, bytes] = (wire.REFUSED, b"old service"),
    ) -> None:
        self.sock = sock
        self.owner = owner
        self.version = version
        self.answer = answer
        self.stopped = threading.Event()
        self.asked_to_stop = False
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(sock))
        self.listener.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                chan = wire.Channel(conn)
                if chan.receive() is None:
                    continue
                chan.send(wire.HELLO, wire.pack([self.version, str(os.getpid()), str(self.owner)]))
                request = chan.receive()
                if request is not None and request[0] == wire.STOP:
                    self.asked_to_stop = True
                    self.listener.close()
                    self.sock.unlink()
                    self.stopped.set()
                    chan.send(wire.EXIT, b"0")
                elif request is not None:
                    chan.send(*self.answer)

    def close(self) -> None:
        if not self.stopped.is_set():
            self.stopped.set()
            self.sock.unlink()
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the thread in accept()
            self.listener.close()
        self.thread.join(timeout=10)


def test_the_client_restarts_its_own_service_of_another_version(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    old = OldService(sock, owner=os.geteuid())
    try:
        done = services.run(sqlite_cli.url, sock, "add", "host", "compute-0-0", "appliance=compute")
    finally:
        old.close()
    assert old.asked_to_stop
    assert done.code == 0, done.err
    assert done.err.startswith("warning - restarting the cairn service")
    assert "0.0.1/1/old" in done.err
    assert service_pid(sock) not in (None, os.getpid())
    assert "compute-0-0" in sqlite_cli.ok("list", "host")


def test_a_service_of_another_version_and_owner_is_refused_clearly(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    old = OldService(sock, owner=os.geteuid() + 1)
    try:
        done = services.run(sqlite_cli.url, sock, "add", "host", "compute-0-0", "appliance=compute")
    finally:
        old.close()
    assert not old.asked_to_stop
    assert done.code == 1
    line = one_error_line(done.err)
    assert "runs cairn 0.0.1/1/old" in line and f"this is cairn {version()}" in line
    assert "its owner must restart it" in line
    assert "compute-0-0" not in sqlite_cli.ok("list", "host")


def test_the_service_refuses_a_client_of_another_version(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    services.start(sqlite_cli.url, sock, "watch=no")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock))
        chan = wire.Channel(s)
        chan.send(wire.HELLO, wire.pack(["9.9.9/1/new"]))
        assert chan.receive() is not None
        chan.send(wire.RUN, b"0" + wire.pack(["add", "host", "compute-0-0"]))
        tag, message = chan.receive() or (b"", b"")
    assert tag == wire.REFUSED
    assert b"client is cairn 9.9.9/1/new" in message
    assert "compute-0-0" not in sqlite_cli.ok("list", "host")


# -- who may connect -------------------------------------------------------------------


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory anyone may enter, so that only the socket's own guards count."""
    path = Path(tempfile.mkdtemp(prefix="cairn-service-test-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def _connect_as(uid: int, sock: Path) -> str:
    """What a process running as `uid` gets when it talks to the service."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to uid, say what happened, never return
        os.close(read)
        try:
            os.setgid(uid)
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(str(sock))
                chan = wire.Channel(s)
                chan.send(wire.HELLO, wire.pack([version()]))
                frame = chan.receive()
                said = "closed" if frame is None else (frame[0] + frame[1]).decode()
        except OSError as exc:
            said = f"oserror {exc.errno}"
        os.write(write, said.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        said = f.read()
    os.waitpid(pid, 0)
    return said


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_only_root_and_the_owner_reach_the_service(
    sqlite_cli: Cli, services: Services, open_dir: Path
) -> None:
    import errno

    sock = open_dir / "cairn.sock"
    services.start(sqlite_cli.url, sock, "watch=no")
    assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
    assert _connect_as(65534, sock) == f"oserror {errno.EACCES}"
    # Even with the socket opened up, the service checks who is calling.
    os.chmod(sock, 0o666)
    said = _connect_as(65534, sock)
    assert said == "!uid 65534 may not use this cairn service"
    assert _connect_as(0, sock).startswith("h" + version())


# -- the service dying -----------------------------------------------------------------

BLOCKING_ALLOCATE = """
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, put

def run(*, session, vm):
    put(session, Owner(Scope.HOST, vm.host.id, vm.host.name), "took", "yes", replace=True)
    session.flush()
    open(MARK, "w").close()
    open(FIFO).read()  # blocks until the test kills the service
"""


def _vm_whose_start_blocks(cli: Cli, tmp_path: Path) -> tuple[str, Path, dict[str, str]]:
    """A VM whose plugin_allocate writes, touches the mark file and then blocks;
    (its name, the mark, the environment that has the plugin)."""
    cli.ok("add", "host", "vm-container-0-0", "appliance=vm-container", "cpus=4")
    cli.ok("set", "attr", "kvm_connection", "test:///default")
    vm = cli.ok("add", "host", "vm", "vm-container-0-0", "mem=64").split()[1]
    plugins = tmp_path / "plugins"
    hook_dir = plugins / "start" / "host" / "vm"
    hook_dir.mkdir(parents=True)
    for d in (plugins, plugins / "start", plugins / "start" / "host", hook_dir):
        os.chmod(d, 0o755)
    mark, fifo = tmp_path / "mark", tmp_path / "fifo"
    os.mkfifo(fifo)
    hook = hook_dir / "plugin_allocate.py"
    hook.write_text(
        BLOCKING_ALLOCATE.replace("MARK", repr(str(mark))).replace("FIFO", repr(str(fifo)))
    )
    os.chmod(hook, 0o644)
    return vm, mark, {"CAIRN_PLUGIN_PATH": str(plugins)}


def test_a_service_killed_during_a_command_leaves_all_or_none(
    sqlite_cli: Cli, services: Services, sock: Path, tmp_path: Path
) -> None:
    cli = sqlite_cli
    vm, mark, env = _vm_whose_start_blocks(cli, tmp_path)
    service = services.start(cli.url, sock, "watch=no", **env)

    client = subprocess.Popen(
        [
            sys.argv[0] if False else str(Path(sys.executable).parent / "cairn"),
            "start",
            "host",
            "vm",
            vm,
        ],
        env=client_env(cli.url, sock, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(mark.exists, "the plugin to have written, mid-command", timeout=60)
    os.kill(service.pid, signal.SIGKILL)
    out, err = client.communicate(timeout=60)

    assert client.returncode == 1
    line = one_error_line(err)
    assert f"the cairn service (pid {service.pid}) stopped during the command" in line
    rows = json.loads(cli.ok("list", "host", "attr", vm, "output-format=json"))
    assert "took" not in {r["attr"] for r in rows}  # none of the command
    listed = json.loads(cli.ok("list", "host", "vm", vm, "output-format=json"))
    assert listed[0]["vm-host"] == vm
    assert out == ""


def test_a_service_killed_during_a_batch_keeps_whole_lines_and_says_so(
    sqlite_cli: Cli, services: Services, sock: Path, tmp_path: Path
) -> None:
    cli = sqlite_cli
    vm, mark, env = _vm_whose_start_blocks(cli, tmp_path)
    service = services.start(cli.url, sock, "watch=no", **env)
    lines = [
        "add host compute-0-0 appliance=compute",
        "set host attr compute-0-0 before yes",
        f"start host vm {vm}",  # runs alone; its plugin blocks until the kill
        "set host attr compute-0-0 after yes",
    ]
    client = subprocess.Popen(
        [str(Path(sys.executable).parent / "cairn")],
        env=client_env(cli.url, sock, **env),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None
    client.stdin.write("\n".join(lines) + "\n")
    client.stdin.close()
    wait_for(mark.exists, "the plugin to have written, mid-batch", timeout=60)
    os.kill(service.pid, signal.SIGKILL)
    client.wait(timeout=60)
    assert client.stderr is not None
    err = client.stderr.read()

    assert client.returncode == 1
    line = one_error_line(err)
    assert f"the cairn service (pid {service.pid}) stopped during the batch" in line
    got = {r["attr"] for r in json.loads(cli.ok("list", "host", "attr", "output-format=json"))}
    assert "before" in got  # the lines before the one that ran: whole
    assert "took" not in got and "after" not in got  # that line and the rest: none


def test_stop_service_stops_only_this_databases_service(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    mine, other = tmp_path / "mine.sock", tmp_path / "other.sock"
    proc = services.start(sqlite_cli.url, mine, "watch=no")
    services.start(other_url, other, "watch=no")

    shown = services.run(sqlite_cli.url, mine, "report", "service", "output-format=json")
    assert json.loads(shown.out) == [
        {
            "socket": str(mine),
            "state": "running",
            "pid": proc.pid,
            "uid": os.geteuid(),
            "version": version(),
        }
    ]
    stopped = services.run(sqlite_cli.url, mine, "stop", "service")
    assert (stopped.code, stopped.err) == (0, "")
    assert stopped.out == f"stopped the cairn service (pid {proc.pid}) on {mine}\n"
    assert proc.wait(timeout=60) == 0
    assert service_pid(mine) is None
    assert service_pid(other) is not None  # another database's service runs on

    again = services.run(sqlite_cli.url, mine, "stop", "service")
    assert (again.code, again.out) == (0, f"no cairn service runs on {mine}\n")
    shown = services.run(sqlite_cli.url, mine, "report", "service", "output-header=no")
    assert shown.out.split()[:2] == [str(mine), "stopped"]
    assert service_pid(mine) is None  # neither command started one


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_stop_the_service(
    sqlite_cli: Cli, services: Services, open_dir: Path
) -> None:
    sock = open_dir / "cairn.sock"
    proc = services.start(sqlite_cli.url, sock, "watch=no")
    os.chmod(sock, 0o666)  # past the socket's own mode: the service itself must refuse
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: `cairn stop service` as uid 65534, in this process
        os.close(read)
        status, err = 99, io.StringIO()
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.environ["CAIRN_SOCKET"] = str(sock)
            status = execute(["stop", "service"], io.StringIO(), err)
        finally:
            os.write(write, f"{status} {err.getvalue()}".encode())
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        said = f.read()
    os.waitpid(pid, 0)
    assert said == "1 error - uid 65534 may not use this cairn service\n"
    assert service_pid(sock) == proc.pid


def test_an_interactive_command_handed_back_runs_in_the_client(
    sqlite_cli: Cli, services: Services, sock: Path
) -> None:
    sqlite_cli.ok("add", "host", "compute-0-0", "appliance=compute")
    # A service of this version that hands the command back, as the service
    # does with an interactive one (a console).
    stand_in = OldService(sock, owner=os.geteuid(), version=version(), answer=(wire.LOCAL, b""))
    try:
        done = services.run(sqlite_cli.url, sock, "list", "host", "compute-0-0")
    finally:
        stand_in.close()
    assert (done.code, done.err) == (0, "")
    assert "compute-0-0" in done.out
