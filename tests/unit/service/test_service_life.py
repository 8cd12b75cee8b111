"""The cairn service's life: a restart waits for others' work, a replaced
SQLite file gets the writes, a service ends with its database (and none
stays for a URL its command refused), and its files are its owner's alone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_service_client import _vm_whose_start_blocks

import cairn
from cairn.service.address import version
from conftest import Services, client_env, service_pid
from testkit import CAIRN, PG_ADMIN_URL, Cli, new_database, one_error_line, pg_admin, wait_for


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "cairn.sock"


def _started_pid(sock: Path) -> int:
    """The pid of the service a client started on `sock`, from its log."""
    text = Path(f"{sock}.log").read_text()
    return int(re.findall(r"listening on .* \(pid (\d+)\)", text)[-1])


def _gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie no one reaped has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def _lines(stream: object) -> list[str]:
    """The lines a pipe gives, read in a thread into the list returned."""
    got: list[str] = []

    def read() -> None:
        for line in stream:  # type: ignore[attr-defined]
            got.append(line)

    threading.Thread(target=read, daemon=True).start()
    return got


# -- 7: a restart by a client of another version ---------------------------------------


@pytest.fixture
def other_cairn(tmp_path: Path) -> Path:
    """A copy of this cairn with another fingerprint: a client of another version."""
    root = tmp_path / "other"
    shutil.copytree(
        Path(cairn.__file__).parent, root / "cairn", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "cairn" / "another.py").write_text('"""Only here to change the fingerprint."""\n')
    return root


def test_a_restart_by_another_version_waits_for_a_running_batch(
    sqlite_cli: Cli, services: Services, sock: Path, tmp_path: Path, other_cairn: Path
) -> None:
    cli = sqlite_cli
    vm, mark, env = _vm_whose_start_blocks(cli, tmp_path)
    service = services.start(cli.url, sock, "watch=no", **env)
    lines = ["add host compute-0-0 appliance=compute"]
    lines += [f"set host attr compute-0-0 before{i} {i}" for i in range(300)]
    lines.append(f"start host vm {vm}")  # its plugin blocks until the test lets it go
    lines += [f"set host attr compute-0-0 after{i} {i}" for i in range(300)]
    script = tmp_path / "batch.txt"
    script.write_text("\n".join(lines) + "\n")
    with script.open() as stdin:
        batch = subprocess.Popen(
            [CAIRN],
            env=client_env(cli.url, sock, **env),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    wait_for(mark.exists, "the batch to be in its blocking line", timeout=60)

    restart = subprocess.Popen(
        [CAIRN, "add", "host", "compute-0-1", "appliance=compute"],
        env=client_env(cli.url, sock, PYTHONPATH=str(other_cairn), **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    said = _lines(restart.stderr)
    wait_for(
        lambda: any("first finishes" in line for line in said) or restart.poll() is not None,
        "the restarting client to say it waits",
        timeout=120,
    )
    assert said[0].startswith(f"warning - restarting the cairn service (pid {service.pid})")
    assert said[1] == (
        f"warning - the cairn service (pid {service.pid}) first finishes what it runs"
        " for 1 other client\n"
    )
    assert restart.poll() is None and batch.poll() is None and service.poll() is None
    (tmp_path / "fifo").write_text("go")  # the blocking line ends, and the batch goes on

    _out, err = batch.communicate(timeout=120)
    assert batch.returncode == 0, err
    assert "error" not in err and "stopped" not in err  # (the VM's network is warned about)
    assert restart.wait(timeout=120) == 0, "".join(said)
    assert service.wait(timeout=60) == 0
    rows = json.loads(cli.ok("list", "host", "attr", "compute-0-0", "output-format=json"))
    got = {r["attr"] for r in rows}
    assert {f"before{i}" for i in range(300)} <= got
    assert {f"after{i}" for i in range(300)} <= got  # every line of the batch kept
    assert "compute-0-1" in cli.ok("list", "host")  # and the restarting client's command ran
    assert service_pid(sock) not in (None, service.pid)
    assert version() not in Path(f"{sock}.log").read_text()  # the new one is the other cairn


def test_a_service_started_before_its_sources_changed_is_restarted_by_a_new_client(
    sqlite_cli: Cli, services: Services, sock: Path, other_cairn: Path
) -> None:
    """version() is taken once per process: the fingerprint of the code it runs. A
    service keeps the one it started with; a client started after an edit has the
    new one, and restarts it."""
    copy = {"PYTHONPATH": str(other_cairn)}
    service = services.start(sqlite_cli.url, sock, "watch=no", **copy)
    same = services.run(sqlite_cli.url, sock, "list", "host", **copy)
    assert same.code == 0 and "restarting" not in same.err, same
    assert service_pid(sock) == service.pid
    with (other_cairn / "cairn" / "another.py").open("a") as edited:  # in place, as an editor
        edited.write("# a change\n")

    changed = services.run(sqlite_cli.url, sock, "list", "host", **copy)
    assert changed.code == 0, changed
    assert changed.err.startswith(f"warning - restarting the cairn service (pid {service.pid})")
    assert service.wait(timeout=60) == 0
    assert service_pid(sock) not in (None, service.pid)


def test_version_is_taken_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from cairn.service import address

    first = version()

    def scan() -> str:
        raise AssertionError("the source tree was scanned again")

    monkeypatch.setattr(address, "_scan", scan)
    assert version() == first
    assert version().startswith(f"{cairn.__version__}/{address.PROTOCOL}/")


def test_stop_service_waits_for_the_running_command(
    sqlite_cli: Cli, services: Services, sock: Path, tmp_path: Path
) -> None:
    cli = sqlite_cli
    vm, mark, env = _vm_whose_start_blocks(cli, tmp_path)
    service = services.start(cli.url, sock, "watch=no", **env)
    log = tmp_path / "service-0.log"
    started = subprocess.Popen(
        [CAIRN, "start", "host", "vm", vm],
        env=client_env(cli.url, sock, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(mark.exists, "the command to be in its blocking plugin", timeout=60)
    stop = subprocess.Popen(
        [CAIRN, "stop", "service"],
        env=client_env(cli.url, sock, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: "asked to stop" in log.read_text(), "the stop to be asked", timeout=60)
    assert stop.poll() is None and started.poll() is None and service.poll() is None
    (tmp_path / "fifo").write_text("go")

    _out, err = started.communicate(timeout=60)
    assert started.returncode == 0, err
    out, err = stop.communicate(timeout=60)
    assert (stop.returncode, err) == (0, "")
    assert out == f"stopped the cairn service (pid {service.pid}) on {sock}\n"
    # Answered only once nothing can reach it: a client that restarts a service
    # of another version says hello again at once, and must not meet this one.
    assert not sock.exists()
    assert service.wait(timeout=60) == 0
    rows = json.loads(cli.ok("list", "host", "attr", vm, "output-format=json"))
    assert "took" in {r["attr"] for r in rows}  # the command ran to its end


# -- 8: a SQLite file replaced under the service ---------------------------------------


def test_writes_after_the_sqlite_file_is_replaced_go_to_the_new_file(
    sqlite_cli: Cli, services: Services, sock: Path, tmp_path: Path
) -> None:
    url = sqlite_cli.url
    path = tmp_path / "cairn.db"
    assert url == f"sqlite:///{path}"
    service = services.start(url, sock, "watch=no")
    assert services.run(url, sock, "add", "host", "compute-0-0", "appliance=compute").code == 0
    # Another database made aside, then put in the first one's place; the
    # path never lacks a file, so only the file's identity tells them apart.
    fresh = tmp_path / "fresh.db"
    made = services.run(f"sqlite:///{fresh}", tmp_path / "unused.sock", "init", CAIRN_SERVICE="off")
    assert made.code == 0, made.err
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(fresh, path)

    added = services.run(url, sock, "add", "host", "compute-0-1", "appliance=compute")
    assert (added.code, added.err) == (0, "")
    assert service_pid(sock) == service.pid  # the same service wrote it
    listed = services.run(url, sock, "list", "host", CAIRN_SERVICE="off").out
    assert "compute-0-1" in listed and "compute-0-0" not in listed


# -- 9: a service ends with its database -------------------------------------------------


def test_no_service_is_started_for_an_unsupported_scheme(services: Services, sock: Path) -> None:
    url = "oracle://scott:tiger@db.example/orcl"
    through = services.run(url, sock, "list", "host")
    here = services.run(url, sock, "list", "host", CAIRN_SERVICE="off")
    assert through == here
    assert "names oracle, which cairn does not support" in one_error_line(through.err)
    assert not Path(f"{sock}.log").exists()  # no service was started
    assert service_pid(sock) is None


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/missing/cairn.db",
        "postgresql://cairn:pw@127.0.0.1:9/cairn",  # nothing listens on port 9
    ],
    ids=["sqlite-missing-directory", "unreachable-server"],
)
def test_no_service_stays_for_a_database_the_command_refuses(
    services: Services, sock: Path, tmp_path: Path, url: str
) -> None:
    url = url.format(tmp=tmp_path)
    through = services.run(url, sock, "list", "host")
    here = services.run(url, sock, "list", "host", CAIRN_SERVICE="off")
    assert through == here  # the same one-line error, as without the service
    one_error_line(through.err)
    pid = _started_pid(sock)
    wait_for(lambda: _gone(pid), f"the service (pid {pid}) to end", timeout=60)
    assert service_pid(sock) is None
    assert not (tmp_path / "missing").exists()


def test_a_service_started_on_demand_ends_when_its_sqlite_file_is_deleted(
    services: Services, sock: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'cairn.db'}"
    assert services.run(url, sock, "init").code == 0
    assert services.run(url, sock, "add", "host", "compute-0-0", "appliance=compute").code == 0
    pid = _started_pid(sock)
    assert service_pid(sock) == pid
    for file in tmp_path.glob("cairn.db*"):
        file.unlink()
    wait_for(lambda: _gone(pid), f"the service (pid {pid}) to end", timeout=60)
    assert "its database is gone: stopping" in Path(f"{sock}.log").read_text()
    assert not (tmp_path / "cairn.db").exists()  # it made no new one on its way out


def test_a_service_run_for_good_ends_when_its_sqlite_file_is_deleted(
    sqlite_cli: Cli, services: Services, sock: Path, tmp_path: Path
) -> None:
    service = services.start(sqlite_cli.url, sock, "watch=no")
    assert services.run(sqlite_cli.url, sock, "add", "host", "c-0-0", "appliance=compute").code == 0
    for file in tmp_path.glob("cairn.db*"):
        file.unlink()
    assert service.wait(timeout=30) == 0


@pytest.fixture
def pg_database(tmp_path: Path) -> Iterator[str]:
    if PG_ADMIN_URL is None:
        pytest.skip("PostgreSQL not configured (CAIRN_TEST_PG_URL)")
    with new_database("postgresql", tmp_path) as url:
        yield url


@pytest.mark.postgres
def test_a_service_ends_when_its_postgresql_database_is_dropped(
    pg_database: str, services: Services, sock: Path
) -> None:
    service = services.start(pg_database, sock, "watch=no")
    assert services.run(pg_database, sock, "add", "host", "c-0-0", "appliance=compute").code == 0
    name = pg_database.rpartition("/")[2]
    pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    assert service.wait(timeout=60) == 0


# -- who may read its files (security, item 6) ------------------------------------------


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_database_log_and_lock_are_the_owners_alone(
    services: Services, sock: Path, tmp_path: Path, umask_022: None
) -> None:
    url = f"sqlite:///{tmp_path / 'cairn.db'}"
    assert services.run(url, sock, "add", "host", "compute-0-0", "appliance=compute").code == 0
    files = ["cairn.db", "cairn.db-wal", "cairn.db-shm", "cairn.sock.log", "cairn.sock.lock"]
    modes = {name: oct(os.stat(tmp_path / name).st_mode & 0o777) for name in files}
    assert modes == dict.fromkeys(files, "0o600")


def test_a_database_made_with_another_umask_still_opens(
    services: Services, sock: Path, tmp_path: Path, umask_022: None
) -> None:
    url = f"sqlite:///{tmp_path / 'cairn.db'}"
    (tmp_path / "cairn.db").touch(mode=0o644)  # as a user's own sqlite3 would make it
    assert os.stat(tmp_path / "cairn.db").st_mode & 0o777 == 0o644
    added = services.run(url, sock, "add", "host", "compute-0-0", "appliance=compute")
    assert (added.code, added.err) == (0, "")
    assert "compute-0-0" in services.run(url, sock, "list", "host").out
    assert os.stat(tmp_path / "cairn.db").st_mode & 0o777 == 0o644  # theirs to choose


# -- cairn watch (for good) and a service started on demand ---------------------------


def test_cairn_watch_takes_over_from_a_service_started_on_demand(
    services: Services, sock: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'cairn.db'}"
    assert services.run(url, sock, "add", "host", "compute-0-0", "appliance=compute").code == 0
    on_demand = _started_pid(sock)
    watch = services.start(url, sock, "watch=no")  # waits until it answers on sock
    assert watch.pid != on_demand
    wait_for(lambda: _gone(on_demand), f"the on-demand service (pid {on_demand}) to end")
    assert service_pid(sock) == watch.pid
    listed = services.run(url, sock, "list", "host")
    assert listed.code == 0 and "compute-0-0" in listed.out
    assert service_pid(sock) == watch.pid  # the command went to the one run for good
