"""The VM table paged, sorted and filtered by the server: the browser gets one page.

A cluster of more VMs than one page (on test:///default) behind a service
with the page on; what the browser shows and receives is checked against
`list host vm status=yes`, and GET /api/vms's parameters directly.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from testkit import Cli, wait_for
from webkit import Pilot, web_config

PAGE = 100  # what the page shows (cairn.web.table.PAGE)
VMS = PAGE + 5


@pytest.fixture
def pilot(sqlite_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hv: Any) -> Pilot:
    web_config(tmp_path, monkeypatch)
    pilot = Pilot(sqlite_cli)
    lines = [
        "add host vm-container-0-0 appliance=vm-container cpus=8",
        "add host vm-container-0-1 appliance=vm-container cpus=4",
        "set host attr vm-container-0-0 kvm_connection test:///default",
        "set host attr vm-container-0-1 kvm_connection test:///default",
        # memory that is not in name order: a sort by it must reorder the table
        # the first with two MACs: a second row in `list host vm`, one VM still
        *(f"add host vm vm-container-0-{i % 2} mem={512 + (i * 37) % 101} cpus=1"
          f" num-macs={2 if i == 0 else 1}" for i in range(VMS)),
    ]  # fmt: skip
    done = sqlite_cli.process(input="\n".join(lines) + "\n")
    assert done.code == 0, done.err
    sqlite_cli.ok("start", "host", "vm", "hosted-vm-0-0-1")
    return pilot


def listed(pilot: Pilot) -> list[dict[str, Any]]:
    """Each VM's row of `list host vm status=yes` (a further MAC's row left out)."""
    out = json.loads(pilot.cli.ok("list", "host", "vm", "status=yes", "output-format=json"))
    return [r for r in out if r["mem"] is not None]


def names(page: Any) -> list[str]:
    return page.eval_on_selector_all("#vms tbody tr", "rows => rows.map(r => r.dataset.name)")


def natural(name: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def test_the_browser_gets_one_page_and_asks_the_server_to_sort_filter_and_page(
    pilot: Pilot, page: Any
) -> None:
    vms = listed(pilot)
    assert len(vms) == VMS
    by_name = sorted((v["vm-host"] for v in vms), key=natural)
    page.goto(pilot.link())
    page.wait_for_selector("header .who")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(page.url.rstrip("/") + "/vms")
    page.wait_for_load_state("load")  # the scripts have run
    # The first page came with the HTML: no script asked for it.
    assert [u for u in asked if u.split("?")[0].endswith("/vms")] == [page.url], asked
    assert names(page) == by_name[:PAGE]
    assert page.inner_text("#count") == f"{VMS} of {VMS}"
    assert page.inner_text("#pageinfo") == "page 1 of 2"

    with page.expect_request(lambda r: "page=1" in r.url):
        page.click("#next")
    wait_for(lambda: names(page) == by_name[PAGE:], "the second page")
    assert page.inner_text("#pageinfo") == "page 2 of 2"

    # Sorting is the server's: the browser asks for it, and the first page
    # is the first of the whole sorted table, not a sort of the page shown.
    with page.expect_request(lambda r: "sort=mem" in r.url and "dir=asc" in r.url):
        page.click("th[data-key=mem]")
    with page.expect_request(lambda r: "sort=mem" in r.url and "dir=desc" in r.url):
        page.click("th[data-key=mem]")
    top = sorted(vms, key=lambda v: -v["mem"])[:PAGE]
    wait_for(
        lambda: [int(m) for m in page.eval_on_selector_all(
            "#vms tbody tr td:nth-child(5)", "cells => cells.map(c => c.textContent)"
        )] == [v["mem"] for v in top],
        "the largest memory first",
    )  # fmt: skip

    # Filters are the server's too: text, and the menus it sends the choices of.
    running = [v["vm-host"] for v in vms if v["status"] == "running"]
    assert running == ["hosted-vm-0-0-1"]
    with page.expect_request(lambda r: "state=running" in r.url):
        page.select_option("#f-state", "running")
    wait_for(lambda: names(page) == running, "the running VM alone")
    page.select_option("#f-state", "")
    on_0_1 = sorted((v["vm-host"] for v in vms if v["container"] == "vm-container-0-1"),
                    key=natural)  # fmt: skip
    page.click("th[data-key=name]")
    with page.expect_request(lambda r: "container=vm-container-0-1" in r.url):
        page.select_option("#f-container", "vm-container-0-1")
    wait_for(lambda: names(page) == on_0_1[:PAGE], "the VMs of vm-container-0-1")
    page.select_option("#f-container", "")
    with page.expect_request(lambda r: "q=0-0-10" in r.url):
        page.fill("#q", "0-0-10")
    wait_for(lambda: names(page) == [n for n in by_name if "0-0-10" in n], "the text filter")
    assert page.errors == []


def _get(base: str, cookie: str, query: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base}/api/vms?{query}", headers={"Cookie": f"cairn_session={cookie}"}
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_api_vms_answers_one_page_with_the_counts_and_facets_and_refuses_bad_queries(
    pilot: Pilot, page: Any
) -> None:
    page.goto(pilot.link())
    page.wait_for_selector("header .who")
    base = page.url.rstrip("/")
    cookie = {c["name"]: c["value"] for c in page.context.cookies()}["cairn_session"]
    vms = listed(pilot)

    code, answer = _get(base, cookie, "size=7&page=2&sort=mem&dir=desc")
    assert code == 200
    ordered = sorted(vms, key=lambda v: -v["mem"])  # stable: ties stay in list order
    assert [v["name"] for v in answer["vms"]] == [v["vm-host"] for v in ordered[14:21]]
    assert (answer["matched"], answer["total"], answer["pages"]) == (VMS, VMS, -(-VMS // 7))
    (two,) = _get(base, cookie, "q=hosted-vm-0-0-0&size=1")[1]["vms"]
    assert (two["name"], len(two["macs"])) == ("hosted-vm-0-0-0", 2)
    assert answer["facets"] == {
        "state": sorted({v["status"] for v in vms}),
        "container": ["vm-container-0-0", "vm-container-0-1"],
        "cluster": [],
    }
    # Past the end: the last page. A filter that matches nothing: no rows.
    assert _get(base, cookie, "size=50&page=99")[1]["page"] == 2
    code, answer = _get(base, cookie, "state=running&container=vm-container-0-0")
    assert (code, answer["vms"], answer["matched"], answer["total"]) == (200, [], 0, VMS)
    # A value is only ever compared as text: quotes and SQL change nothing.
    code, answer = _get(base, cookie, "q=%27%20OR%201%3D1%20--")
    assert (code, answer["matched"]) == (200, 0)

    for query, said in [
        ("size=0", "size='0': give a whole number from 1 to 1000"),
        ("page=-1", "page='-1': give a whole number from 0 to 1000000"),
        ("sort=uuid", "sort='uuid': sort by one of name, state"),
        ("dir=up", "dir='up': use asc or desc"),
        ("order=name", "unknown parameter 'order'"),
        ("q=" + "x" * 201, "q is longer than 200 characters"),
    ]:
        code, answer = _get(base, cookie, query)
        assert code == 400 and answer["error"].startswith(said), (query, answer)
