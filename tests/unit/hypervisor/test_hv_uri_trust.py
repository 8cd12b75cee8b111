"""kvm_connection may not run programs or name files: transports and URI options
are refused when the template is set and again when a connection is opened;
an administrator's config file may allow named options. An unreachable TLS
container fails within a bounded time."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cairn.errors import CairnError
from cairn.hypervisor.connections import Connections, knock
from cairn.hypervisor.errors import ContainerUnreachable
from cairn.hypervisor.events import Subscription
from cairn.hypervisor.uri import check_uri, uri_for
from testkit import one_error_line

REFUSED_TRANSPORTS = [
    "qemu+ext:///system?command=/tmp/evil",
    "qemu+ext://{host}/system",
    "qemu+libssh://{host}/system",
    "qemu+libssh2://{host}/system",
    "lxc:///system",
    "xen://{host}/",
    "esx://{host}/",
]
REFUSED_OPTIONS = [
    "qemu+ssh://{host}/system?command=/tmp/evil",
    "qemu+ssh://{host}/system?netcat=/tmp/evil",
    "qemu+ssh://{host}/system?keyfile=/root/.ssh/other",
    "qemu+tls://{host}/system?pkipath=/tmp/pki",
    "qemu+tls://{host}/system?no_verify=1",
    "qemu:///system?socket=/tmp/sock",
    "qemu+ssh://{host}/system?known_hosts=/tmp/kh",
    "qemu+ssh://{host}/system?no_tty=1&COMMAND=/tmp/evil",
]
ACCEPTED = [
    "qemu+tls://{host}/system",
    "qemu+ssh://root@{host}/system?no_tty=1",
    "qemu://{host}/system",
    "qemu+tcp://{host}/system",
    "qemu+unix:///system",
    "qemu:///system",
    "test:///default",
]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cairn.toml"
    path.write_text("")  # a config file that allows no URI options (tests write more)
    monkeypatch.setenv("CAIRN_CONFIG", str(path))
    return path


@pytest.mark.parametrize("template", REFUSED_TRANSPORTS)
def test_transports_that_run_programs_or_other_drivers_are_refused(template: str, config: Path):
    with pytest.raises(CairnError, match=r"is refused|is not one cairn uses"):
        uri_for(template, "vm-container-0-0")


@pytest.mark.parametrize("template", REFUSED_OPTIONS)
def test_options_that_name_programs_or_files_are_refused(template: str, config: Path):
    with pytest.raises(CairnError, match="kvm_connection_options") as caught:
        uri_for(template, "vm-container-0-0")
    assert str(config) in str(caught.value)  # it says where an administrator would allow it


@pytest.mark.parametrize("template", ACCEPTED)
def test_what_a_cluster_needs_is_accepted(template: str, config: Path):
    uri_for(template, "vm-container-0-0")


def test_an_administrator_may_allow_named_options(config: Path):
    uri = "qemu:///system?socket=/run/peer/libvirt-sock"
    with pytest.raises(CairnError):
        check_uri(uri)
    config.write_text('kvm_connection_options = ["socket"]\n')
    check_uri(uri)
    with pytest.raises(CairnError, match="command="):
        check_uri("qemu+ssh://h/system?socket=/x&command=/tmp/evil")
    config.write_text('kvm_connection_options = "socket"\n')
    with pytest.raises(CairnError, match="must be a list"):
        check_uri(uri)


def test_a_hostile_template_is_refused_when_set_and_nothing_is_written(sqlite_cli, config: Path):
    before = sqlite_cli.dump()
    for value in ["qemu+ext:///system?command=/tmp/evil", "qemu+ssh://{host}/system?keyfile=/k"]:
        r = sqlite_cli("set", "attr", "kvm_connection", value)
        assert r.code == 1
        assert "refused" in one_error_line(r.err)
        r = sqlite_cli("set", "host", "attr", "compute-0-0", "kvm_connection", value)
        assert r.code != 0
    assert sqlite_cli.dump() == before


def test_a_hostile_uri_is_refused_when_used(tmp_path: Path, config: Path):
    """Even a value written behind cairn's back (straight into the database) never
    reaches libvirt: connections and the watcher check the URI again."""
    canary = tmp_path / "ran"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch {canary}\n")
    evil.chmod(0o755)
    uri = f"qemu+ext:///system?command={evil}"
    with Connections() as conns, pytest.raises(CairnError, match="refused"):
        conns.get(uri)
    with pytest.raises(CairnError, match="refused"):
        Subscription(uri, lambda _e: None).open()
    assert not canary.exists()


def test_status_listing_refuses_a_hostile_template_stored_behind_cairns_back(
    sqlite_cli, tmp_path: Path, config: Path
):
    import sqlite3

    canary = tmp_path / "ran"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch {canary}\n")
    evil.chmod(0o755)
    sqlite_cli.ok("add", "host", "vm-container-0-0", "appliance=vm-container")
    sqlite_cli.ok("add", "host", "vm", "vm-container-0-0", "name=v0")
    sqlite_cli.ok("set", "attr", "kvm_connection", "qemu+tls://{host}/system")
    db = sqlite3.connect(sqlite_cli.url.removeprefix("sqlite:///"))
    with db:
        db.execute(
            "UPDATE global_attrs SET value = ? WHERE name = 'kvm_connection'",
            (f"qemu+ext:///system?command={evil}",),
        )
    db.close()
    r = sqlite_cli("list", "host", "vm", "status=yes")
    assert "refused" in r.out + r.err
    assert not canary.exists()


def test_a_closed_port_fails_at_once_and_names_the_container():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends
    with pytest.raises(ContainerUnreachable, match=f"container 127.0.0.1 .*port {port}: .*refused"):
        knock(f"qemu+tls://127.0.0.1:{port}/system", timeout=2)


def test_a_listening_port_passes_the_knock():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        knock(f"qemu+tls://127.0.0.1:{s.getsockname()[1]}/system", timeout=2)
    knock("qemu+ssh://nowhere.invalid/system")  # left to ssh
    knock("qemu:///system")  # local
