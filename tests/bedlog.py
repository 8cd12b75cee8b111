"""What the testbed saw, printed when a test on it fails.

A failure on the testbed (tests/testbed.py) is often a container's, not the
test's: a libvirtd that stopped answering, a QEMU that died. The testbed is
removed at the end of the session, so what would tell is gone by the time a
CI log is read. After a failed test the `testbed` fixture prints, into the
test's report: whether each container's libvirtd runs and answers over its
local socket, the end of what its libvirtd logged during the test (its own
log: tests/testbed.py), the end of the QEMU logs written during the test, and
the end of the cairn service logs (the frontend's service logs next to its
socket, in the session's runtime directory) written during the test.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

LINES = 30  # of each log


def report(bed: Any, since: float) -> str:
    """What the containers and the services say, about files written after `since`."""
    out = ["--- the testbed after this failure (tests/bedlog.py) ---"]
    for space in bed.containers:
        pid = bed.libvirtd_pid(space.name)
        try:
            done = space.run("virsh", "-q", "list", "--all", check=False, timeout=10)
            said = (done.stdout + done.stderr).strip().replace("\n", "; ") or "no domains"
        except subprocess.TimeoutExpired:
            said = "no answer within 10 s"
        out.append(f"{space.name}: libvirtd {pid or 'not running'}; virsh list: {said}")
        out += _logged_since(bed.libvirtd_log(space.name), since)
        out += _tails(space.path("/var/log/libvirt/qemu").glob("*.log"), since)
    runtime = os.environ.get("CAIRN_RUNTIME_DIR")
    if runtime:
        out += _tails(Path(runtime).glob("*.log"), since)
    return "\n".join(out)


def _tails(paths: Any, since: float) -> list[str]:
    out = []
    for path in sorted(paths):
        try:
            if path.stat().st_mtime < since:
                continue
            lines = path.read_text(errors="replace").splitlines()[-LINES:]
        except OSError:
            continue
        out.append(f"== {path} (last {len(lines)} lines)")
        out += lines
    return out


def _logged_since(path: Path, since: float) -> list[str]:
    """The last LINES lines of a libvirt log written at `since` or later, each
    entry by the time at its start (a line without one goes on the entry before)."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return [f"== {path}: cannot read it ({exc.strerror})"]
    kept: list[str] = []
    keep = False
    for line in lines:
        when = _time(line)
        if when is not None:
            keep = when >= since
        if keep:
            kept.append(line)
    if not kept:
        return [f"== {path}: nothing logged during the test"]
    return [f"== {path} (last {len(kept[-LINES:])} lines logged during the test)", *kept[-LINES:]]


def _time(line: str) -> float | None:
    """The time a libvirt log entry starts with ("2026-12-06 17:27:59.146+0000: ...")."""
    try:
        return datetime.strptime(line[:28], "%Y-%m-%d %H:%M:%S.%f%z").timestamp()
    except ValueError:
        return None
