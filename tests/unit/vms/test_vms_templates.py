"""VMs alike share one built document (cairn.vms.templates): a document filled
with a VM's own values is the document that VM gets when built on its own, and
the design runs once per shape, not once per VM."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from lxml import etree

from cairn.designer import VMDisk, VMFacts, VMNic
from cairn.vms import config
from cairn.vms.templates import Templates, key

RNG = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
PANIC = "<panic model='isa'/>"


def _documents(text: str) -> dict[str, str]:
    """{VM name: its document} from the output of `report host vm config`."""
    docs = re.split(r"(?=<domain )", text)
    return {re.search(r"<name>([^<]+)</name>", d).group(1): d for d in docs if d}  # type: ignore[union-attr]


@pytest.fixture
def designs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the VMs the designer ran for (the real designer, counted)."""
    seen: list[str] = []
    real = config.design

    def counted(facts: VMFacts, *args: Any, **kwargs: Any) -> Any:
        seen.append(facts.name)
        return real(facts, *args, **kwargs)

    monkeypatch.setattr(config, "design", counted)
    return seen


def _varied(cli: Any) -> None:
    """Ten VMs on two networks, of a few shapes."""
    for container in ("vm-container-0-0", "vm-container-0-1"):
        cli.ok("add", "host", "interface", container, "eth0", "subnet=private")
    cli.ok("set", "appliance", "attr", "hosted-vm", "kvm_device_0", RNG)
    cli.ok("set", "appliance", "attr", "hosted-vm", "kvm_cpu_pinning", "pin_all")
    for i in range(8):
        cli.ok("add", "host", "vm", f"vm-container-0-{i % 2}", "num-macs=2", "subnet=private")
    cli.ok("add", "host", "vm", "vm-container-0-0", "cpus=4", "subnet=private")
    cli.ok("add", "host", "vm", "vm-container-0-1", "disk=file:/scratch/shared.img")
    cli.ok("set", "host", "attr", "hosted-vm-0-0-1", "kvm_device_1", PANIC)
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-1-0", "cdrom=/isos/a.iso")


def test_a_filled_document_is_the_one_built_alone(example_cluster: Any, designs: list[str]) -> None:
    cli = example_cluster
    _varied(cli)
    together = _documents(cli.ok("report", "host", "vm", "config", "hosted-vm"))
    assert len(together) == 10
    shared = len(designs)
    for name, document in together.items():
        alone = cli.ok("report", "host", "vm", "config", name)
        assert alone == document, name
        etree.fromstring(document)  # well-formed
    # Eight VMs of two MACs: the pinned, devices-0 shape on one network, apart
    # from the one with a device of its own and the one with a cdrom.
    assert shared < len(together), designs
    assert sum("<panic " in d for d in together.values()) == 1
    assert sum('device="cdrom"' in d or "device='cdrom'" in d for d in together.values()) == 1
    macs = re.findall(r"address=.([0-9a-f:]{17}).", "".join(together.values()))
    assert len(macs) == len(set(macs)) == 8 * 2 + 2


def test_the_design_runs_once_per_shape(example_cluster: Any, designs: list[str]) -> None:
    cli = example_cluster
    cli.ok("add", "host", "interface", "vm-container-0-0", "eth0", "subnet=private")
    for _ in range(6):
        cli.ok("add", "host", "vm", "vm-container-0-0", "subnet=private")
    designs.clear()
    out = cli.ok("report", "host", "vm", "config", "hosted-vm")
    assert out.count("<domain ") == 6
    assert len(designs) == 1
    cli.ok("set", "host", "attr", "hosted-vm-0-0-3", "kvm_device_0", RNG)
    designs.clear()
    out = cli.ok("report", "host", "vm", "config", "hosted-vm")
    assert out.count("<rng ") == 1
    assert designs == ["hosted-vm-0-0-0", "hosted-vm-0-0-3"]


def test_notes_still_name_each_vm(example_cluster: Any, designs: list[str]) -> None:
    cli = example_cluster
    for _ in range(3):
        cli.ok("add", "host", "vm", "vm-container-0-0")  # on no network: a note each
    result = cli("report", "host", "vm", "config", "hosted-vm")
    assert result.code == 0
    for i in range(3):
        assert f"host hosted-vm-0-0-{i} " in result.err and "user-mode networking" in result.err
    # Shared with the VM's name left out, found by designing once more.
    assert designs == ["hosted-vm-0-0-0", "\x01"]


def _facts(name: str, mac: str = "52:54:00:00:00:01") -> VMFacts:
    return VMFacts(
        name, "0b7f6f5e-1d2c-4a3b-9c8d-7e6f5a4b3c2d", 1024, 1, None,
        (VMDisk("file", f"/state/{name}.vda", "vda", "virtio"),),
        (VMNic(mac, "br0", None, "eth0", "private"),),
    )  # fmt: skip


def _document(name: str, extra: str = "") -> etree._Element:
    return etree.fromstring(
        f"<domain type='kvm'><name>{name}</name><uuid>0b7f6f5e-1d2c-4a3b-9c8d-7e6f5a4b3c2d</uuid>"
        f"<devices><disk type='file' device='disk'><source file='/state/{name}.vda'/></disk>"
        f"<interface type='bridge'><mac address='52:54:00:00:00:01'/></interface>{extra}"
        "</devices></domain>"
    )


def test_a_document_holding_a_value_elsewhere_is_not_kept() -> None:
    a, b = _facts("node-a"), _facts("node-b", "52:54:00:00:00:02")
    templates = Templates()
    shape = key(a, {}, "kvm")
    assert shape == key(b, {}, "kvm")
    templates.keep(shape, a, _document("node-a", "<serial><log file='/var/log/node-a'/></serial>"))
    assert templates.fill(shape, b) is None  # b would get a's name in its log path
    templates.keep(shape, a, _document("node-a"))
    filled = templates.fill(shape, b)
    assert filled is not None
    text, notes = filled
    assert "node-a" not in text and '<source file="/state/node-b.vda"/>' in text
    assert "52:54:00:00:00:02" in text and notes == []


def test_notes_naming_the_vm_otherwise_are_not_shared() -> None:
    a, b = _facts("node-a"), _facts("node-b", "52:54:00:00:00:02")
    templates = Templates()
    shape = key(a, {}, "kvm")
    note = "host node-a eth0: a note"
    templates.keep(shape, a, _document("node-a"), [note])  # no way to make it for b
    assert templates.fill(shape, b) is None
    templates.keep(shape, a, _document("node-a"), [note], lambda f: [note.replace("a", "b")])
    assert templates.fill(shape, b) is None  # the other design's notes are not these
    templates.keep(shape, a, _document("node-a"), [note], lambda f: [f"host {f.name} eth0: a note"])
    filled = templates.fill(shape, b)
    assert filled is not None and filled[1] == ["host node-b eth0: a note"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Node_A"),  # not a host name: built the whole way
        ("uuid", "not-a-uuid"),
        ("mac", "53:54:00:00:00:01"),  # multicast
        ("disk", "node-a.vda"),  # relative
    ],
)
def test_values_outside_their_class_get_no_shape(field: str, value: str) -> None:
    a = _facts("node-a")
    assert key(a, {}, "kvm") is not None
    changes: dict[str, Any] = {
        "name": {"name": value},
        "uuid": {"uuid": value},
        "mac": {"nics": (VMNic(value, "br0", None, "eth0", "private"),)},
        "disk": {"disks": (VMDisk("file", value, "vda", "virtio"),)},
    }
    assert key(dataclasses.replace(a, **changes[field]), {}, "kvm") is None
