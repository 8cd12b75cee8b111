"""`cairn watch` as a real process for system tests: its log in a file,
waited on line by line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sysdaemon import wait_for

CAIRN = str(Path(sys.executable).parent / "cairn")


def disallocations(lab: Any) -> list[str]:
    """The plugin_disallocate calls the lab's plugins logged."""
    return [line for line in lab.plugin_calls() if line.startswith("disallocate ")]


class Watch:
    """`cairn watch` running against the lab's database, its stderr in a file."""

    def __init__(self, lab: Any, log: Path, *params: str) -> None:
        self.log = log
        env = {**os.environ, "CAIRN_DB_URL": lab.cli.url}  # with lab's CAIRN_PLUGIN_PATH
        with log.open("wb") as err:
            self.proc = subprocess.Popen(
                [CAIRN, "watch", *params],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def lines(self) -> list[str]:
        return self.text().splitlines()

    def count(self, fragment: str) -> int:
        return sum(fragment in line for line in self.lines())

    def wait_line(self, fragment: str, times: int = 1) -> None:
        def seen() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(f"cairn watch exited ({self.proc.returncode}):\n{self.text()}")
            return self.count(fragment) >= times

        wait_for(seen, lambda: f"{fragment!r} x{times} in the watcher's log:\n{self.text()}")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        return self.proc.returncode
