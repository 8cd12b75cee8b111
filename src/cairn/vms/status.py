"""Live state of VMs: one domain listing per container, up to ASKERS at a time
(one that does not answer costs its connect time-out, not that times the others).

A listing (`fact_states`) takes the states the service's watcher heard
(`cairn.hypervisor.heard`) for the containers it follows and cairn did not just
use: the same answer, no round trip. Commands that act on a state
(`live_states`) always ask.

A container that cannot be reached shows as such, with what the watcher did
about it (its kvm_ha_status: fenced, restarted, or why not); the others still list.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from cairn.db.hostfacts import HostFacts
from cairn.db.models import VM, Host, HostAttr
from cairn.vms.facts import VMFacts

ASKERS = 32  # containers asked at once


def live_states(session: Session, vms: Sequence[VM]) -> dict[int, str]:
    """{VM id: live state} of mapped VM rows."""
    named = [(vm.id, vm.host.name, vm.container_id) for vm in vms]
    return _states(session, named, [vm.container for vm in vms], heard_ok=False)


def fact_states(session: Session, facts: Sequence[VMFacts]) -> dict[int, str]:
    """{VM id: live state} of plain facts: their containers' facts are read,
    no row mapped (mapping 10,000 VMs costs seconds, 500 containers a tenth)."""
    from cairn.inventory.hostwords import facts_by_id

    found = facts_by_id(session, sorted({f.container_id for f in facts}))
    named = [(f.id, f.host.name, f.container_id) for f in facts]
    return _states(session, named, found, heard_ok=True)


def _states(
    session: Session,
    vms: Sequence[tuple[int, str, int]],
    containers: Sequence[Host] | Sequence[HostFacts],
    *,
    heard_ok: bool,
) -> dict[int, str]:
    """vms: (VM id, name, container id) each; `heard_ok`: the watcher's states will do."""
    from concurrent.futures import ThreadPoolExecutor

    from cairn.hypervisor import heard
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.errors import HypervisorError
    from cairn.hypervisor.listing import list_states
    from cairn.inventory.containers import container_uris

    uris = container_uris(session, containers)
    out: dict[int, str] = {}
    listed: dict[str, dict[str, str] | str] = {}
    if heard_ok:
        listed.update(heard.states(set(uris.values())))
    with Connections() as conns:

        def ask(uri: str) -> tuple[str, dict[str, str] | str]:
            try:
                return uri, {k: str(v) for k, v in list_states(conns.get(uri)).items()}
            except HypervisorError:
                return uri, "unreachable"

        asked = sorted(set(uris.values()) - set(listed))
        if asked:
            with ThreadPoolExecutor(min(len(asked), ASKERS)) as pool:
                listed.update(pool.map(ask, asked))
        said = _ha_status(session, containers)
        for vm_id, name, container_id in vms:
            states = listed[uris[container_id]]
            out[vm_id] = states if isinstance(states, str) else states.get(name, "undefined")
            if isinstance(states, str) and container_id in said:
                out[vm_id] += f" ({said[container_id]})"
    return out


def _ha_status(
    session: Session, containers: Sequence[Host] | Sequence[HostFacts]
) -> dict[int, str]:
    """{container id: what the watcher did about it being dead} (cairn.lifecycle.failover)."""
    from sqlalchemy import select

    from cairn.attrs.escape import unescape

    ids = {c.id for c in containers}
    rows = session.execute(
        select(HostAttr.host_id, HostAttr.value).where(HostAttr.name == "kvm_ha_status")
    )
    return {host_id: unescape(value) for host_id, value in rows if host_id in ids}
