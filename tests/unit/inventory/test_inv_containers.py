"""Which hosts may run VMs: read without resolving every host, yet the same
answer as resolving every host and asking `is_container` of each."""

from __future__ import annotations

from typing import Any

import pytest

from testkit import reading


def capable_the_long_way(session: Any) -> list[str]:
    from sqlalchemy import select

    from cairn.attrs.resolve import resolve
    from cairn.db.models import Host
    from cairn.inventory.containers import is_container

    hosts = list(session.execute(select(Host).order_by(Host.name)).scalars())
    resolved = resolve(session, hosts)
    return [h.name for h in hosts if is_container(h, resolved[h.id])]


def capable(url: str) -> tuple[list[str], list[str]]:
    from cairn.inventory.reach import vm_capable

    with reading(url) as session:
        return [h.name for h in vm_capable(session)], capable_the_long_way(session)


@pytest.mark.parametrize(
    ("settings", "more"),
    [
        ([], []),
        ([("set", "appliance", "attr", "compute", "kvm", "true")], ["compute-0-0"]),
        ([("set", "os", "attr", "linux", "kvm", "true")], ["compute-0-0", "compute-0-1", "vm"]),
        ([("set", "attr", "kvm", "yes")], ["compute-0-0", "compute-0-1", "vm"]),
        ([("set", "host", "attr", "compute-0-1", "kvm", "true")], ["compute-0-1"]),
        (
            [
                ("set", "appliance", "attr", "compute", "kvm", "true"),
                ("set", "host", "attr", "compute-0-0", "kvm", "false"),
            ],
            ["compute-0-1"],
        ),
        ([("set", "host", "attr", "vm-container-0-0", "kvm", "false")], []),
    ],
)
def test_the_containers_are_those_every_host_resolved_would_give(
    example_cluster: Any, settings: list[tuple[str, ...]], more: list[str]
) -> None:
    c = example_cluster
    for words in settings:
        c.ok(*words)
    quick, long_way = capable(c.url)
    assert quick == long_way
    for name in more:
        assert name in quick
    assert "vm-container-0-0" in quick  # its appliance makes it one, whatever kvm says


def test_a_network_is_reached_as_asking_every_container_would_say(example_cluster: Any) -> None:
    """`reached` reads only hosts with an interface that could carry the
    network; its answer is that of asking `why_not` of every container."""
    from sqlalchemy import select

    from cairn.db.models import Network
    from cairn.inventory.reach import reached, vm_capable, why_not

    c = example_cluster
    c.ok("add", "network", "lab", "subnet=198.18.40.0/24", "isolation=vxlan", "id=40")
    c.ok("add", "network", "flat", "subnet=198.18.41.0/24", "bridge=br-flat")
    c.ok("add", "host", "interface", "compute-0-0", "eth5", "subnet=flat", "ip=198.18.41.5")
    answers = {}
    with reading(c.url) as session:
        for network in session.execute(select(Network)).scalars():
            every = any(why_not(network, h) is None for h in vm_capable(session))
            assert reached(session, network) == every, network.name
            answers[network.name] = every
    assert answers["flat"] is False  # only a compute, which runs no VMs, is on it
    c.ok("add", "host", "interface", "vm-container-0-1", "eth5", "subnet=flat", "ip=198.18.41.6")
    with reading(c.url) as session:
        (flat,) = session.execute(select(Network).where(Network.name == "flat")).scalars()
        assert reached(session, flat) is True
