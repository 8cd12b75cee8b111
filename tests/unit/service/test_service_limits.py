"""The service raises its own limit on open files: two connections per container.

A real `cairn watch` process, started with a soft limit of 256 open files and a
hard one of 4096 (as systemd gives 1024 and 524288): the service's own limits,
read from /proc, must show the soft limit raised to the hard one.
"""

from __future__ import annotations

import resource
from pathlib import Path

from conftest import Services
from testkit import Cli


def _open_files(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError(f"no open-files line in /proc/{pid}/limits")


def _few_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096))


def test_the_soft_limit_on_open_files_is_raised_to_the_hard_one(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    service = services.start(
        sqlite_cli.url, tmp_path / "cairn.sock", "watch=no", preexec_fn=_few_files
    )
    assert _open_files(service.pid) == (4096, 4096)
