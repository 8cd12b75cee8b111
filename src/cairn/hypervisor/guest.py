"""`Guest`: one libvirt domain and the verbs Cairn applies to it.

Each verb translates libvirt errors through `classify`. Verbs that can cheaply
tell that there is nothing to do return False instead of failing (Ansible
style) and True when they changed something: launch, poweroff, shutdown,
pause, resume, managed_save, remove_managed_save, set_autostart, undefine.
reset, reboot, restart, save and restore always act and return None. The state check
and the action are two calls: a concurrent change in between surfaces as the
error libvirt gives (usually InvalidState).

Listing many domains belongs in `listing`; building XML belongs in `domainxml`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import libvirt
from lxml import etree

from cairn import metadata
from cairn.hypervisor._xml import parse
from cairn.hypervisor.connections import where
from cairn.hypervisor.errors import (
    HypervisorError,
    InvalidState,
    LeftOff,
    OperationTimeout,
    classify,
)
from cairn.hypervisor.states import ACTIVE, State, from_libvirt
from cairn.hypervisor.waiting import wait_until
from cairn.metadata import StartOrder

T = TypeVar("T")
_STOPPED = frozenset({State.SHUTOFF, State.SAVED, State.UNDEFINED})


def cpuset(bits: Sequence[bool]) -> str:
    """libvirt's cpuset syntax for a CPU map: (T, T, T, F, T) -> "0-2,4"."""
    cpus = [i for i, on in enumerate(bits) if on]
    ranges: list[str] = []
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        ranges.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(ranges)


@dataclass(frozen=True)
class Display:
    """A graphics device: vnc or spice, its TCP port, the address it listens on
    ("" when libvirt's default, qemu.conf's vnc_listen, applies)."""

    kind: str
    port: int
    listen: str


