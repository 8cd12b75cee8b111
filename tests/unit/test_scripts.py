"""The shell scripts the README and CI run: scripts/services.sh.

The daemons services.sh starts live on after it; `test.sh` reads its exports
through `$(...)`, which waits for every holder of the pipe to close it. A
daemon that inherited the pipe kept CI waiting until its time ran out.
"""

import os
import subprocess
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "scripts" / "services.sh"
STAND_IN = 60  # seconds the stand-in daemon lives unless the test ends it


def _stub(directory: Path, name: str, body: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@pytest.fixture
def daemon_path(tmp_path: Path):
    """A PATH on which `libvirtd` is a stand-in that leaves a process behind
    as a real daemon does: standard streams on /dev/null, every other
    descriptor it inherited still open."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pidfile = tmp_path / "daemon.pid"
    _stub(bin_dir, "libvirtd", f"sleep {STAND_IN} </dev/null >/dev/null 2>&1 & echo $! > {pidfile}")
    _stub(bin_dir, "virtlogd", "exit 0")
    _stub(bin_dir, "pgrep", "exit 1")  # nothing is running yet
    _stub(bin_dir, "virsh", "exit 0")
    _stub(bin_dir, "chmod", "exit 0")  # leave /dev/kvm as it is
    yield f"{bin_dir}:{os.environ['PATH']}"
    if pidfile.exists():
        subprocess.run(["kill", pidfile.read_text().strip()], check=False)


def _run_services(path: str) -> subprocess.CompletedProcess[bytes]:
    # Reads stdout to its end, as `$(...)` does: were the stand-in daemon
    # holding the pipe, this would block for STAND_IN s, beyond the timeout.
    return subprocess.run(
        ["bash", str(SERVICES), "libvirt"],
        env={**os.environ, "PATH": path},
        capture_output=True,
        timeout=STAND_IN / 4,
        check=True,
    )


def test_services_output_ends_when_the_script_does(daemon_path):
    assert _run_services(daemon_path).stdout == b""  # libvirt exports nothing


def test_services_prints_only_export_lines(daemon_path):
    # A service tool that chatters on stdout, as pg_ctlcluster does about a
    # stale pid file, must not reach the caller's eval.
    _stub(Path(daemon_path.split(":")[0]), "virtlogd", "echo Removed stale pid file.")
    done = _run_services(daemon_path)
    assert done.stdout == b""
    assert b"Removed stale pid file." in done.stderr
