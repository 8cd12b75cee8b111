"""`scripts/testbed.sh` itself (tests/testbed.py): what it says when it cannot
start, a second `up`, and `down` after an `up` that was killed halfway.

Each test has a testbed directory of its own (CAIRN_TESTBED_DIR), one container
at most, and takes down whatever it made, even when it fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import testbed as tb
import testkit

pytestmark = pytest.mark.system

SCRIPT = str(tb.REPO / "scripts" / "testbed.sh")


@pytest.fixture
def root() -> Iterator[Path]:
    where = Path(f"/var/lib/cairn-testbed-script-{os.getpid()}")
    tb.down(where)
    try:
        yield where
    finally:
        tb.down(where)


def run_script(
    root: Path, *words: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAIRN_TESTBED_DIR": str(root), "CAIRN_SERVICE": "off"}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        ["bash", SCRIPT, *words], env=env, capture_output=True, text=True, timeout=600,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def inside(holder: int) -> set[int]:
    """Every process in the PID namespace of `holder` (none if that is ours: the
    holders' `unshare` parents are named like them)."""
    try:
        ns = os.readlink(f"/proc/{holder}/ns/pid")
    except OSError:
        return set()
    if ns == os.readlink("/proc/self/ns/pid"):
        return set()
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(f"/proc/{entry.name}/ns/pid") == ns:
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_a_testbed_missing_a_program_says_which_in_one_line_and_makes_nothing(
    root: Path,
) -> None:
    if tb.prerequisites():
        pytest.skip(f"the testbed cannot start here anyway: {tb.prerequisites()}")
    # libvirtd and virtlogd live in /usr/sbin: without it on PATH they are missing.
    done = run_script(root, "up", "1", path="/usr/bin:/bin")

    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line == (
        "error - cannot start the testbed: libvirtd is not installed"
        " (apt-get install libvirt-daemon-system)"
    )
    assert not root.exists()
    assert tb.holders(root) == {}


def test_a_second_up_reuses_the_testbed_and_another_size_is_refused(root: Path) -> None:
    made = run_script(root, "up", "1")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"testbed: up at {root} with 1 containers")
    before = tb.holders(root)

    again = run_script(root, "up", "1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"testbed: already up at {root} with 1 containers")
    assert tb.holders(root) == before  # nothing doubled

    bigger = run_script(root, "up", "2")
    assert bigger.returncode == 1
    assert bigger.stderr == (
        f"error - a testbed with 1 containers is up at {root}: run scripts/testbed.sh down first\n"
    )
    assert tb.holders(root) == before
    status = run_script(root, "status")
    assert status.stdout == f"{tb.container_name(0)}  answers\n"


def test_down_removes_what_an_up_killed_halfway_left(root: Path) -> None:
    env = {**os.environ, "CAIRN_TESTBED_DIR": str(root), "CAIRN_SERVICE": "off"}
    up = subprocess.Popen(
        ["bash", SCRIPT, "up", "1"], env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        # Halfway: the container's libvirtd runs (its profile is being applied).
        def container_runs_libvirtd() -> bool:
            spaces = tb.holders(root).get(tb.container_name(0), [])
            return any(comm(p) == "libvirtd" for h in spaces for p in inside(h))

        testkit.wait_for(container_runs_libvirtd, "the container's libvirtd", 300, every=0.1)
    finally:
        os.killpg(up.pid, signal.SIGKILL)
        up.wait(timeout=30)
    left = tb.holders(root)
    assert set(left) == {tb.FRONTEND, tb.container_name(0)}
    processes = {p for pids in left.values() for h in pids for p in inside(h)}
    assert len(processes) > 2  # the holders and what runs in them

    done = run_script(root, "down")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("testbed: down (")
    assert tb.holders(root) == {}
    assert [p for p in processes if not tb._gone(p)] == []
    assert not root.exists()
    # And once more: nothing is left to take down.
    assert run_script(root, "down").stdout.startswith("testbed: nothing to take down")
