"""`cairn container shutdown` and `cairn container boot` against libvirt's test driver.

Every domain is made and checked through this module's own connection (`hv`),
never through cairn. The test driver is real libvirt, in-process: managed save,
autostart and `<on_poweroff>restart</on_poweroff>` (a guest whose ACPI shutdown
never completes) all behave as libvirt defines them. Connections to
test:///default in one process share one host while any is open, so `hv` holds
it for the whole test and each cairn command's own connection sees the same
domains.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import libvirt
import pytest
from lxml import etree

import cairn.hypervisor.errors  # noqa: F401  (silences libvirt's stderr handler)
from cairn import metadata
from cairn.metadata import StartOrder

TEST_URI = "test:///default"
URI = f"uri={TEST_URI}"


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:6]


def domain_xml(name: str, *, ignores_acpi: bool = False, start: Any = None) -> str:
    dom = etree.Element("domain", type="test")
    etree.SubElement(dom, "name").text = name
    if start is not None:  # cairn's mark and start order, as start host vm defines it
        etree.SubElement(dom, "metadata").append(metadata.element(start))
    etree.SubElement(dom, "memory", unit="MiB").text = "64"
    os_el = etree.SubElement(dom, "os")
    etree.SubElement(os_el, "type", arch="x86_64").text = "hvm"
    if ignores_acpi:
        # The test driver applies on_poweroff to an ACPI shutdown: with
        # "restart" the guest comes straight back, so the shutdown never completes.
        etree.SubElement(dom, "on_poweroff").text = "restart"
    return etree.tostring(dom, encoding="unicode")


def make(
    hv: libvirt.virConnect,
    name: str,
    *,
    running: bool = True,
    autostart: bool = False,
    saved: bool = False,
    ignores_acpi: bool = False,
    start: Any = None,
) -> libvirt.virDomain:
    dom = hv.defineXML(domain_xml(name, ignores_acpi=ignores_acpi, start=start))
    dom.setAutostart(int(autostart))
    if running or saved:
        dom.create()
    if saved:
        dom.managedSave(0)
    return dom


def transient_autostart(hv: libvirt.virConnect, name: str, **kw: Any) -> libvirt.virDomain:
    """A running autostart domain that libvirt refuses to save.

    Undefining a running persistent domain leaves it running as a transient
    one, still flagged autostart; libvirt has nowhere to keep a managed-save
    image for a transient domain and says so (VIR_ERR_OPERATION_INVALID).
    """
    dom = make(hv, name, autostart=True, **kw)
    dom.undefine()
    assert dom.isActive() and not dom.isPersistent() and dom.autostart()
    return dom


def state(hv: libvirt.virConnect, name: str) -> str:
    try:
        dom = hv.lookupByName(name)
    except libvirt.libvirtError as exc:
        assert exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
        return "undefined"
    code = dom.state(0)[0]
    if code == libvirt.VIR_DOMAIN_SHUTOFF:
        return "saved" if dom.hasManagedSaveImage(0) else "shutoff"
    return {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_PAUSED: "paused"}.get(
        code, f"state-{code}"
    )


def run(cli: Any, verb: str, *params: str) -> tuple[int, dict[str, tuple[str, str]]]:
    """`cairn container VERB uri=test:///default ...`: (exit status, {vm: (action, result)})."""
    extra = ("yes=true", "all=yes") if verb == "shutdown" else ()
    done = cli("container", verb, URI, *extra, *params, "output-format=json")
    assert done.out.strip(), f"container {verb} printed no table: {done.err}"
    rows = json.loads(done.out)
    by_vm = {r["vm"]: (r["action"], r["result"]) for r in rows}
    assert len(by_vm) == len(rows), f"a VM is reported twice: {rows}"
    return done.code, by_vm


# --- shutdown -------------------------------------------------------------


def test_shutdown_saves_autostart_domains_and_shuts_down_the_others(sqlite_cli, hv, tag):
    auto = make(hv, f"auto-{tag}", autostart=True)
    make(hv, f"plain-{tag}")
    make(hv, f"idle-{tag}", running=False, autostart=True)

    code, rows = run(sqlite_cli, "shutdown", "timeout=5")

    assert code == 0
    assert rows == {
        f"auto-{tag}": ("save", "saved"),
        f"plain-{tag}": ("shutdown", "shut down"),
        "test": ("shutdown", "shut down"),  # the driver's stock domain, not autostart
    }
    assert auto.state(0)[0] == libvirt.VIR_DOMAIN_SHUTOFF
    assert auto.hasManagedSaveImage(0) == 1
    assert auto.autostart() == 1  # so that `container boot` brings it back
    assert state(hv, f"plain-{tag}") == "shutoff"
    assert state(hv, "test") == "shutoff"
    assert state(hv, f"idle-{tag}") == "shutoff"  # was off: not touched, nothing saved


def test_shutdown_saves_a_paused_autostart_domain_and_powers_off_a_paused_other(
    sqlite_cli, hv, tag
):
    make(hv, f"auto-{tag}", autostart=True).suspend()
    make(hv, f"plain-{tag}").suspend()

    code, rows = run(sqlite_cli, "shutdown", "timeout=5")

    assert code == 0
    assert rows[f"auto-{tag}"] == ("save", "saved")
    action, result = rows[f"plain-{tag}"]
    # A paused guest cannot react to ACPI: it is powered off, and the row says why.
    assert action == "shutdown"
    assert result == "powered off (paused: it cannot react to ACPI)", result
    assert state(hv, f"auto-{tag}") == "saved"
    assert state(hv, f"plain-{tag}") == "shutoff"


def test_shutdown_powers_off_a_domain_that_ignores_acpi_after_the_timeout(sqlite_cli, hv, tag):
    make(hv, f"deaf-{tag}", ignores_acpi=True)

    code, rows = run(sqlite_cli, "shutdown", "timeout=1")

    assert code == 0  # powered off after ignoring ACPI is what is intended for it
    action, result = rows[f"deaf-{tag}"]
    assert action == "shutdown"
    assert result.startswith("powered off (")
    assert result == "powered off (no ACPI shutdown within 1 s)"
    assert state(hv, f"deaf-{tag}") == "shutoff"


def test_shutdown_exits_1_when_an_autostart_domain_can_be_neither_saved_nor_shut_down(
    sqlite_cli, hv, tag
):
    transient_autostart(hv, f"stuck-{tag}", ignores_acpi=True)
    make(hv, f"auto-{tag}", autostart=True)

    code, rows = run(sqlite_cli, "shutdown", "timeout=1")

    assert code == 1
    action, result = rows[f"stuck-{tag}"]
    assert action == "shutdown"
    assert result.startswith("could not save (")
    assert "transient" in result  # libvirt's own reason is passed on
    assert "powered off (" in result
    assert state(hv, f"stuck-{tag}") == "undefined"  # transient: gone once off
    # One failure does not stop the others from being saved.
    assert rows[f"auto-{tag}"] == ("save", "saved")
    assert state(hv, f"auto-{tag}") == "saved"


def test_shutdown_exits_1_when_an_autostart_domain_cannot_be_saved(sqlite_cli, hv, tag):
    transient_autostart(hv, f"unsaved-{tag}")

    code, rows = run(sqlite_cli, "shutdown", "timeout=5")

    action, result = rows[f"unsaved-{tag}"]
    assert (action, result.split(" (")[0]) == ("shutdown", "could not save")
    assert result.endswith("shut down"), result  # the fallback worked...
    assert state(hv, f"unsaved-{tag}") == "undefined"
    assert code == 1  # ...but the VM will not be restored: that must show


def test_shutdown_with_nothing_running_reports_nothing(sqlite_cli, hv, tag):
    hv.lookupByName("test").destroy()
    make(hv, f"idle-{tag}", running=False, autostart=True)

    code, rows = run(sqlite_cli, "shutdown")

    assert (code, rows) == (0, {})
    assert state(hv, f"idle-{tag}") == "shutoff"


# --- boot -----------------------------------------------------------------


def test_boot_restores_saved_boots_the_other_autostart_and_leaves_the_rest_off(sqlite_cli, hv, tag):
    saved = make(hv, f"saved-{tag}", autostart=True, saved=True)
    make(hv, f"cold-{tag}", running=False, autostart=True)
    make(hv, f"manual-{tag}", running=False)
    make(hv, f"manual-saved-{tag}", saved=True)
    hv.lookupByName("test").destroy()  # not autostart: must stay off

    code, rows = run(sqlite_cli, "boot")

    assert code == 0
    assert rows == {f"saved-{tag}": ("boot", "restored"), f"cold-{tag}": ("boot", "booted")}
    assert state(hv, f"saved-{tag}") == "running"
    assert saved.hasManagedSaveImage(0) == 0  # consumed by the restore
    assert state(hv, f"cold-{tag}") == "running"
    assert state(hv, f"manual-{tag}") == "shutoff"
    assert state(hv, f"manual-saved-{tag}") == "saved"  # not autostart: its image is kept
    assert state(hv, "test") == "shutoff"


def test_boot_twice_changes_nothing_the_second_time(sqlite_cli, hv, tag):
    make(hv, f"saved-{tag}", autostart=True, saved=True)
    make(hv, f"cold-{tag}", running=False, autostart=True)
    first_code, first = run(sqlite_cli, "boot")
    assert first_code == 0 and set(first) == {f"saved-{tag}", f"cold-{tag}"}
    ids = {name: hv.lookupByName(name).ID() for name in first}

    code, rows = run(sqlite_cli, "boot")

    assert code == 0
    assert rows == {
        f"saved-{tag}": ("boot", "already running"),
        f"cold-{tag}": ("boot", "already running"),
    }
    # Same domain IDs: nothing was stopped and started again.
    assert {name: hv.lookupByName(name).ID() for name in rows} == ids


def test_boot_leaves_a_running_autostart_domain_alone(sqlite_cli, hv, tag):
    dom = make(hv, f"up-{tag}", autostart=True)
    before = dom.ID()

    code, rows = run(sqlite_cli, "boot")

    assert (code, rows) == (0, {f"up-{tag}": ("boot", "already running")})
    assert dom.ID() == before


def test_shutdown_then_boot_brings_back_exactly_the_autostart_domains(sqlite_cli, hv, tag):
    make(hv, f"auto-{tag}", autostart=True)
    make(hv, f"plain-{tag}")
    assert run(sqlite_cli, "shutdown", "timeout=5")[0] == 0

    code, rows = run(sqlite_cli, "boot")

    assert (code, rows) == (0, {f"auto-{tag}": ("boot", "restored")})
    assert state(hv, f"auto-{tag}") == "running"
    assert state(hv, f"plain-{tag}") == "shutoff"
    assert state(hv, "test") == "shutoff"


# --- unreachable hypervisor ------------------------------------------------


@pytest.mark.parametrize("verb", ["shutdown", "boot"])
def test_unreachable_uri_is_a_one_line_error(sqlite_cli, verb):
    done = sqlite_cli("container", verb, "uri=test:///nonexistent.xml")

    assert done.code == 1
    assert done.out == ""
    lines = done.err.splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith("error - ")
    assert "test:///nonexistent.xml" in lines[0]
    assert "Traceback" not in done.err


def test_unreachable_uri_is_one_line_on_the_real_stderr(sqlite_cli):
    # libxml2 inside libvirt would print its own "I/O warning" line first.
    done = sqlite_cli.process("container", "boot", "uri=test:///nonexistent.xml")

    assert done.code == 1
    assert done.err.startswith("error - "), done.err
    assert "/nonexistent.xml does not exist" in done.err
    assert len(done.err.splitlines()) == 1, done.err


# --- start order ----------------------------------------------------------


def ordered_rows(cli: Any, verb: str, *params: str) -> tuple[int, list[tuple[str, str, str]]]:
    """(exit status, [(vm, order, action)]) in the order the table lists them."""
    done = cli("container", verb, URI, *params, "output-format=json")
    return done.code, [(r["vm"], r["order"], r["action"]) for r in json.loads(done.out)]


def test_boot_starts_groups_in_order_and_waits_each_groups_delay(hv, tag):
    from cairn.container import power

    make(hv, f"late-{tag}", running=False, autostart=True)  # no order: last
    make(hv, f"db-{tag}", running=False, autostart=True, start=StartOrder(1, 7))
    make(hv, f"db2-{tag}", running=False, autostart=True, start=StartOrder(1, 3))
    make(hv, f"web-{tag}", running=False, autostart=True, start=StartOrder(2, 5))
    make(hv, f"up-{tag}", autostart=True, start=StartOrder(0, 30))  # running: no wait after it
    waits: list[float] = []

    rows = power.boot(hv, sleep=waits.append)

    assert [(r.vm, r.order) for r in rows] == [
        (f"up-{tag}", 0),
        (f"db-{tag}", 1),
        (f"db2-{tag}", 1),
        (f"web-{tag}", 2),
        (f"late-{tag}", None),
    ]
    assert waits == [7, 5]  # a group's largest delay, only after a group that started
    assert all(state(hv, r.vm) == "running" for r in rows)


def test_shutdown_goes_in_reverse_order_and_only_takes_cairns_domains(sqlite_cli, hv, tag):
    make(hv, f"db-{tag}", start=StartOrder(1))
    make(hv, f"web-{tag}", start=StartOrder(2))
    make(hv, f"free-{tag}", start=StartOrder())
    make(hv, f"theirs-{tag}")  # not defined by cairn: no metadata

    code, rows = ordered_rows(sqlite_cli, "shutdown", "timeout=5", "yes=true")

    assert code == 0
    assert rows == [
        (f"free-{tag}", "-", "shutdown"),
        (f"web-{tag}", "2", "shutdown"),
        (f"db-{tag}", "1", "shutdown"),
    ]
    assert state(hv, f"theirs-{tag}") == "running"
    assert state(hv, "test") == "running"
    assert {state(hv, vm) for vm, _, _ in rows} == {"shutoff"}


def test_shutdown_without_yes_says_what_it_would_do_and_stops_nothing(sqlite_cli, hv, tag):
    make(hv, f"auto-{tag}", autostart=True, start=StartOrder(1))
    make(hv, f"plain-{tag}", start=StartOrder(2))

    done = sqlite_cli("container", "shutdown", URI, "output-format=json")

    assert done.code == 0  # it did what was asked: say what it would do
    assert "nothing was stopped: run it again with yes=true" in done.err
    rows = {r["vm"]: (r["action"], r["result"]) for r in json.loads(done.out)}
    assert rows == {
        f"auto-{tag}": ("save", power_planned()),
        f"plain-{tag}": ("shutdown", power_planned()),
    }
    assert state(hv, f"auto-{tag}") == "running"
    assert state(hv, f"plain-{tag}") == "running"


def power_planned() -> str:
    from cairn.container.power import PLANNED

    return PLANNED
