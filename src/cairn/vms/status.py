"""Live state of VMs: one domain listing per container, containers in parallel.

A container that cannot be reached shows as such; the others still list.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cairn.db.models import VM


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
        for vm in vms:
            states = listed[uris[vm.container_id]]
            out[vm.id] = (
                states if isinstance(states, str) else states.get(vm.host.name, "undefined")
            )
    return out