class Guest:
    def __init__(self, domain: libvirt.virDomain) -> None:
        self._dom = domain

    def __repr__(self) -> str:
        return f"Guest({self.name!r})"

    @property
    def name(self) -> str:
        return str(self._dom.name())

    def domain_type(self) -> str:
        """The hypervisor the running guest uses: kvm, or qemu (TCG: emulated CPUs)."""
        return str(parse(self.xml()).get("type", ""))

    def uuid(self) -> str:
        return str(self._do("read the UUID of", self._dom.UUIDString))

    @classmethod
    def lookup(cls, conn: libvirt.virConnect, name: str) -> Guest:
        """The guest called `name`; DomainNotFound if it is not defined there."""
        try:
            return cls(conn.lookupByName(name))
        except libvirt.libvirtError as exc:
            raise classify(exc, f"cannot find guest {name} on {where(conn)}") from None

    @classmethod
    def define(cls, conn: libvirt.virConnect, xml: str) -> Guest:
        """Define (or redefine: same name and UUID) a persistent guest from domain XML."""
        try:
            return cls(conn.defineXML(xml))
        except libvirt.libvirtError as exc:
            raise classify(exc, f"cannot define guest on {where(conn)}") from None

    @staticmethod
    def restore(conn: libvirt.virConnect, path: str) -> None:
        """Start a guest from a `save` image at `path` on the container."""
        try:
            conn.restore(path)
        except libvirt.libvirtError as exc:
            raise classify(exc, f"cannot restore guest from {path} on {where(conn)}") from None

    def _do(self, verb: str, call: Callable[..., T], *args: Any) -> T:
        try:
            return call(*args)
        except libvirt.libvirtError as exc:
            context = f"cannot {verb} guest {self.name} on {where(self._dom.connect())}"
            raise classify(exc, context) from None

    def _refuse(self, verb: str, state: State, hint: str = "") -> InvalidState:
        return InvalidState(f"cannot {verb} guest {self.name}: it is {state}{hint}")

    def state(self) -> State:
        """The current state; SAVED if shut off with a managed-save image, UNDEFINED if gone."""
        return self._state(with_saved=True)

    def _state(self, with_saved: bool = False) -> State:
        # Verbs that do not care whether a shut-off guest is SAVED skip that
        # query: one round trip less per VM over ssh.
        try:
            code, _reason = self._dom.state(0)
            saved = (
                with_saved
                and code == libvirt.VIR_DOMAIN_SHUTOFF
                and bool(self._dom.hasManagedSaveImage(0))
            )
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return State.UNDEFINED
            context = f"cannot read state of guest {self.name} on {where(self._dom.connect())}"
            raise classify(exc, context) from None
        return from_libvirt(code, saved)

    def launch(self) -> bool:
        """Start the guest (from its managed-save image if it has one); False if active."""
        if self._state() in ACTIVE:
            return False
        self._do("start", self._dom.create)
        return True

    def poweroff(self) -> bool:
        """Pull the plug (virDomainDestroy); False if not active."""
        if self._state() not in ACTIVE:
            return False
        self._do("power off", self._dom.destroy)
        return True

    def shutdown(self, timeout: float) -> bool:
        """ACPI shutdown, then wait up to `timeout` s for shutoff; False if already off.

        Raises InvalidState for a paused or pm-suspended guest (it cannot react
        to ACPI) and OperationTimeout if it is still up when time runs out.
        """
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0, not {timeout}")
        state = self._state()
        if state in _STOPPED and state is not State.UNDEFINED:
            return False
        if state in (State.PAUSED, State.PMSUSPENDED):
            raise self._refuse("shut down", state, "; resume it or power it off")
        self._do("shut down", self._dom.shutdown)
        if not wait_until(lambda: self._state() in _STOPPED, timeout):
            raise OperationTimeout(
                f"guest {self.name} did not stop within {timeout:g} s; power it off instead"
            )
        return True

    def reset(self) -> None:
        """Hard reset, like the reset button: no guest cooperation, no state change."""
        self._do("reset", self._dom.reset, 0)

    def reboot(self) -> None:
        """Ask the guest to reboot (ACPI or agent, libvirt's choice); does not wait."""
        self._do("reboot", self._dom.reboot, 0)

    def reboot_ends(self) -> bool:
        """Whether a reboot ends the running guest instead (its on_reboot is
        destroy, as an install's is): libvirt's reset and reboot would end it."""
        return parse(self.xml()).findtext("on_reboot") == "destroy"

    def end_on_reboot(self) -> None:
        """From now on, a reboot of the running guest ends it (its live
        on_reboot becomes destroy); its definition is left as it is."""
        self._do(
            "make its reboot end it",
            self._dom.setLifecycleAction,
            libvirt.VIR_DOMAIN_LIFECYCLE_REBOOT,
            libvirt.VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY,
            libvirt.VIR_DOMAIN_AFFECT_LIVE,
        )

    def restart(self) -> None:
        """A cold restart: power off (virDomainDestroy), then start again from the
        persistent definition, a new QEMU. InvalidState if it is not active, or
        not persistent (a transient guest, once off, is gone); LeftOff if it did
        not start again."""
        state = self._state()
        if state not in ACTIVE:
            raise self._refuse("restart", state)
        if not self._do("inspect", self._dom.isPersistent):
            raise InvalidState(
                f"cannot restart guest {self.name}: it is not defined (only running),"
                " so it would not start again"
            )
        self._do("power off", self._dom.destroy)
        try:
            self._do("start again", self._dom.create)
        except HypervisorError as exc:
            raise LeftOff(f"{exc}; it is off now", exc.code) from None

    def pause(self) -> bool:
        """Suspend the vCPUs; False if already paused, InvalidState if not active."""
        state = self._state()
        if state is State.PAUSED:
            return False
        if state not in ACTIVE:
            raise self._refuse("pause", state)
        self._do("pause", self._dom.suspend)
        return True

    def resume(self) -> bool:
        """Resume paused vCPUs; False if running, InvalidState otherwise (start it instead)."""
        state = self._state()
        if state in (State.RUNNING, State.BLOCKED):
            return False
        if state is not State.PAUSED:
            raise self._refuse("resume", state)
        self._do("resume", self._dom.resume)
        return True

    def managed_save(self) -> bool:
        """Save memory to libvirt's managed image and stop; `launch` resumes from it.

        False if already saved; InvalidState if not active (nothing to save).
        """
        state = self.state()
        if state is State.SAVED:
            return False
        if state not in ACTIVE:
            raise self._refuse("save", state)
        self._do("save", self._dom.managedSave, 0)
        return True

    def has_managed_save(self) -> bool:
        return bool(self._do("inspect", self._dom.hasManagedSaveImage, 0))

    def remove_managed_save(self) -> bool:
        """Discard the managed-save image (next start is a cold boot); False if none."""
        if not self.has_managed_save():
            return False
        self._do("discard saved state of", self._dom.managedSaveRemove, 0)
        return True

    def save(self, path: str) -> None:
        """Save memory to `path` on the container and stop; see `Guest.restore`."""
        self._do("save", self._dom.save, path)

    def autostart(self) -> bool:
        return bool(self._do("inspect", self._dom.autostart))

    def set_autostart(self, enabled: bool) -> bool:
        """Start with the container's libvirtd or not; False if already so."""
        if self.autostart() == enabled:
            return False
        self._do("set autostart of", self._dom.setAutostart, int(enabled))
        return True

    def migrate(
        self,
        dest: libvirt.virConnect,
        *,
        live: bool,
        copy_storage: bool = False,
        max_downtime_ms: int | None = None,
        auto_converge: bool = False,
    ) -> None:
        """Move the running guest to the `dest` container: defined there, undefined here.

        Without `live` the guest is paused while its memory is copied. Its disks
        must be reachable there (shared storage) unless `copy_storage`. With
        `live`, `max_downtime_ms` is how long the guest may stay paused while
        its last memory is copied (QEMU's downtime limit; its own is 300 ms),
        and `auto_converge` lets libvirt slow down a guest that writes memory
        faster than it is copied, until the rest fits in that pause.
        """
        flags = (
            libvirt.VIR_MIGRATE_PERSIST_DEST
            | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
            | (libvirt.VIR_MIGRATE_LIVE if live else 0)
            | (libvirt.VIR_MIGRATE_AUTO_CONVERGE if live and auto_converge else 0)
            | (libvirt.VIR_MIGRATE_NON_SHARED_DISK if copy_storage else 0)
        )
        if live and max_downtime_ms is not None:
            # Set before the migration starts: libvirt keeps it for the migration
            # (and restores it, should the migration fail).
            self._do("set the migration downtime of", self._dom.migrateSetMaxDowntime,
                     max_downtime_ms, 0)  # fmt: skip
        try:
            self._do("migrate", self._dom.migrate, dest, flags, None, None, 0)
        except HypervisorError as exc:
            if exc.code != libvirt.VIR_ERR_MIGRATE_UNSAFE or copy_storage:
                raise
            hint = (
                "for disks local to the container use copy-storage=yes; on shared storage,"
                " libvirt wants cache='none' on the disks"
            )
            raise HypervisorError(f"{exc} ({hint})", exc.code) from None

    def vcpu_pins(self) -> list[str]:
        """Per vCPU, the host CPUs it may run on ("0", "1-2"); live if running."""
        maps = self._do("read vcpu pinning of", self._dom.vcpuPinInfo, 0)
        return [cpuset(bits) for bits in maps]

    def xml(self, inactive: bool = False) -> str:
        """The domain XML: live if running, or the persistent config with `inactive`."""
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        return str(self._do("read XML of", self._dom.XMLDesc, flags))

    def block_resize(self, device: str, size_bytes: int) -> None:
        """Grow a disk of the running guest (image and the guest's view at once)."""
        self._do(f"resize disk {device} of", self._dom.blockResize, device, size_bytes,
                 libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)  # fmt: skip

    def attach_disk(self, xml: str, live: bool) -> None:
        """Add a <disk> to the definition, and to the running guest with `live`."""
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if live else 0)
        self._do("attach a disk to", self._dom.attachDeviceFlags, xml, flags)

    def detach_disk(self, xml: str, live: bool) -> None:
        """Remove a <disk> from the definition, and ask the running guest to let it go."""
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG | (libvirt.VIR_DOMAIN_AFFECT_LIVE if live else 0)
        self._do("detach a disk from", self._dom.detachDeviceFlags, xml, flags)

    def disk_devices(self, inactive: bool = False) -> dict[str, str]:
        """{target device: source path} of the guest's disks (cdroms left out)."""
        out = {}
        for d in parse(self.xml(inactive)).iterfind("devices/disk[@device='disk']"):
            source = d.find("source")
            target = d.find("target")
            if target is not None and source is not None:
                out[target.get("dev", "")] = source.get("file") or source.get("dev") or ""
        return out

    def start_order(self) -> StartOrder | None:
        """cairn's start order from the domain's metadata; None if cairn did not
        define this domain (it carries no cairn metadata)."""
        try:
            text = self._dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, metadata.NS, 0)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
                return None
            context = f"cannot read metadata of guest {self.name} on {where(self._dom.connect())}"
            raise classify(exc, context) from None
        return metadata.parse(str(text))

    def displays(self) -> list[Display]:
        """The guest's graphics devices as running (port -1: none assigned)."""
        out = []
        for g in parse(self.xml()).iterfind("devices/graphics"):
            listen = g.find("listen")
            address = listen.get("address") if listen is not None else None
            out.append(
                Display(
                    kind=g.get("type", ""),
                    port=int(g.get("port", "-1") or -1),
                    listen=address or g.get("listen") or "",
                )
            )
        return out

    def undefine(self) -> bool:
        """Remove the persistent definition; False if already undefined.

        The managed-save image goes too: it belongs to this definition and must
        never resume under a new one. Disks and UEFI variables (NVRAM) stay,
        like every data file. A running guest keeps running, as a transient one.
        """
        if self._state() is State.UNDEFINED:
            return False
        # Snapshot metadata goes too (libvirt refuses otherwise); the snapshots
        # themselves stay inside the qcow2 images, like the disks.
        flags = (
            libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        )
        if self._has_nvram():
            flags |= libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
        self._do("undefine", self._dom.undefineFlags, flags)
        return True

    def _has_nvram(self) -> bool:
        tree: etree._Element = parse(self.xml(inactive=True))
        return tree.find("os/nvram") is not None
