"""`report host vm config` issues a fixed number of SQL statements (cairn.vms.config:
"a fixed number of queries whatever the number of VMs or of kvm_device_N attributes").

Counted in real processes with CAIRN_SQL_COUNT=1, which prints `sql-statements: N` on
stderr at exit.
"""

from __future__ import annotations

from typing import Any

from testkit import statements

RNG = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"


def test_the_count_does_not_grow_with_device_attributes(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0")
    cli.ok("set", "host", "attr", "hosted-vm-0-0-0", "kvm_device_0", RNG)
    one, out = statements(cli, "report", "host", "vm", "config", "hosted-vm-0-0-0")
    assert out.count("<rng ") == 1
    assert one > 0
    for number in range(1, 20):
        cli.ok("set", "host", "attr", "hosted-vm-0-0-0", f"kvm_device_{number}", RNG)
    twenty, out = statements(cli, "report", "host", "vm", "config", "hosted-vm-0-0-0")
    assert out.count("<rng ") == 20
    assert twenty == one
    # Spread over the other scopes, still the same.
    for number in range(20, 30):
        cli.ok("set", "appliance", "attr", "hosted-vm", f"kvm_device_{number}", RNG)
        cli.ok("set", "attr", f"kvm_device_{number + 10}", RNG)
    forty, out = statements(cli, "report", "host", "vm", "config", "hosted-vm-0-0-0")
    assert out.count("<rng ") == 40
    assert forty == one


def test_the_count_does_not_grow_with_vms(example_cluster: Any) -> None:
    cli = example_cluster
    for container in ("vm-container-0-0", "vm-container-0-1"):  # both reach private
        cli.ok("add", "host", "interface", container, "eth0", "subnet=private")
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=2", "subnet=private")
    one, out = statements(cli, "report", "host", "vm", "config", "hosted-vm")
    assert out.count("<domain ") == 1
    for i in range(9):
        cli.ok("add", "host", "vm", f"vm-container-0-{i % 2}", "num-macs=2", "subnet=private")
    cli.ok("set", "host", "attr", "hosted-vm-0-*", "kvm_device_0", RNG)
    cli.ok("set", "host", "vm", "cdrom", "hosted-vm-0-0-0", "cdrom=/isos/a.iso")
    ten, out = statements(cli, "report", "host", "vm", "config", "hosted-vm")
    assert out.count("<domain ") == 10 and out.count("<rng ") == 10
    assert ten == one


def test_list_host_vm_count_does_not_grow_with_vms(example_cluster: Any) -> None:
    cli = example_cluster
    cli.ok("add", "host", "vm", "vm-container-0-0", "num-macs=2", "disk=file:/a.img")
    one, out = statements(cli, "list", "host", "vm", "showdisks=yes", "output-header=no")
    assert len(out.splitlines()) == 2  # a row for the second MAC
    for i in range(9):
        cli.ok("add", "host", "vm", f"vm-container-0-{i % 2}", "num-macs=2", f"disk=file:/b{i}.img")
    ten, out = statements(cli, "list", "host", "vm", "showdisks=yes", "output-header=no")
    assert len(out.splitlines()) == 20
    assert ten == one
    some, out = statements(cli, "list", "host", "vm", "hosted-vm-0-1-*", "output-header=no")
    assert len(out.splitlines()) == 8
    assert some <= one + 1  # naming the VMs may add the lookup of the names
