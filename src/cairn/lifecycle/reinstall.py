"""A running VM set to install: its next reboot installs, and the install's ends it.

A VM started to boot its OS runs with on_reboot restart (cairn.designer): its
reboots are new boots of the same QEMU. Set to install afterwards (`set host
boot action=install`, then a reboot from inside or `stop host vm
action=reboot`, as Rocks' administrators reinstall a node), its next reboot
PXE-boots the installer, whose own reboot at the end would boot the installer
again, forever. So when the watcher hears such a VM reboot (libvirt's REBOOT
event), its live on_reboot becomes destroy, as if it had been started to
install: the install that begins ends its domain, and the watcher then sets
its boot to os (cairn.lifecycle.stopped). Its definition is not changed: the
next `start host vm` defines it anew from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import libvirt
from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host
from cairn.hypervisor.guest import Guest
from cairn.inventory.containers import container_uris

Read = Callable[[], AbstractContextManager[Session]]


def end_install_on_reboot(
    read: Read, connect: Callable[[str], libvirt.virConnect], uri: str, name: str
) -> bool:
    """After domain `name` at `uri` rebooted: if it is a cairn VM allocated there
    and set to install whose reboots do not end it, they end it from now on
    (over `connect(uri)`: the watcher's own connection to it). Whether that was
    done; CairnError if its container could not do it."""
    with read() as session:
        vm = session.execute(
            select(VM).join(VM.host).where(Host.name == name, VM.allocated.is_(True))
        ).scalar_one_or_none()
        if vm is None or vm.host.boot != "install":
            return False
        if container_uris(session, [vm.container]).get(vm.container_id) != uri:
            return False  # an old copy elsewhere, not the VM
    guest = Guest.lookup(connect(uri), name)
    if guest.reboot_ends():
        return False
    guest.end_on_reboot()
    return True
