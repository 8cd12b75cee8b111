"""The web page in a real browser (issue 21's tests 1-3, 6 and 7) on libvirt's test:///default.

The service runs in a thread of the test (its watcher too), so its libvirt
connections and the `hv` fixture share one test:///default host: a domain
destroyed through `hv` is news the page hears. Each page's screenshot goes
into docs/ for the README.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from testkit import Cli, wait_for, write_behind
from webkit import CONTAINERS, Pilot, pilot_with, screenshot

LIVE_WITHIN_S = 2.0

SETUP = [
    *CONTAINERS,
    "add host vm vm-container-0-0 mem=1024 cpus=2",
    "add host vm vm-container-0-0 mem=2048 cpus=1",
    "add host vm vm-container-0-1 mem=512 cpus=1",
    "start host vm hosted-vm-0-0-0",
]


@pytest.fixture
def pilot(sqlite_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hv: Any) -> Pilot:
    return pilot_with(sqlite_cli, tmp_path, monkeypatch, SETUP)


def login(page: Any, pilot: Pilot) -> str:
    link = pilot.link()
    page.goto(link)
    page.wait_for_selector("header .who")
    return link.split("/login")[0]


def table_rows(page: Any, selector: str) -> list[list[str]]:
    return page.eval_on_selector_all(
        f"{selector} tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )


def test_the_administrator_sees_what_list_host_vm_shows(pilot: Pilot, page: Any) -> None:
    base = login(page, pilot)
    listed = json.loads(pilot.cli.ok("list", "host", "vm", "status=yes", "output-format=json"))
    page.wait_for_selector("#containers tbody tr")
    containers = {r[0]: r for r in table_rows(page, "#containers")}
    assert set(containers) == {"vm-container-0-0", "vm-container-0-1"}
    assert containers["vm-container-0-0"][2:] == ["2", "1", "3072", "3 / 8"]
    cards = page.inner_text("#states")
    assert "3 VMs" in cards.replace("\n", " ")
    screenshot(page, "overview")

    page.goto(f"{base}/vms")
    page.wait_for_selector("#vms tbody tr")
    shown = {r[0]: r for r in table_rows(page, "#vms")}
    assert set(shown) == {vm["vm-host"] for vm in listed}
    for vm in listed:
        row = shown[vm["vm-host"]]
        assert row[1] == vm["status"]
        assert row[2] == vm["container"]
        assert (row[4], row[5], row[6]) == (str(vm["mem"]), str(vm["cpus"]), vm["mac"])
    page.fill("#q", "0-0-1")
    wait_for(lambda: len(table_rows(page, "#vms")) == 1, "the filter")
    page.fill("#q", "")
    page.select_option("#f-container", "vm-container-0-1")
    on_0_1 = [vm["vm-host"] for vm in listed if vm["container"] == "vm-container-0-1"]
    wait_for(lambda: [r[0] for r in table_rows(page, "#vms")] == on_0_1, "by container")
    page.select_option("#f-container", "")
    page.click("th[data-key=mem]")
    page.click("th[data-key=mem]")  # descending: the server sorts, the page waits for it
    wait_for(lambda: [r[4] for r in table_rows(page, "#vms")] == ["2048", "1024", "512"], "sort")
    screenshot(page, "vms")
    assert page.errors == []


def test_a_vm_destroyed_behind_cairns_back_shows_shut_off_without_a_reload(
    pilot: Pilot, page: Any, hv: Any
) -> None:
    base = login(page, pilot)
    page.goto(f"{base}/vms")
    row = 'tr[data-name="hosted-vm-0-0-0"] td:nth-child(2)'
    page.wait_for_selector(row)
    assert page.inner_text(row) == "running"
    page.evaluate("window.notReloaded = true")
    pilot_sees = wait_for(lambda: page.eval_on_selector("#live", "e => e.classList.contains('on')"),
                          "the live stream")  # fmt: skip
    assert pilot_sees
    # The watcher has subscribed to the container: it hears the next event.
    wait_for(lambda: "watching test:///default" in pilot.watched(), "the watcher", timeout=30)
    hv.lookupByName("hosted-vm-0-0-0").destroy()
    expect(page.locator(row)).to_have_text("shutoff", timeout=LIVE_WITHIN_S * 1000)
    assert page.evaluate("window.notReloaded") is True


def test_power_on_from_the_page_starts_the_vm_and_power_off_asks_first(
    pilot: Pilot, page: Any, hv: Any
) -> None:
    base = login(page, pilot)
    page.goto(f"{base}/vm/hosted-vm-0-0-1")
    page.wait_for_selector("#definition tbody tr")
    page.click("button[data-action=start]")
    wait_for(lambda: _state(hv, "hosted-vm-0-0-1") == "running", "the VM to run")

    page.click("button[data-action=poweroff]")
    assert page.is_visible("#confirm")
    assert "Power off hosted-vm-0-0-1?" in page.inner_text("#confirm-text")
    page.click("#confirm-no")
    assert _state(hv, "hosted-vm-0-0-1") == "running"  # asked, and told no
    page.click("button[data-action=poweroff]")
    page.click("#confirm-yes")
    wait_for(lambda: _state(hv, "hosted-vm-0-0-1") == "shutoff", "the VM to stop")
    assert page.errors == []


def _state(hv: Any, name: str) -> str:
    import libvirt

    try:
        state = hv.lookupByName(name).state()[0]
    except libvirt.libvirtError:
        return "undefined"
    return {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_SHUTOFF: "shutoff"}.get(
        state, str(state)
    )


def test_hostile_values_render_as_text(pilot: Pilot, page: Any) -> None:
    # cairn refuses such names, so one is written behind its back, as anyone
    # who can write the database could; a snapshot's description is free text.
    hostile = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"
    vm = "hosted-vm-0-0-1"
    pilot.cli.ok("set", "host", "vm", vm, "disk=qcow2:/var/lib/libvirt/images/h.vda")
    pilot.cli.ok("start", "host", "vm", vm)
    pilot.cli.ok("add", "host", "vm", "snapshot", vm, "s1", f"description={hostile}")
    listed = json.loads(pilot.cli.ok("list", "host", "vm", "output-format=json"))
    (other,) = [v for v in listed if v["container"] == "vm-container-0-1"]
    write_behind(
        pilot.cli.url, "UPDATE hosts SET name = :name WHERE name = :old",
        name="v<b>1</b>" + hostile, old=other["vm-host"],
    )  # fmt: skip
    base = login(page, pilot)
    page.goto(f"{base}/vms")
    page.wait_for_selector("#vms tbody tr")
    assert "v<b>1</b>" + hostile in page.inner_text("#vms")
    page.goto(f"{base}/vm/{vm}")
    page.wait_for_selector("#snapshots tbody tr")
    assert hostile in page.inner_text("#snapshots")
    screenshot(page, "vm")
    assert page.evaluate("window.pwned") is None
    assert page.locator("main script, main img, main b").count() == 0
    assert page.errors == []


def _http(url: str, **kw: Any) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, **kw)
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read().decode(), dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def test_stale_or_reused_links_missing_csrf_and_foreign_websockets_are_refused(
    pilot: Pilot, page: Any, hv: Any
) -> None:
    link = pilot.link()
    base = link.split("/login")[0]
    page.goto(link)
    page.wait_for_selector("header .who")
    # Reused: the second use of the same link lets nobody in.
    other = page.context.browser.new_context()
    second = other.new_page()
    second.goto(link)
    assert "not valid" in second.inner_text("#why")
    other.close()
    # Stale: a link made before this service started (a forged time is caught
    # by the signature; an old one is too old).
    from cairn.web import links

    _urls, secret = links.read(str(pilot.served.path))
    stale = links.mint(secret, now=__import__("time").time() - links.LINK_TTL - 5)
    code, body, _ = _http(f"{base}/login?t={stale}")
    assert code == 403 and "not valid" in body
    who, issued, nonce, mac = pilot.link().split("?t=")[1].split(".")
    forged = f"{who}.{int(issued) + 1}.{nonce}.{mac}"  # a later time, the same signature
    assert _http(f"{base}/login?t={forged}")[0] == 403

    # No CSRF token: the action is refused and the VM is left as it was.
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}["cairn_session"]
    code, body, _ = _http(
        f"{base}/api/vm/hosted-vm-0-0-0/poweroff", method="POST", data=b"",
        headers={"Cookie": f"cairn_session={cookie}"},
    )  # fmt: skip
    assert code == 403 and "CSRF" in body
    assert _state(hv, "hosted-vm-0-0-0") == "running"
    # The cookie's flags.
    (flags,) = [c for c in page.context.cookies() if c["name"] == "cairn_session"]
    assert flags["httpOnly"] and flags["sameSite"] == "Strict"

    # A WebSocket from another origin.
    import http.client

    host = base.removeprefix("http://")
    conn = http.client.HTTPConnection(host)
    conn.request("GET", "/api/vm/hosted-vm-0-0-0/console", headers={
        "Cookie": f"cairn_session={cookie}", "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
        "Origin": "http://evil.example",
    })  # fmt: skip
    assert conn.getresponse().status == 403
    conn.close()
    # Every answer carries the policy: no inline script.
    _code, _body, headers = _http(f"{base}/login?t=x")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
