"""Domain states as the service's watcher last heard them, container by container.

`list host vm status=yes` answers from here (`cairn.vms.status`) instead of
asking every container: with a hundred containers, one listing each costs a
round trip over TLS each, this costs none. The watcher fills it: a container's
listing when it subscribes, then each lifecycle event as it comes, on libvirt's
event thread (not after the watcher's queue, where a long disallocate would
make it late); a container lost is forgotten, and is asked again.

A container that a `Connections` handed out in the last SETTLE seconds is not
answered from here: a command's events reach the watcher on another connection
than the command's, so they may still be on their way when the command ends.
Nothing here acts on a state (that is the watcher's business) or asks libvirt.
"""

from __future__ import annotations

import threading
import time

from cairn.hypervisor.connections import last_used
from cairn.hypervisor.events import Changed, Event, Lost
from cairn.hypervisor.states import ACTIVE, State

SETTLE = 5.0  # seconds after cairn itself used a container before its events are trusted

_lock = threading.Lock()
_states: dict[str, dict[str, State]] = {}  # URI -> {domain: state}, once listed
_early: dict[str, list[Changed]] = {}  # URI -> events heard before its listing came


def begin(uri: str) -> None:
    """A subscription to `uri` is being opened: keep its events until `listed`."""
    with _lock:
        _states.pop(uri, None)
        _early[uri] = []


def listed(uri: str, states: dict[str, State]) -> None:
    """The listing the subscription returned; the events heard meanwhile go on
    top of it (each says the state after it, so replaying one that the listing
    already shows changes nothing)."""
    with _lock:
        now = dict(states)
        for event in _early.pop(uri, []):
            _apply(now, event)
        _states[uri] = now


def hear(event: Event) -> None:
    """Called with every event of a subscription, on libvirt's event thread."""
    with _lock:
        if isinstance(event, Lost):
            _forget(event.uri)
        elif isinstance(event, Changed):
            if event.uri in _early:
                _early[event.uri].append(event)
            elif event.uri in _states:
                _apply(_states[event.uri], event)


def forget(uri: str) -> None:
    """Not watched any more: asked again from now on."""
    with _lock:
        _forget(uri)


def states(uris: set[str]) -> dict[str, dict[str, str]]:
    """{URI: {domain: state name}} of those of `uris` answered from here."""
    settled = time.monotonic() - SETTLE
    with _lock:
        return {
            uri: {name: str(state) for name, state in _states[uri].items()}
            for uri in uris
            if uri in _states and last_used(uri) < settled
        }


def _forget(uri: str) -> None:
    _states.pop(uri, None)
    _early.pop(uri, None)


def _apply(states: dict[str, State], event: Changed) -> None:
    was = states.get(event.name, State.UNDEFINED)
    if not event.persistence:
        states[event.name] = event.state
    elif event.state is State.UNDEFINED:
        if was not in ACTIVE:  # undefined while it runs: transient, running on
            states.pop(event.name, None)
    elif was is State.UNDEFINED:  # a new domain is shut off; one defined anew keeps its state
        states[event.name] = State.SHUTOFF
