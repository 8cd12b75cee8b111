"""network_command runs only what cairn or the config file allows, and a dry run
of `sync host network` runs nothing: no program of the database's choosing, no
ssh, not even `ip` here. The programs are real scripts that leave a mark when run."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.container.netcommand import check, prefix_for
from cairn.errors import CairnError
from testkit import one_error_line, write_behind

HOST = "vm-container-0-0"


@pytest.fixture
def marker(tmp_path: Path) -> tuple[Path, Path]:
    """(a program that records that it ran and prints [], the record)."""
    ran = tmp_path / "ran"
    program = tmp_path / "net.sh"
    program.write_text(f'#!/bin/sh\necho "$@" >> {ran}\necho "[]"\n')
    program.chmod(0o755)
    return program, ran


@pytest.fixture
def planned(cli, config):
    """A host with a network plan (a bridge on its eth1)."""
    cli.ok("set", "network", "public", "subnet=198.18.1.0/24", "bridge=br-pub")
    cli.ok("add", "host", HOST, "appliance=vm-container")
    cli.ok("add", "host", "interface", HOST, "eth1", "ip=198.18.1.1", "subnet=public")
    return cli


def _store(url: str, value: str) -> None:
    """network_command of HOST written straight into the database, unchecked."""
    write_behind(
        url,
        "INSERT INTO host_attrs (host_id, name, value)"
        " SELECT id, 'network_command', :v FROM hosts WHERE name = :n",
        v=value,
        n=HOST,
    )


@pytest.mark.parametrize(
    "value",
    [
        "sh -c 'touch /tmp/owned' --",
        "/usr/bin/env",
        "ssh -o ProxyCommand=evil {host}",
        "ip netns exec ../../proc/1/ns/net",
        "ip netns exec -all",
        "sudo ip netns exec x",
    ],
)
def test_a_program_of_the_databases_choosing_is_refused_when_set(planned, value):
    before = planned.dump()
    r = planned("set", "host", "attr", HOST, "network_command", value)
    assert r.code == 1
    assert "network_commands" in one_error_line(r.err)  # says how to allow it
    assert planned.dump() == before


@pytest.mark.parametrize(
    "value",
    ["ssh {host}", "ssh  -o BatchMode=yes {host}", "ip netns exec {host}", "ip netns exec ct1a"],
)
def test_the_built_in_prefixes_are_taken(config, value):
    check(value, "network_command")


@pytest.mark.parametrize("dry", ["yes", "no"])
def test_a_stored_program_never_runs(planned, marker, dry):
    program, ran = marker
    _store(planned.url, str(program))
    r = planned("sync", "host", "network", HOST, f"dry-run={dry}")
    assert r.code == 1
    assert "not a command prefix cairn may run" in one_error_line(r.err)
    assert not ran.exists()


def test_the_config_file_allows_a_program_and_a_dry_run_still_runs_nothing(planned, marker, config):
    program, ran = marker
    config.write_text(f'network_commands = ["{program} {{host}}"]\n')
    planned.ok("set", "host", "attr", HOST, "network_command", f"{program} {{host}}")
    planned.ok("sync", "host", "network", HOST, "dry-run=yes")
    assert not ran.exists()
    planned("sync", "host", "network", HOST)  # fails on the empty state it reads; it ran
    assert ran.read_text().splitlines()[0] == f"{HOST} ip -j -d link show"


@pytest.fixture
def fake_ssh(tmp_path, monkeypatch, marker):
    """`ssh` on PATH is the marking program, from before the first command."""
    program, ran = marker
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "ssh").symlink_to(program)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    return ran


def test_a_dry_run_lists_the_whole_plan_without_ssh(fake_ssh, planned):
    """Other hosts are reached with ssh by default; a dry run does not call it."""
    ran = fake_ssh
    out = planned.ok("sync", "host", "network", HOST, "dry-run=yes", "output-header=no")
    assert "add bridge br-pub (public)" in out
    assert "address 198.18.1.1/24 on br-pub" in out
    assert not ran.exists()
    planned("sync", "host", "network", HOST)
    assert ran.read_text().splitlines()[0] == f"-o BatchMode=yes {HOST} ip -j -d link show"


def test_a_host_name_is_never_read_as_an_option(config):
    with pytest.raises(CairnError, match="not a DNS name"):
        prefix_for("ssh {host}", "-oProxyCommand=x")
    assert prefix_for("", "-x") == []
