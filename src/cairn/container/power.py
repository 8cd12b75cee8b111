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
"""

from __future__ import annotations

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

if TYPE_CHECKING:
    import libvirt

_DEAF = (State.PAUSED, State.PMSUSPENDED)  # states in which a guest cannot see ACPI


@dataclass
class Row:
    vm: str
    action: str
    result: str
    failed: bool = False

    def row(self) -> tuple[str, str, str]:
        return (self.vm, self.action, self.result)


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
) -> list[Row]:
    guests = list_guests(conn, active=True)
    rows: list[Row] = []
    with (
        ThreadPoolExecutor(max_workers=max(1, parallel)) as pool,
        ThreadPoolExecutor(max_workers=max(1, parallel)) as saver,
    ):
        futures = [
            pool.submit(_save if g.autostart() else _shut_down_plain, g, timeout, saver)
            for g in guests
        ]
        for i, future in enumerate(futures):
            rows.append(future.result())
            if progress:
                progress(i + 1, len(futures), rows[-1].vm)
    return sorted(rows, key=lambda r: r.vm)


def _shut_down_plain(guest: Guest, timeout: float, _saver: object) -> Row:
    return _shut_down(guest, timeout)


def boot(conn: libvirt.virConnect) -> list[Row]:
    rows = []
    for guest in list_guests(conn, autostart=True):
        state = guest.state()
        if state in ACTIVE:
            rows.append(Row(guest.name, "boot", f"already {state}"))
            continue
        saved = guest.has_managed_save()
        try:
            guest.launch()
            rows.append(Row(guest.name, "boot", "restored" if saved else "booted"))
        except CairnError as exc:
            if not saved:
                rows.append(Row(guest.name, "boot", f"failed: {exc}", True))
                continue
            # A saved image that cannot be restored must not keep the VM down.
            try:
                guest.remove_managed_save()
                guest.launch()
                rows.append(Row(guest.name, "boot", f"booted (saved image unusable: {exc})"))
            except CairnError as again:
                rows.append(Row(guest.name, "boot", f"failed: {again}", True))
    return sorted(rows, key=lambda r: r.vm)
