"""`start host vm` issues the same number of SQL statements for one VM as for
ten, whether the VMs are fresh or still marked allocated (gone without cairn
while nothing watched): allocation, containers and interfaces are read, locked
and written for all the VMs at once.

Counted in real processes with CAIRN_SQL_COUNT=1 (testkit.statements). Each
process has its own libvirt test:///default host, gone when it exits, so the
second start of the same VMs finds them undefined and still marked allocated,
as after a crash of their container.
"""

from __future__ import annotations

from typing import Any

from testkit import statements


def test_start_counts_do_not_grow_with_vms_fresh_or_still_allocated(
    example_cluster: Any,
) -> None:
    cli = example_cluster
    for container in ("vm-container-0-0", "vm-container-0-1"):
        cli.ok("add", "host", "interface", container, "eth0", "subnet=private")
        cli.ok("set", "host", "attr", container, "kvm_connection", "test:///default")
    cli.ok("add", "host", "vm", "vm-container-0-0", "mem=64")
    for _ in range(10):
        cli.ok("add", "host", "vm", "vm-container-0-1", "mem=64")

    fresh_one, out = statements(cli, "start", "host", "vm", "hosted-vm-0-0-*")
    assert out.count("started") == 1, out
    fresh_ten, out = statements(cli, "start", "host", "vm", "hosted-vm-0-1-*")
    assert out.count("started") == 10, out
    assert fresh_ten == fresh_one

    held_one, out = statements(cli, "start", "host", "vm", "hosted-vm-0-0-*")
    assert out.count("started") == 1, out
    held_ten, out = statements(cli, "start", "host", "vm", "hosted-vm-0-1-*")
    assert out.count("started") == 10, out
    assert held_ten == held_one
    assert held_one <= fresh_one + 1  # the one locking read of the held rows
    listed = cli.ok("list", "host", "vm", "hosted-vm-0-1-*", "output-header=no")
    assert len(listed.splitlines()) == 10
