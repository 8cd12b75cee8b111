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

from webkit import Frames, Pilot, screenshot, web_config

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


def test_the_console_shows_the_firmware_and_keys_typed_in_the_page_reach_the_vm(
    lab: Any, pilot: Pilot, page: Any
) -> None:
    vm = booted(lab, "con")
    base = pilot.base
    page.goto(pilot.link())
    page.goto(f"{base}/vm/{vm}")
    frames = Frames(page)
    page.click("#console-open")
    expect(page.locator("#console-status")).to_have_text("connected", timeout=WAIT * 1000)
    frames.wait_for(lambda text: "Connected to" in text, "the console command", SLOW)
    lab.dom(vm).reset(0)  # the firmware writes again while the page listens
    frames.wait_for(lambda text: "SeaBIOS" in text, "the firmware on the console", SLOW)
    # Keys: Ctrl-B once iPXE offers its command line (not earlier: at the option
    # ROM's "Press Ctrl-B to configure iPXE" it opens iPXE's settings). iPXE
    # answers with its prompt, which only a key typed into the VM brings.
    page.click("#terminal")
    # Under TCG on a busy machine the firmware takes its time.
    frames.wait_for(lambda text: PROMPT in text, "iPXE's 'Press Ctrl-B'", SLOW)

    def answered(text: str) -> bool:
        if any("iPXE>" in after for after in text.split(PROMPT)[1:]):
            return True
        page.keyboard.press("Control+b")  # again until iPXE takes one within its 2 s
        return False

    frames.wait_for(answered, "iPXE's command line", SLOW)
    screenshot(page, "console")
