"""Which VMs a power word names: a host word (name, appliance, glob) or one of
the VM's MACs, as Rocks' `set host power HOST|MAC` took either. Physical hosts
are refused here in one line: cairn has no power control for them (no IPMI).
What belongs here: turning words into VMs; not what is done to them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn import values
from cairn.db.chunks import pieces
from cairn.db.models import VM, Host, Interface
from cairn.errors import CairnError, NotFound
from cairn.inventory import lookup

NO_POWER = "cairn powers only VMs: it has no power control for physical hosts (no IPMI)"


def is_mac(word: str) -> bool:
    try:
        values.mac(word)
    except ValueError:
        return False
    return True


def vms_named(session: Session, words: list[str]) -> list[VM]:
    """The VMs the words name, in the order given, without repeats. A MAC names
    the VM that has it; a host named exactly (or by MAC) that is not a VM is
    refused, naming it; globs and appliance names pick the VMs among their hosts."""
    picked = [
        (word, [_by_mac(session, word)] if is_mac(word) else lookup.hosts(session, [word]))
        for word in words
    ]
    ids = list({h.id for _, hosts in picked for h in hosts})
    vms = {
        vm.host_id: vm
        for piece in pieces(ids)
        for vm in session.execute(select(VM).where(VM.host_id.in_(piece))).scalars()
    }
    out: dict[int, VM] = {}
    for word, hosts in picked:
        exact = len(hosts) == 1 and (is_mac(word) or hosts[0].name == word)
        if exact and hosts[0].id not in vms:
            raise CairnError(f"host {hosts[0].name} is not a virtual machine; {NO_POWER}")
        for host in hosts:
            if host.id in vms:
                out.setdefault(host.id, vms[host.id])
    if words and not out:
        raise NotFound(f"no virtual machine matches {' '.join(words)} (see: cairn list host vm)")
    return list(out.values())


def _by_mac(session: Session, word: str) -> Host:
    mac = values.mac(word)
    found = session.execute(
        select(Host).join(Interface, Interface.host_id == Host.id).where(Interface.mac == mac)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no host has the MAC {mac} (see: cairn list host interface)")
    return found
