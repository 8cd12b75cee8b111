"""A tenant on the web page (issue 21's browser test 5), on libvirt's test:///default.

The tenant's link comes from `cairn report web FRONTEND key=...` through the
service's Airboss; its session shows only its cluster, and every request it
edits by hand to reach another VM is refused by the server (the Airboss's
one check), with libvirt's state unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cairn.airboss import keys
from testkit import Cli, wait_for
from webkit import Pilot, web_config

SETUP = [
    "set network private subnet=198.18.0.0/24 bridge=none",
    "add host vm-container-0-0 appliance=vm-container rack=0 rank=0 cpus=8",
    "add host interface vm-container-0-0 eth0 ip=198.18.0.10 subnet=private",
    "set attr kvm_connection test:///default",
    "add cluster vc computes=1 subnet=198.19.8.0/24 mem=64 public=none",
    "add cluster wc computes=1 subnet=198.19.9.0/24 mem=64 public=none",
    "add host vm vm-container-0-0 mem=64 name=hosted",
    "start host vm wc-compute-0",
]


@pytest.fixture
def tenant(sqlite_cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hv: Any) -> Any:
    isos = tmp_path / "isos"
    isos.mkdir()
    extra = f'tenant_iso_dirs = ["{isos}"]\n[airboss]\nlisten = "127.0.0.1:0"\n'
    web_config(tmp_path, monkeypatch, extra)
    pilot = Pilot(sqlite_cli)
    for line in SETUP:
        sqlite_cli.ok(*line.split())
    assert pilot.served.service.airboss is not None, "the Airboss did not start: see the log"
    owner, stranger = tmp_path / "owner", tmp_path / "stranger"
    keys.generate(owner, comment="owner")
    keys.generate(stranger, comment="stranger")
    sqlite_cli.ok("add", "host", "key", "vc", f"key={owner}.pub")
    return pilot, owner, stranger, f"127.0.0.1:{pilot.served.service.airboss.port}"


def _states(hv: Any) -> dict[str, int]:
    return {d.name(): d.state()[0] for d in hv.listAllDomains(0)}


def _fetch(page: Any, url: str, method: str = "GET", value: str | None = None) -> dict[str, Any]:
    """A request the tenant edits by hand in its page: its session cookie, its CSRF token."""
    return dict(
        page.evaluate(
            """async ([url, method, value]) => {
                const csrf = document.querySelector('meta[name="csrf-token"]').content;
                const body = value === null ? undefined : new URLSearchParams({value});
                const r = await fetch(url, {method, body, headers: {"X-CSRF-Token": csrf},
                                            credentials: "same-origin"});
                return {status: r.status, body: await r.text()};
            }""",
            [url, method, value],
        )
    )


def tenant_page(tenant: Any, page: Any) -> str:
    """Opens vc's owner's link (from `report web`) in `page`, logged in; the link."""
    pilot, owner, _stranger, airboss = tenant
    link = pilot.cli.ok("report", "web", "vc", f"key={owner}", f"airboss={airboss}").split()[0]
    page.goto(link)
    page.wait_for_selector("header .who")
    return str(link)


def test_a_tenant_sees_only_its_cluster_and_edited_requests_are_refused(
    tenant: Any, page: Any, hv: Any
) -> None:
    base = tenant_page(tenant, page).split("/login")[0]
    assert page.inner_text("header .who").startswith("vc (key SHA256:")

    page.goto(f"{base}/vms")
    page.wait_for_selector("#vms tbody tr")
    cells = "rows => rows.map(r => r.cells[0].textContent)"
    shown = set(page.eval_on_selector_all("#vms tbody tr", cells))
    assert shown == {"vc", "vc-compute-0"}
    overview = json.loads(_fetch(page, "/api/overview")["body"])
    assert [c["name"] for c in overview["clusters"]] == ["vc"]
    assert overview["networks"] == [] and overview["total"] == 2

    before = _states(hv)
    for other in ("wc-compute-0", "wc", "hosted", "vm-container-0-0"):
        for action in ("poweroff", "start"):
            done = _fetch(page, f"/api/vm/{other}/{action}", "POST")
            assert done["status"] == 403, (other, action, done)
        assert _fetch(page, f"/api/vm/{other}")["status"] == 403
        assert _fetch(page, f"/vm/{other}")["status"] == 403
        ended = page.evaluate(
            """name => new Promise(done => {
                const ws = new WebSocket(`ws://${location.host}/api/vm/${name}/console`);
                ws.onmessage = m => done(JSON.parse(m.data).ended || "output");
                ws.onclose = () => done("closed");
            })""",
            other,
        )
        assert "cluster" in ended, (other, ended)
    assert _states(hv) == before
    assert "another cluster" in _fetch(page, "/api/vm/wc-compute-0/poweroff", "POST")["body"]

    # Its own VM: the same request is done.
    assert _fetch(page, "/api/vm/vc-compute-0")["status"] == 200
    assert _fetch(page, "/api/vm/vc-compute-0/start", "POST")["status"] == 200
    assert _states(hv)["vc-compute-0"] == 1  # running
    assert _states(hv)["wc-compute-0"] == before["wc-compute-0"]


def test_a_tenants_live_stream_carries_only_its_clusters_vms(
    tenant: Any, page: Any, hv: Any
) -> None:
    pilot = tenant[0]
    tenant_page(tenant, page)
    page.evaluate(
        """() => { window.heard = [];
            const live = new EventSource("/api/events"); window.live = live;
            live.addEventListener("state", m => window.heard.push(JSON.parse(m.data).name)); }"""
    )
    wait_for(lambda: page.evaluate("window.live.readyState") == 1, "the live stream open")
    heard = lambda: list(page.evaluate("window.heard"))  # noqa: E731
    # Its own VM's news, until the stream is surely listening...
    pilot.cli.ok("start", "host", "vm", "vc-compute-0")
    wait_for(lambda: "vc-compute-0" in heard(), "its own VM's news")
    # ...then another cluster's, then its own again: only its own arrive.
    hv.lookupByName("wc-compute-0").destroy()
    pilot.cli.ok("stop", "host", "vm", "vc-compute-0")
    wait_for(lambda: heard().count("vc-compute-0") >= 2, "its own VM's second news")
    assert set(heard()) == {"vc-compute-0"}


def test_a_tenants_cdrom_is_only_an_iso_the_airboss_allows(
    tenant: Any, page: Any, tmp_path: Path
) -> None:
    pilot = tenant[0]
    tenant_page(tenant, page)
    before = pilot.cli.dump()
    done = _fetch(page, "/api/vm/vc-compute-0/cdrom", "POST", "/etc/passwd")
    assert done["status"] == 403 and "not under a directory open to tenants" in done["body"]
    assert pilot.cli.dump() == before
    (tmp_path / "isos" / "rescue.iso").write_bytes(b"\0")
    done = _fetch(page, "/api/vm/vc-compute-0/cdrom", "POST", str(tmp_path / "isos/rescue.iso"))
    assert done["status"] == 200, done
    assert "rescue.iso" in pilot.cli.ok("report", "host", "vm", "config", "vc-compute-0")


def test_a_tenant_link_is_refused_for_a_key_not_bound(tenant: Any) -> None:
    pilot, owner, stranger, airboss = tenant
    done = pilot.cli("report", "web", "vc", f"key={stranger}", f"airboss={airboss}")
    assert done.code != 0 and "not bound to any cluster" in done.err
    done = pilot.cli("report", "web", "wc", f"key={owner}", f"airboss={airboss}")
    assert done.code != 0 and "another cluster" in done.err
    assert "login" not in done.out


def test_the_tenant_example_of_report_web_runs(tenant: Any) -> None:
    """report web's tenant example, left out of the Airboss's example test (no page there)."""
    import shlex

    from cairn.cli import tree

    pilot, _owner, _stranger, airboss = tenant
    pilot.cli.ok("add", "cluster", "lab", "computes=1", "subnet=198.19.10.0/24", "mem=64",
                 "public=none")  # fmt: skip
    pilot.cli.ok("create", "keys", "key=~/.cairn/lab-owner", "passphrase=no")
    pilot.cli.ok("add", "host", "key", "lab", "key=~/.cairn/lab-owner.pub")
    (example,) = [e for e in tree.load(["report", "web"]).examples if "key=" in e.command]
    line = example.command.replace("airboss=127.0.0.1", f"airboss={airboss}")
    out = pilot.cli.ok(*shlex.split(line)[1:])
    assert "/login?t=" in out
