"""The service's watcher outlives its own failures: one that fails as it starts
(here a fence plugin with a typo, which only the watcher loads) is started
again, ever later, until it runs; the service never goes on without it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import servicekit
from testkit import Cli, wait_for
from webkit import CONTAINERS


def test_a_watcher_that_fails_as_it_starts_is_started_again(
    sqlite_cli: Cli,
    hv: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="cairn")
    for line in [*CONTAINERS, "add host vm vm-container-0-0"]:
        sqlite_cli.ok(*line.split())
    fence = tmp_path / "plugins" / "watch" / "plugin_fence.py"
    fence.parent.mkdir(parents=True)
    fence.write_text("def run(**kwargs)\n    return False\n")  # the colon missing
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(tmp_path / "plugins"))

    def said() -> str:
        return "\n".join(r.getMessage() for r in caplog.records)

    servicekit.serve_watching(refresh=0.5)
    try:
        wait_for(lambda: said().count("; it starts again in") >= 2,
                 lambda: f"the watcher to fail twice; the log: {said()}")  # fmt: skip
        failed = [r for r in caplog.records if "; it starts again in" in r.getMessage()]
        # The reason in one line, the plugin named; each retry later than the last.
        assert "plugin_fence.py failed to load: SyntaxError" in failed[0].getMessage()
        assert failed[0].getMessage().endswith("it starts again in 1 s")
        assert failed[1].getMessage().endswith("it starts again in 2 s")
        assert failed[0].exc_info is None
        assert "watching test:///default" not in said()
        fence.write_text("def run(**kwargs):\n    return False\n")  # the admin's fix
        wait_for(lambda: "watching test:///default" in said(),
                 lambda: f"the watcher to start again; the log: {said()}", timeout=30)  # fmt: skip
        # The same service, still answering, now with its watcher.
        assert sqlite_cli.ok("list", "host", "vm").count("hosted-vm-0-0-0") == 1
    finally:
        servicekit.stop()
