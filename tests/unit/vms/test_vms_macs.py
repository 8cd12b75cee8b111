"""MAC addresses of VMs: unique across the cluster, from the range that the container's
resolved vm_mac_base_addr / vm_mac_base_addr_mask give (cairn.vms.macs).

The example cluster's compute-0-0 eth0 holds 52:54:00:00:00:01.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

COMPUTE_MAC = "52:54:00:00:00:01"


def error_line(result: Any) -> str:
    assert result.code == 1, f"expected a refusal, got {result}"
    lines = result.err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {result.err!r}"
    assert lines[0].startswith("error - "), lines[0]
    return lines[0]


def all_macs(cli: Any) -> list[str]:
    rows = json.loads(cli.ok("list", "host", "interface", "output-format=json"))
    return [r["mac"] for r in rows if r["mac"]]


def macs_of(cli: Any, host: str) -> list[str]:
    rows = json.loads(cli.ok("list", "host", "interface", host, "output-format=json"))
    return [r["mac"] for r in sorted(rows, key=lambda r: int(r["iface"][3:]))]


def vm_count(cli: Any) -> int:
    return len(json.loads(cli.ok("list", "host", "vm", "output-format=json")))


def test_many_vms_get_distinct_macs_from_the_qemu_prefix(example_cluster: Any) -> None:
    cli = example_cluster
    for i in range(12):
        cli.ok("add", "host", "vm", f"vm-container-0-{i % 2}", "num-macs=2")
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=5")
    macs = all_macs(cli)
    assert len(macs) == 1 + 12 * 2 + 5
    assert len(set(macs)) == len(macs)
    vm_macs = [m for m in macs if m != COMPUTE_MAC]
    assert all(re.fullmatch(r"52:54:00(:[0-9a-f]{2}){3}", m) for m in vm_macs)
    # Each document carries its VM's own MACs.
    xml = cli.ok("report", "host", "vm", "config", "hosted-vm")
    assert sorted(re.findall(r'<mac address="([^"]+)"/>', xml)) == sorted(vm_macs)


def test_macs_of_physical_hosts_are_skipped(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:00:00:02")
    cli.ok("add", "host", "interface", "compute-0-1", "eth1", "mac=52:54:00:00:00:04")
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=2")
    macs = macs_of(cli, "hosted-vm-0-0-0")
    assert set(macs).isdisjoint({COMPUTE_MAC, "52:54:00:00:00:02", "52:54:00:00:00:04"})
    assert len(set(macs)) == 2


def test_the_top_of_the_range_in_use_wraps_to_the_bottom(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "interface", "compute-0-1", "eth0", "mac=52:54:00:ff:ff:ff")
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=2")
    assert macs_of(cli, "hosted-vm-0-0-0") == ["52:54:00:00:00:02", "52:54:00:00:00:03"]


@pytest.mark.parametrize(
    "scope",
    [
        ["set", "attr"],
        ["set", "appliance", "attr", "vm-container"],
        ["set", "host", "attr", "vm-container-0-1"],
    ],
    ids=["global", "appliance", "host"],
)
def test_base_and_mask_change_the_range(example_cluster: Any, scope: list[str]) -> None:
    cli = example_cluster
    cli.ok(*scope, "vm_mac_base_addr", "02:16:3E:5A:00:00")
    cli.ok(*scope, "vm_mac_base_addr_mask", "ff:ff:ff:ff:00:00")
    cli.ok("add", "host", "vm", "vm-container-0-1", "num-macs=3")
    assert macs_of(cli, "hosted-vm-0-1-0") == [
        "02:16:3e:5a:00:01",
        "02:16:3e:5a:00:02",
        "02:16:3e:5a:00:03",
    ]
    cli.ok("add", "host", "vm", "vm-container-0-0")
    expected = "02:16:3e:5a:00:04" if scope[1] != "host" else "52:54:00:00:00:02"
    assert macs_of(cli, "hosted-vm-0-0-0") == [expected]


def test_the_base_is_masked(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("set", "attr", "vm_mac_base_addr", "52:54:00:12:34:56")
    cli.ok("set", "attr", "vm_mac_base_addr_mask", "ff:ff:ff:ff:ff:00")
    cli.ok("add", "host", "vm", "vm-container-0-0")
    assert macs_of(cli, "hosted-vm-0-0-0") == ["52:54:00:12:34:01"]


def test_a_given_mac_may_lie_outside_the_range(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "mac=00:16:3e:00:00:07")
    assert macs_of(cli, "hosted-vm-0-0-0") == ["00:16:3e:00:00:07"]
    cli.ok("add", "host", "vm", "vm-container-0-0")
    assert macs_of(cli, "hosted-vm-0-0-1") == ["52:54:00:00:00:02"]


def test_a_mac_in_use_is_refused(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0")  # takes :02
    line = error_line(cli("add", "host", "vm", "vm-container-0-1", "mac=52:54:00:00:00:02"))
    assert "MAC 52:54:00:00:00:02 is already used by hosted-vm-0-0-0 eth0" in line
    line = error_line(cli("add", "host", "vm", "vm-container-0-1", f"mac={COMPUTE_MAC.upper()}"))
    assert f"MAC {COMPUTE_MAC} is already used by compute-0-0 eth0" in line
    assert vm_count(cli) == 1


def test_a_tiny_range_runs_out_cleanly(example_cluster: Any) -> None:
    cli = example_cluster
    # 52:54:00:00:00:01-03; :01 is compute-0-0's.
    cli.ok("set", "attr", "vm_mac_base_addr_mask", "ff:ff:ff:ff:ff:fc")
    cli.ok("add", "host", "vm", "vm-container-0-0")
    line = error_line(cli("add", "host", "vm", "vm-container-0-0", "num-macs=2"))
    assert "52:54:00:00:00:00/ff:ff:ff:ff:ff:fc" in line and "free MAC" in line
    assert vm_count(cli) == 1
    cli.ok("add", "host", "vm", "vm-container-0-1")
    line = error_line(cli("add", "host", "vm", "vm-container-0-1"))
    assert "free MAC" in line
    assert vm_count(cli) == 2
    assert sorted(all_macs(cli)) == [COMPUTE_MAC, "52:54:00:00:00:02", "52:54:00:00:00:03"]
    # Nothing half-written by the refusals: no host, no interface.
    assert "hosted-vm-0-1-1" not in cli.ok("list", "host")
    # A VM without interfaces still fits.
    cli.ok("add", "host", "vm", "vm-container-0-1", "num-macs=0")


def test_freed_macs_are_reused_when_the_range_wraps(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("set", "attr", "vm_mac_base_addr_mask", "ff:ff:ff:ff:ff:f8")  # :01-:07
    for _ in range(6):
        cli.ok("add", "host", "vm", "vm-container-0-0")
    assert macs_of(cli, "hosted-vm-0-0-1") == ["52:54:00:00:00:03"]
    assert "free MAC" in error_line(cli("add", "host", "vm", "vm-container-0-1"))
    cli.ok("remove", "host", "hosted-vm-0-0-1")
    cli.ok("add", "host", "vm", "vm-container-0-1")
    assert macs_of(cli, "hosted-vm-0-1-0") == ["52:54:00:00:00:03"]
    macs = all_macs(cli)
    assert len(set(macs)) == len(macs) == 7


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("vm_mac_base_addr", "01:00:5e:00:00:00", "is a multicast address"),
        ("vm_mac_base_addr", "53:54:00:00:00:00", "is a multicast address"),
        ("vm_mac_base_addr_mask", "ff:ff:ff:ff:ff:ff", "must be 8 to 47 leading one bits"),
        ("vm_mac_base_addr_mask", "00:00:00:00:00:00", "must be 8 to 47 leading one bits"),
        ("vm_mac_base_addr_mask", "ff:00:ff:00:00:00", "must be 8 to 47 leading one bits"),
    ],
)
def test_a_base_or_mask_that_gives_no_usable_mac_is_refused_when_set(
    example_cluster: Any, name: str, value: str, says: str
) -> None:
    cli = example_cluster
    before = cli.dump()
    for scope in (["set", "attr"], ["set", "host", "attr", "vm-container-0-0"]):
        line = error_line(cli(*scope, name, value))
        assert name in line and says in line
    assert cli.dump() == before
    cli.ok("set", "attr", "vm_mac_base_addr_mask", "ff:ff:ff:ff:ff:fe")  # one MAC is enough


def test_a_multicast_base_is_refused_when_used(example_cluster: Any) -> None:
    """A base written into the database past `set attr` is refused when used."""
    from testkit import write_behind

    cli = example_cluster
    write_behind(
        cli.url,
        "INSERT INTO global_attrs (name, value) VALUES ('vm_mac_base_addr', '01:00:5e:00:00:00')",
    )
    line = error_line(cli("add", "host", "vm", "vm-container-0-0"))
    assert "multicast" in line and "vm_mac_base_addr" in line
    assert vm_count(cli) == 0


@pytest.mark.parametrize("name", ["vm_mac_base_addr", "vm_mac_base_addr_mask"])
def test_a_base_or_mask_that_is_no_mac_is_refused_when_set(example_cluster: Any, name: str) -> None:
    line = error_line(example_cluster("set", "attr", name, "52:54:00"))
    assert name in line
