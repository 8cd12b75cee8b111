"""The systemd units cairn ships, checked by systemd's own verifier."""

from __future__ import annotations

import configparser
import os
import subprocess
from pathlib import Path

import pytest

from cairn.units import UNIT_TIMEOUT, container_unit, watch_unit
from testkit import CAIRN


def verify(tmp_path: Path, name: str, text: str) -> subprocess.CompletedProcess[str]:
    unit = tmp_path / name
    unit.write_text(text)
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def sections(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=True, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


@pytest.mark.parametrize(
    ("name", "make", "execs"),
    [
        ("cairn-watch.service", watch_unit, {"ExecStart": "watch"}),
        (
            "cairn-container.service",
            container_unit,
            {"ExecStart": "container boot", "ExecStop": "container shutdown yes=true"},
        ),
    ],
)
def test_units_pass_systemd_verify_and_run_this_cairn(tmp_path, name, make, execs):
    text = make(CAIRN) + "\n"
    done = verify(tmp_path, name, text)
    assert done.returncode == 0, done.stderr
    service = sections(text)["Service"]
    for key, words in execs.items():
        assert service[key] == f"{CAIRN} {words}"


def test_a_missing_executable_fails_systemd_verify(tmp_path):
    """The check above can fail: systemd refuses a unit naming no executable."""
    done = verify(tmp_path, "cairn-watch.service", watch_unit(str(tmp_path / "no-cairn")) + "\n")
    assert done.returncode != 0
    assert "no-cairn" in done.stderr


def run(*words: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CAIRN_DB_URL"}
    return subprocess.run(
        [CAIRN, *words], capture_output=True, text=True, timeout=60, env={**base, **env}
    )


def test_report_watch_prints_a_unit_for_the_running_cairn():
    done = run("report", "watch")
    assert done.returncode == 0, done.stderr
    assert sections(done.stdout)["Service"]["ExecStart"] == f"{CAIRN} watch"
    assert sections(done.stdout)["Service"]["Restart"] == "on-failure"
    assert done.stderr == ""


def test_report_watch_keeps_the_database_url_out_of_the_unit(tmp_path):
    url = f"sqlite:///{tmp_path}/secret-place.db"
    done = run("report", "watch", "command=/usr/local/bin/cairn", CAIRN_DB_URL=url)
    assert done.returncode == 0, done.stderr
    assert "secret-place" not in done.stdout
    assert "ExecStart=/usr/local/bin/cairn watch\n" in done.stdout
    assert done.stderr.startswith("warning - CAIRN_DB_URL is set here but the service")
    assert not (tmp_path / "secret-place.db").exists()


@pytest.mark.parametrize(
    "command", ["cairn", "/opt/cairn bin/cairn", "/opt/%h/cairn", "/a/../b", "//usr/bin/cairn"]
)
def test_report_watch_refuses_a_command_a_unit_cannot_name(command):
    done = run("report", "watch", f"command={command}")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error - command= ")
    assert "set it with command=/path/to/cairn" in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_the_unit_runs_cairn_container_boot_and_shutdown() -> None:
    unit = container_unit("/opt/cairn/bin/cairn")
    lines = set(unit.splitlines())
    for want in (
        "Type=oneshot", "RemainAfterExit=yes", "Requires=libvirtd.service",
        "ExecStart=/opt/cairn/bin/cairn container boot",
        "ExecStop=/opt/cairn/bin/cairn container shutdown yes=true",
        f"TimeoutStopSec={UNIT_TIMEOUT}", "WantedBy=multi-user.target",
    ):  # fmt: skip
        assert want in lines, want
    after = next(x for x in lines if x.startswith("After="))
    assert "libvirtd.service" in after.split("=", 1)[1].split()


def test_the_network_unit_makes_the_bridges_before_libvirtd(tmp_path) -> None:
    from cairn.units import NETWORK_SCRIPT, network_unit

    text = network_unit() + "\n"
    done = verify(tmp_path, "cairn-network.service", text)
    assert done.returncode == 0, done.stderr
    unit = sections(text)
    assert unit["Service"]["ExecStart"] == f"/bin/sh {NETWORK_SCRIPT}"
    assert unit["Service"]["Type"] == "oneshot"
    assert {"libvirtd.service", "cairn-container.service"} <= set(unit["Unit"]["Before"].split())
