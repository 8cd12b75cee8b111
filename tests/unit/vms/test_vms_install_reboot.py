"""A VM set to install ends when its installer reboots it (Rocks' on_reboot=destroy), so
it does not PXE-boot into the installer again; a VM set to os reboots as libvirt does by
default (restart). Seen in `report host vm config` and in what libvirt makes of the XML;
a site's global plugin may still say otherwise."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from cairn.domainxml import schema

VMS = ("hosted-vm-0-0-0", "hosted-vm-0-0-1")


@pytest.fixture
def cli(example_cluster: Any) -> Any:
    for _ in VMS:  # alike: one document is made for both, then filled (vms.templates)
        example_cluster.ok("add", "host", "vm", "vm-container-0-0")
    return example_cluster


def reports(cli: Any, *names: str) -> dict[str, etree._Element]:
    """{name: its domain XML}, all of them from one command (one batch)."""
    text = cli.ok("report", "host", "vm", "config", *names)
    # One document per VM, each starting at its <domain ...> line.
    parts = ["<domain" + p for p in text.split("<domain")[1:]]
    out = {}
    for part in parts:
        root = etree.fromstring(part.strip().encode())
        schema.validate(root, what="a reported domain")
        out[root.findtext("name")] = root
    assert sorted(out) == sorted(names)
    return out


def test_an_install_boot_ends_at_the_guests_reboot_and_an_os_boot_restarts(cli: Any) -> None:
    installing, installed = VMS
    cli.ok("set", "host", "boot", installing, "action=install")
    cli.ok("set", "host", "boot", installed, "action=os")
    found = reports(cli, *VMS)
    assert found[installing].findtext("on_reboot") == "destroy"
    assert found[installed].find("on_reboot") is None  # libvirt's default: restart
    # The same two, each asked for alone (no document shared between them).
    assert reports(cli, installing)[installing].findtext("on_reboot") == "destroy"
    assert reports(cli, installed)[installed].find("on_reboot") is None

    cli.ok("set", "host", "boot", installing, "action=os")  # its install is over
    assert reports(cli, installing)[installing].find("on_reboot") is None


def test_libvirt_keeps_destroy_for_an_install_and_restarts_an_os_boot(cli: Any, hv: Any) -> None:
    installing, installed = VMS
    cli.ok("set", "host", "boot", installing, "action=install")
    cli.ok("set", "host", "boot", installed, "action=os")
    for root in reports(cli, *VMS).values():
        hv.defineXML(etree.tostring(root, encoding="unicode"))
    defined = {
        name: etree.fromstring(hv.lookupByName(name).XMLDesc(0).encode()).findtext("on_reboot")
        for name in VMS
    }
    assert defined == {installing: "destroy", installed: "restart"}


def test_a_sites_global_plugin_still_decides(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = tmp_path / "plugins" / "report" / "host" / "vm" / "config"
    hook.mkdir(parents=True)
    for directory in [tmp_path / "plugins", *(tmp_path / "plugins").rglob("*")]:
        directory.chmod(0o755)
    plugin = hook / "plugin_global.py"
    plugin.write_text(
        "def run(elements, vm):\n"
        "    (domain,) = elements\n"
        "    domain.find('on_reboot').text = 'restart'\n"
        "    return [domain]\n"
    )
    os.chmod(plugin, 0o644)
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(tmp_path / "plugins"))
    cli.ok("set", "host", "boot", VMS[0], "action=install")
    assert reports(cli, VMS[0])[VMS[0]].findtext("on_reboot") == "restart"
