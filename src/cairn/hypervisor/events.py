"""libvirt's event loop and the domain events cairn listens to.

libvirt's event loop (`eventloop.start_loop`) must run before connections
that want events are opened. A `Subscription` holds one connection to a
container with keepalives, and turns its lifecycle and close callbacks into
small event objects handed to `sink` (callbacks run on the event thread: the
sink must only queue them): `Changed` for every lifecycle event (what the web
page shows live), `Stopped` besides it when a domain stops (what the watcher
acts on), `Rebooted` when a running domain reboots in place (libvirt's REBOOT
event: the guest rebooted, or was reset), `Lost` when the connection closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from cairn.hypervisor.connections import describe, knock
from cairn.hypervisor.errors import ContainerUnreachable, classify
from cairn.hypervisor.eventloop import start_loop
from cairn.hypervisor.listing import list_states
from cairn.hypervisor.states import State
from cairn.hypervisor.uri import check_uri

# virDomainEventStoppedDetailType -> why the domain stopped.
STOP_REASONS = {
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: "shutdown",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED: "destroyed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_MIGRATED: "migrated",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED: "saved",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED: "failed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT: "from-snapshot",
}
# Stops after which the VM still exists elsewhere (an image, another container).
NOT_GONE = frozenset({"saved", "migrated", "from-snapshot"})


@dataclass(frozen=True)
class Stopped:
    """A domain stopped. `asked`: the host asked for it through QEMU (a reset
    of a domain whose reboot ends it), the guest did not begin it."""

    uri: str
    name: str
    reason: str
    asked: bool = False


@dataclass(frozen=True)
class Lost:
    uri: str
    reason: str


@dataclass(frozen=True)
class Changed:
    """A domain's state after one of its lifecycle events. `persistence`: the
    event was DEFINED or UNDEFINED, which changes whether the domain persists,
    not whether it runs (a running domain defined anew or undefined runs on)."""

    uri: str
    name: str
    state: State
    persistence: bool = False


@dataclass(frozen=True)
class Rebooted:
    """A running domain rebooted and runs on (its on_reboot is restart): a new
    boot of the same QEMU, as after the guest's reboot or a reset."""

    uri: str
    name: str


Event = Stopped | Lost | Changed | Rebooted

# virDomainEventType -> the state a domain is in after it.
_AFTER = {
    libvirt.VIR_DOMAIN_EVENT_DEFINED: State.SHUTOFF,
    libvirt.VIR_DOMAIN_EVENT_UNDEFINED: State.UNDEFINED,
    libvirt.VIR_DOMAIN_EVENT_STARTED: State.RUNNING,
    libvirt.VIR_DOMAIN_EVENT_SUSPENDED: State.PAUSED,
    libvirt.VIR_DOMAIN_EVENT_RESUMED: State.RUNNING,
    libvirt.VIR_DOMAIN_EVENT_STOPPED: State.SHUTOFF,
    libvirt.VIR_DOMAIN_EVENT_SHUTDOWN: State.SHUTDOWN,
    libvirt.VIR_DOMAIN_EVENT_PMSUSPENDED: State.PMSUSPENDED,
    libvirt.VIR_DOMAIN_EVENT_CRASHED: State.CRASHED,
}


_PERSISTENCE = (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED)

_CLOSE_REASONS = {0: "error", 1: "end of file", 2: "keepalive timeout", 3: "client closed"}


class Subscription:
    """Lifecycle events of every domain on one container."""

    def __init__(self, uri: str, sink: Callable[[Event], None]) -> None:
        self.uri = uri
        self._sink = sink
        self._conn: libvirt.virConnect | None = None
        self._callbacks: list[int] = []
        # Domains whose shutdown under way the host asked for (libvirt's
        # SHUTDOWN event, detail HOST, comes before their STOPPED).
        self._asked: set[str] = set()

    def open(self) -> dict[str, State]:
        """Connect, subscribe, and return the domain states as of now."""
        check_uri(self.uri)
        knock(self.uri)
        start_loop()
        try:
            conn = libvirt.open(self.uri)
        except libvirt.libvirtError as exc:
            raise ContainerUnreachable(f"cannot reach {describe(self.uri)}: {exc}") from None
        try:
            if not self.uri.startswith("test:"):
                conn.setKeepAlive(5, 3)
            conn.registerCloseCallback(self._closed, None)
            self._callbacks = [
                conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle, None
                ),
                conn.domainEventRegisterAny(
                    None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._rebooted, None
                ),
            ]
        except libvirt.libvirtError as exc:
            conn.close()
            raise classify(exc, f"cannot watch {describe(self.uri)}") from None
        self._conn = conn
        return list_states(conn)

    def states(self) -> dict[str, State]:
        """The domain states as of now, asked over this subscription's connection."""
        return list_states(self.connection())

    def connection(self) -> libvirt.virConnect:
        """This subscription's open connection (ContainerUnreachable once closed)."""
        if self._conn is None:
            raise ContainerUnreachable(f"{describe(self.uri)} is not watched")
        return self._conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            for callback in self._callbacks:
                conn.domainEventDeregisterAny(callback)
            conn.unregisterCloseCallback()
            conn.close()
        except libvirt.libvirtError:
            pass  # the connection is already gone; nothing left to release

    def _lifecycle(
        self, _conn: object, dom: libvirt.virDomain, event: int, detail: int, _o: object
    ) -> None:
        name = dom.name()
        if event == libvirt.VIR_DOMAIN_EVENT_STOPPED:
            reason = STOP_REASONS.get(detail, f"detail {detail}")
            asked = name in self._asked
            self._asked.discard(name)
            self._sink(Stopped(self.uri, name, reason, asked))
            state = State.SAVED if reason == "saved" else State.SHUTOFF
        elif event == libvirt.VIR_DOMAIN_EVENT_SHUTDOWN and detail == 0:
            state = State.SHUTDOWN  # finished: STOPPED follows
        else:
            if event == libvirt.VIR_DOMAIN_EVENT_SHUTDOWN:
                if detail == libvirt.VIR_DOMAIN_EVENT_SHUTDOWN_HOST:
                    self._asked.add(name)
                else:
                    self._asked.discard(name)
            state = _AFTER.get(event, State.NOSTATE)
        persistence = event in _PERSISTENCE
        self._sink(Changed(self.uri, name, state, persistence))

    def _rebooted(self, _conn: object, dom: libvirt.virDomain, _o: object) -> None:
        self._sink(Rebooted(self.uri, dom.name()))

    def _closed(self, _conn: object, reason: int, _o: object) -> None:
        self._sink(Lost(self.uri, _CLOSE_REASONS.get(reason, str(reason))))
