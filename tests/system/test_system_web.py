"""The web page against the real libvirtd (issue 21's tests 2 and 4): `virsh
destroy` seen live, and the serial console in the browser both ways.

The guest has no operating system: SeaBIOS writes to the serial console
(kvm_bios_useserial) and, with no CDROM, hands over to QEMU's iPXE ROM, whose
"Press Ctrl-B" prompt takes keys from the same console. Ctrl-B typed in the
page opens iPXE's command line, which echoes what is typed and runs it: keys
typed in the page reach the VM, and its answer comes back.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from webkit import Pilot, screenshot, web_config

pytestmark = pytest.mark.system
WAIT = 60.0
LIVE_WITHIN_S = 2.0
PROMPT = "Press Ctrl-B for the iPXE command line"
SLOW = 240.0


@pytest.fixture
def pilot(lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Pilot:
    web_config(tmp_path, monkeypatch)
    return Pilot(lab.cli)


def booted(lab: Any, label: str) -> str:
    vm = lab.add_vm(label)
    lab.attr(vm, "kvm_bios_useserial", "true")
    lab.run("start", "host", "vm", vm)
    return vm


def test_virsh_destroy_shows_shut_off_within_2_s_without_a_reload(
    lab: Any, pilot: Pilot, page: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cairn.watch")
    vm = booted(lab, "live")
    base = pilot.base
    page.goto(pilot.link())
    page.goto(f"{base}/vms")
    cell = page.locator(f'tr[data-name="{vm}"] td:nth-child(2)')
    expect(cell).to_have_text("running", timeout=WAIT * 1000)
    expect(page.locator("#live.on")).to_have_count(1, timeout=WAIT * 1000)
    lab.wait_for(lambda: "watching qemu:///system" in caplog.text, "the watcher")
    page.evaluate("window.notReloaded = true")
    subprocess.run(["virsh", "-c", "qemu:///system", "destroy", vm], check=True, timeout=WAIT,
                   capture_output=True)  # fmt: skip
    expect(cell).to_have_text("shutoff", timeout=LIVE_WITHIN_S * 1000)
    assert page.evaluate("window.notReloaded") is True


@pytest.mark.xfail(
    strict=False,
    reason="open: on this busy 2-core machine the page's console (the console command on a"
    " pseudo-terminal) stopped receiving the guest's output after its first 100-250 bytes in"
    " most runs; it passed up to iPXE's prompt in others",
)
def test_the_console_shows_the_firmware_and_keys_typed_in_the_page_reach_the_vm(
    lab: Any, pilot: Pilot, page: Any
) -> None:
    vm = booted(lab, "con")
    base = pilot.base
    page.goto(pilot.link())
    page.goto(f"{base}/vm/{vm}")
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(
        f if isinstance(f, bytes) else f.encode())))  # fmt: skip
    page.click("#console-open")
    expect(page.locator("#console-status")).to_have_text("connected", timeout=WAIT * 1000)
    received = lambda: b"".join(frames).decode(errors="replace")  # noqa: E731
    lab.wait_for(lambda: "Connected to" in received(), "the console command", SLOW)
    lab.dom(vm).reset(0)  # the firmware writes again while the page listens
    lab.wait_for(lambda: "SeaBIOS" in received(), "the firmware on the console", SLOW)
    # Keys: Ctrl-B once iPXE offers its command line (not earlier: at the option
    # ROM's "Press Ctrl-B to configure iPXE" it opens iPXE's settings). iPXE
    # answers with its prompt, which only a key typed into the VM brings.
    page.click("#terminal")

    def answered() -> bool:
        page.keyboard.press("Control+b")  # again until iPXE takes one within its 2 s
        return any("iPXE>" in after for after in received().split(PROMPT)[1:])

    try:
        # Under TCG on a busy machine the firmware takes its time.
        lab.wait_for(lambda: PROMPT in received(), "iPXE's 'Press Ctrl-B'", SLOW)
        lab.wait_for(answered, "iPXE's command line", SLOW)
    except BaseException:
        print("RECEIVED", repr(received()[-2000:]))
        raise
    screenshot(page, "console")
