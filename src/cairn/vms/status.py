"""Live state of VMs: one domain listing per container, containers in parallel.

A container that cannot be reached shows as such, with what the watcher did
about it (its kvm_ha_status: fenced, restarted, or why not); the others still list.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cairn.db.models import VM, Host, HostAttr


def live_states(session: Session, vms: Sequence[VM]) -> dict[int, str]:
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.errors import HypervisorError
    from cairn.hypervisor.listing import list_states
    from cairn.inventory.containers import container_uris

    uris = container_uris(session, [vm.container for vm in vms])
    out: dict[int, str] = {}
    with Connections() as conns:
        listed: dict[str, dict[str, str] | str] = {}
        for uri in set(uris.values()):
            try:
                listed[uri] = {k: str(v) for k, v in list_states(conns.get(uri)).items()}
            except HypervisorError:
                listed[uri] = "unreachable"
        said = _ha_status(session, [vm.container for vm in vms])
        for vm in vms:
            states = listed[uris[vm.container_id]]
            out[vm.id] = (
                states if isinstance(states, str) else states.get(vm.host.name, "undefined")
            )
            if isinstance(states, str) and vm.container_id in said:
                out[vm.id] += f" ({said[vm.container_id]})"
    return out


def _ha_status(session: Session, containers: Sequence[Host]) -> dict[int, str]:
    """{container id: what the watcher did about it being dead} (cairn.lifecycle.failover)."""
    from sqlalchemy import select

    from cairn.attrs.escape import unescape

    ids = {c.id for c in containers}
    rows = session.execute(
        select(HostAttr.host_id, HostAttr.value).where(HostAttr.name == "kvm_ha_status")
    )
    return {host_id: unescape(value) for host_id, value in rows if host_id in ids}
