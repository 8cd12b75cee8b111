"""Many clients at once on one service, on SQLite and PostgreSQL; a restarted
service's watcher still sees what happened while it was down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

from conftest import Services, client_env
from testkit import CAIRN, Cli, wait_for

N = 16


def all_at_once(url: str, sock: Path, argvs: list[list[str]]) -> list[tuple[int, str]]:
    """Starts every client before waiting for any; (status, stderr) of each."""
    procs = [
        subprocess.Popen(
            [CAIRN, *argv],
            env=client_env(url, sock),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    return [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]


def test_sixteen_clients_writing_at_once_all_succeed_and_nothing_is_lost(
    cli: Cli, services: Services, tmp_path: Path
) -> None:
    sock = tmp_path / "cairn.sock"
    cli.ok("add", "host", "compute-0-0", "appliance=compute")
    services.start(cli.url, sock, "watch=no")

    same_host = [["set", "host", "attr", "compute-0-0", f"a{i}", f"v{i}"] for i in range(N)]
    other_hosts = [["add", "host", f"compute-1-{i}", "appliance=compute"] for i in range(N)]
    same_attr = [["set", "host", "attr", "compute-0-0", "same", f"w{i}"] for i in range(N)]
    for argvs in (same_host + other_hosts, same_attr):
        results = all_at_once(cli.url, sock, argvs)
        assert [r for r in results if r != (0, "")] == []

    rows = json.loads(cli.ok("list", "host", "attr", "compute-0-0", "output-format=json"))
    got = {r["attr"]: r["value"] for r in rows if r["source"] == "H"}
    assert {f"a{i}": f"v{i}" for i in range(N)}.items() <= got.items()
    assert got["same"] in {f"w{i}" for i in range(N)}
    hosts = {r["host"] for r in json.loads(cli.ok("list", "host", "output-format=json"))}
    assert {f"compute-1-{i}" for i in range(N)} <= hosts


DISALLOCATE_LOGGER = """
def run(*, session, vm, reason):
    with open(LOG, "a") as f:
        f.write(vm.host.name + " " + reason + "\\n")
"""


def test_a_restarted_service_releases_a_vm_that_went_away_while_it_was_down(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    cli, sock, log = sqlite_cli, tmp_path / "cairn.sock", tmp_path / "disallocated"
    cli.ok("add", "host", "vm-container-0-0", "appliance=vm-container", "cpus=4")
    cli.ok("set", "attr", "kvm_connection", "test:///default")
    vm = cli.ok("add", "host", "vm", "vm-container-0-0", "mem=64").split()[1]
    hook = tmp_path / "plugins" / "stop" / "host" / "vm" / "plugin_disallocate.py"
    hook.parent.mkdir(parents=True)
    for d in (hook.parent, *list(hook.parents)[:3]):
        os.chmod(d, 0o755)
    hook.write_text(DISALLOCATE_LOGGER.replace("LOG", repr(str(log))))
    os.chmod(hook, 0o644)
    env = {"CAIRN_PLUGIN_PATH": str(hook.parents[3])}

    first = services.start(cli.url, sock, "refresh=1", **env)
    started = services.run(cli.url, sock, "start", "host", "vm", vm, **env)
    assert started.code == 0, started.err
    # The VM runs in the service's own test:///default host: it lives as long as
    # the service keeps its connection open, so the next command still sees it.
    listed = services.run(cli.url, sock, "list", "host", "vm", vm, "status=yes", **env)
    assert "running" in listed.out, listed
    assert not log.exists()

    # Killed, the service takes its test host (and the VM) with it; the new
    # one must notice that the VM recorded as running is gone, and release it.
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    services.start(cli.url, sock, "refresh=1", **env)
    wait_for(log.exists, "the restarted service to release the VM", timeout=60)
    assert log.read_text() == f"{vm} found undefined when watching began\n"
