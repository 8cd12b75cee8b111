"""The web page as a user reaches it: a cairn service with the page on, a real Chromium.

`Pilot` is a test's cluster on libvirt's test:///default (or a real libvirtd)
behind a service that runs its watcher and serves the page on an ephemeral
loopback port; `login()` opens the link `cairn report web` prints. The
browser is Debian's chromium, driven by Playwright (never `playwright
install`: nothing is downloaded).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import servicekit
from testkit import Cli

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# The README's pictures are taken anew only when asked, so that a test run never
# changes a tracked file: CAIRN_SCREENSHOTS=docs .venv/bin/pytest tests/unit/web
# tests/system/test_system_web.py
SHOTS = os.environ.get("CAIRN_SCREENSHOTS")
SUITE_CONFIG = Path(__file__).resolve().parent / "cairn-test.toml"


def web_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> Path:
    """The suite's config file with the page on (an ephemeral loopback port)."""
    path = tmp_path / "cairn-web.toml"
    path.write_text(SUITE_CONFIG.read_text() + 'web_listen = "127.0.0.1:0"\n' + extra)
    monkeypatch.setenv("CAIRN_CONFIG", str(path))
    return path


class Pilot:
    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        cli.here("init")  # the watcher starts on a database at cairn's schema
        self.served = servicekit.serve_watching(refresh=0.5)

    def link(self) -> str:
        return self.cli.ok("report", "web").split()[0]

    @property
    def base(self) -> str:
        return self.link().split("/login")[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, for one test module: while Playwright's sync API is open, the
    test process's thread counts as running an asyncio loop, and every later
    test that runs one of its own (the Airboss's, aiohttp's) would fail."""
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" and "401" not in m.text else None,
    )
    page.errors = errors
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    """A picture of the page for the README (docs/web-NAME.png), when
    CAIRN_SCREENSHOTS names the directory to put it in."""
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"web-{name}.png"), full_page=False)
