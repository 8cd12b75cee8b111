"""Container shutdown and boot (seed: Host Autorestart), from libvirt alone.

The libvirt autostart flag of a domain is what says a VM should come back:
`start host vm` sets it from kvm_autostart and `stop host vm` clears it.

Shutdown: every running autostart VM is paused and saved (libvirt managed
save), in parallel with a bound and a timeout; a VM that cannot be saved
(full disk, timeout) is shut down instead and reported. Other VMs get an ACPI
shutdown, then are powered off if they ignore it.
Boot: every autostart VM that is not running is started: restored from its
saved image where it has one, booted normally otherwise. Idempotent, so it
does not fight libvirtd's own autostart at daemon start.

Order (kvm_start_order / kvm_start_delay, kept in each VM's domain metadata):
boot starts the groups from the lowest order up, VMs without an order last,
and waits a group's largest delay before the next group; shutdown goes the
other way round, group by group (VMs without an order first), each group in
parallel. Shutdown acts only on the domains cairn defined (they carry its
metadata) unless `everything`; without `act` it only says what it would do.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cairn.errors import CairnError
from cairn.hypervisor.errors import OperationTimeout
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.listing import guests as list_guests
from cairn.hypervisor.states import ACTIVE, State
from cairn.metadata import StartOrder

if TYPE_CHECKING:
    import libvirt

_DEAF = (State.PAUSED, State.PMSUSPENDED)  # states in which a guest cannot see ACPI


@dataclass
class Row:
    vm: str
    action: str
    result: str
    failed: bool = False
    order: int | None = None

    def row(self) -> tuple[str, str, str, str]:
        return (self.vm, "-" if self.order is None else str(self.order), self.action, self.result)


PLANNED = "not done: add yes=true to do it"
_LAST = 10**9  # where VMs without an order go in the boot order


def _groups(guests: list[Guest]) -> list[tuple[int | None, int, list[Guest]]]:
    """[(order, delay, guests)] in boot order: lowest order first, no order last."""
    found: dict[int | None, list[tuple[Guest, int]]] = {}
    for g in guests:
        start = g.start_order() or StartOrder()
        found.setdefault(start.order, []).append((g, start.delay))
    ordered = sorted(found, key=lambda o: _LAST if o is None else o)
    return [
        (o, max(d for _, d in found[o]), sorted((g for g, _ in found[o]), key=lambda g: g.name))
        for o in ordered
    ]


def _shut_down(guest: Guest, timeout: float, why: str = "") -> Row:
    try:
        try:
            guest.shutdown(timeout)
            return Row(guest.name, "shutdown", f"{why}shut down", bool(why))
        except OperationTimeout:  # the guest ignored ACPI: pull the plug
            reason = f"no ACPI shutdown within {timeout:g} s"
        except CairnError as exc:  # paused or suspended, or libvirt refused: pull the plug
            state = guest.state()
            reason = f"{state}: it cannot react to ACPI" if state in _DEAF else str(exc)
        if not guest.poweroff():  # it went off by itself meanwhile
            return Row(guest.name, "shutdown", f"{why}shut down", bool(why))
        return Row(guest.name, "shutdown", f"{why}powered off ({reason})", bool(why))
    except CairnError as exc:
        return Row(guest.name, "shutdown", f"{why}failed: {exc}", True)


def _save(guest: Guest, timeout: float, saver: ThreadPoolExecutor) -> Row:
    future = saver.submit(guest.managed_save)
    try:
        future.result(timeout=timeout)
        return Row(guest.name, "save", "saved")
    except FutureTimeout:
        why = f"could not save within {timeout:g} s; "
    except CairnError as exc:
        why = f"could not save ({exc}); "
    return _shut_down(guest, timeout, why)


def shutdown(
    conn: libvirt.virConnect,
    *,
    timeout: float = 300.0,
    parallel: int = 4,
    progress: Callable[[int, int, str], None] | None = None,
    everything: bool = False,
    act: bool = True,
) -> list[Row]:
    """Save or shut down the running VMs, group by group in reverse start order."""
    guests = [
        g for g in list_guests(conn, active=True) if everything or g.start_order() is not None
    ]
    groups = list(reversed(_groups(guests)))
    rows: list[Row] = []
    total = sum(len(members) for _, _, members in groups)
    with (
        ThreadPoolExecutor(max_workers=max(1, parallel)) as pool,
        ThreadPoolExecutor(max_workers=max(1, parallel)) as saver,
    ):
        for order, _delay, members in groups:
            if not act:
                rows += [
                    Row(g.name, "save" if g.autostart() else "shutdown", PLANNED, False, order)
                    for g in members
                ]
                continue
            futures = [
                pool.submit(_save if g.autostart() else _shut_down_plain, g, timeout, saver)
                for g in members
            ]
            for future in futures:  # the whole group is down before the next starts
                row = future.result()
                row.order = order
                rows.append(row)
                if progress:
                    progress(len(rows), total, row.vm)
    return rows


def _shut_down_plain(guest: Guest, timeout: float, _saver: object) -> Row:
    return _shut_down(guest, timeout)


def boot(conn: libvirt.virConnect, sleep: Callable[[float], None] = time.sleep) -> list[Row]:
    """Start the autostart VMs group by group, waiting each group's delay after it."""
    rows: list[Row] = []
    groups = _groups(list_guests(conn, autostart=True))
    for i, (order, delay, members) in enumerate(groups):
        started = False
        for guest in members:
            row = _boot_one(guest)
            row.order = order
            started |= not row.failed and not row.result.startswith("already")
            rows.append(row)
        if started and delay and i + 1 < len(groups):
            sleep(delay)
    return rows


def _boot_one(guest: Guest) -> Row:
    state = guest.state()
    if state in ACTIVE:
        return Row(guest.name, "boot", f"already {state}")
    saved = guest.has_managed_save()
    try:
        guest.launch()
        return Row(guest.name, "boot", "restored" if saved else "booted")
    except CairnError as exc:
        if not saved:
            return Row(guest.name, "boot", f"failed: {exc}", True)
        # A saved image that cannot be restored must not keep the VM down.
        try:
            guest.remove_managed_save()
            guest.launch()
            return Row(guest.name, "boot", f"booted (saved image unusable: {exc})")
        except CairnError as again:
            return Row(guest.name, "boot", f"failed: {again}", True)
