"""Example plugin_disallocate: release what the example plugin_allocate recorded.

Removes the VM's host attribute `cairn_allocated_on`. Its memory stops
counting on the container as soon as this returns, because cairn then marks
the VM as no longer allocated. A VM that holds no record (started before the
plugins were installed) is fine: there is nothing to release.

cairn runs this exactly once per allocation: after `stop host vm`, after a
start that failed after allocate, or with `stop host vm ... terminate=yes`.

Install: copy to <plugin dir>/stop/host/vm/plugin_disallocate.py, owned by
root, mode 0644 (see docs/plugins.md).
"""

from __future__ import annotations

from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, get, remove

RECORD = "cairn_allocated_on"


def run(*, session, vm, reason):
    owner = Owner(Scope.HOST, vm.host.id, vm.host.name)
    if get(session, owner, RECORD) is not None:
        remove(session, owner, RECORD)
