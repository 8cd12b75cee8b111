"""The watcher: disallocate VMs that stop on their own (seed: plugin_disallocate).

Runs on the frontend and watches every container that holds VMs through
libvirt lifecycle events. A VM that stops by itself (guest power-off, crash,
destroyed outside cairn) gets plugin_disallocate exactly once; a VM that was
saved or migrated does not (libvirt says why it stopped), nor one that runs
again by the time its stop is handled. The stops queued together are released
in one transaction (cairn.lifecycle.stopped): a storm of them is not a
transaction each. A container that goes away is reconnected with exponential
backoff, and after every (re)connect the watcher reconciles: a VM recorded as
allocated there that is neither running nor saved (asked again once its
allocation is read: a start under way when the connection opened has launched
it since) is disallocated. Every state change it hears is also published to
`news` (the web page's live view) and, in the service, kept in `heard` (what
`list host vm status=yes` answers from). The allocation flag in the database,
taken under a row lock, makes sure that together with `stop host vm` a VM is
never released twice.

A container unreachable for its kvm_ha_dead_after seconds is dead: its kvm_ha
VMs are restarted elsewhere once a fence plugin confirms it off
(cairn.lifecycle.failover). When it answers again, the copies it still
defines of VMs restarted elsewhere are destroyed and undefined.

A VM set to install (`set host power ... action=install`) whose guest ends by
itself (a shutdown: its installer rebooted, which ends an install's domain, as
its on_reboot is destroy (cairn.designer) and libvirt reports that stop as
VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN; or it powered off) has finished its
install: its boot is set back to os, as Rocks' installed nodes did in their
post step, so its next start boots its OS (a kernel boot) or is sent to its
disk by PXE (after `sync config`). A crash, a destroy or a reset asked of
libvirt (`virsh reset`, which ends such a domain too: libvirt's SHUTDOWN event
said HOST, not GUEST) leaves it at install. `stop host vm action=reset|reboot`
asks libvirt for neither: it restarts such a VM cold (cairn.lifecycle.stop)
while it holds the VM's row, and the stop that this is heard as is old news
by the time it is handled here: the VM runs again. One set to install while it
ran, whose live domain reboots in place, gets an install's on_reboot when it
reboots (cairn.lifecycle.reinstall), so its install ends the same way.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import libvirt
from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cairn.db.models import VM, Host, HostAttr
from cairn.db.session import Database
from cairn.errors import CairnError
from cairn.hypervisor import heard
from cairn.hypervisor.connections import Connections
from cairn.hypervisor.errors import ContainerUnreachable
from cairn.hypervisor.events import (
    NOT_GONE,
    Changed,
    Event,
    Lost,
    Rebooted,
    Stopped,
    Subscription,
)
from cairn.hypervisor.guest import Guest
from cairn.hypervisor.states import ACTIVE, State
from cairn.inventory.containers import container_uris
from cairn.lifecycle import failover, news, reinstall
from cairn.lifecycle.hooks import Hooks, release_once
from cairn.lifecycle.stopped import release_stopped

log = logging.getLogger("cairn.watch")
BACKOFF_START, BACKOFF_MAX = 1.0, 60.0
BUSY_RETRY = 1.0  # seconds before work the busy database refused is tried again
BATCH = 1000  # queued events handled together at most (their stops in one transaction)
FAILOVER_GRACE = 30.0  # seconds a stopping watcher waits for running fail-overs


class Watcher:
    def __init__(
        self, url: str, *, refresh: float = 60.0, hooks: Hooks | None = None, keep: bool = False
    ) -> None:
        """`keep`: keep the states heard in `heard` (the service's watcher; one
        per process, as a second one would forget what the first still watches)."""
        self.hooks = hooks or Hooks.load(fence=True)  # first: nothing to close if it fails
        # Reads (the containers to watch, what to reconcile) in transactions of
        # their own that do not take SQLite's write lock: a long writing
        # command (a bulk start, an evacuation) holds it from its first
        # statement, and the watcher must not wait behind it to watch. The
        # writer's engine comes first (it makes a database file not there yet),
        # the reader brings the schema up to date (it reads first, unlocked).
        self.db = Database(url, writes=True, ensure=False)
        try:
            self.reader = Database(url, writes=False)
        except BaseException:
            self.db.close()
            raise
        self.keep = keep
        self.refresh = refresh
        self.events: queue.Queue[Event] = queue.Queue()
        self.subs: dict[str, Subscription] = {}
        self.retry: dict[str, tuple[float, float]] = {}  # uri -> (when, next delay)
        self.stopping = threading.Event()
        self.deferred: list[tuple[float, Event]] = []  # events to handle again, and when
        self.down_since: dict[str, float] = {}  # uri -> since when it does not answer
        self.dead_after: dict[str, float] = {}  # uri -> seconds down before it is dead
        self.next_fence: dict[str, float] = {}  # uri -> when to fence it (again)
        self.moved_away: dict[str, set[str]] = {}  # uri -> VMs restarted elsewhere
        # Fail-overs run in threads of their own (a fence may take a minute, and a
        # rack that loses power loses many containers at once); their outcomes
        # come back here: (uri, when to fence again, VMs placed elsewhere).
        self.failing: dict[str, threading.Thread] = {}
        self.failed_over: queue.Queue[tuple[str, float, list[str]]] = queue.Queue()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        next_refresh = 0.0
        try:
            while not self.stopping.is_set() and not (until and until()):
                now = time.monotonic()
                if now >= next_refresh:
                    done = self._busy_safe("listing the containers", self._refresh_containers)
                    next_refresh = now + (self.refresh if done else BUSY_RETRY)
                for uri, (when, _delay) in list(self.retry.items()):
                    if now >= when:
                        self._connect(uri)
                self._fence_the_dead(time.monotonic())
                due = [e for when, e in self.deferred if when <= now]
                self.deferred = [(w, e) for w, e in self.deferred if w > now]
                for event in due:
                    self._handle_or_defer(event)
                try:
                    event = self.events.get(timeout=0.5)
                except queue.Empty:
                    continue
                self._handle_queued([event, *self._queued()])
        finally:
            self.settle(FAILOVER_GRACE)
            self.close()

    def close(self) -> None:
        """Stop watching every container, and close the database."""
        for uri in list(self.subs):
            self._forget(uri)
            self.subs.pop(uri).close()
        self.db.close()
        self.reader.close()

    def _busy_safe(self, what: str, step: Callable[[], None]) -> bool:
        """Run `step`; a database that stays busy (another command holds SQLite's
        write lock past its time-out) is logged, and the caller tries again
        later: the watcher must outlive a long command, not die of it."""
        try:
            step()
        except OperationalError as exc:
            log.warning("%s: the database is busy (%s); trying again", what, exc.orig)
            return False
        return True

    def _handle_or_defer(self, event: Event) -> None:
        if not self._busy_safe(f"handling {event}", lambda: self.handle(event)):
            self.deferred.append((time.monotonic() + BUSY_RETRY, event))

    def _queued(self) -> list[Event]:
        """The events queued behind the one just taken, up to BATCH of them."""
        more: list[Event] = []
        while len(more) < BATCH:
            try:
                more.append(self.events.get_nowait())
            except queue.Empty:
                break
        return more

    def _handle_queued(self, events: list[Event]) -> None:
        """Handle `events` in order, the stops to release between two others
        together: a storm of stops costs one transaction, not one each."""
        stops: list[Stopped] = []
        for event in events:
            if isinstance(event, Stopped) and event.reason not in NOT_GONE:
                stops.append(event)
                continue
            if isinstance(event, Lost) and stops:  # its container's stops are asked first
                self._release_or_defer(stops)
                stops = []
            self._handle_or_defer(event)
        if stops:
            self._release_or_defer(stops)

    def handle(self, event: Event) -> None:
        if isinstance(event, Changed):
            news.publish(news.News(event.uri, event.name, str(event.state)))
        elif isinstance(event, Lost):
            news.publish(news.Resync(event.uri))
            log.warning("lost %s (%s); reconnecting", event.uri, event.reason)
            sub = self.subs.pop(event.uri, None)
            if sub is not None:
                sub.close()
            self.retry.setdefault(event.uri, (time.monotonic(), BACKOFF_START))
            self.down_since.setdefault(event.uri, time.monotonic())
        elif isinstance(event, Rebooted):
            self._rebooted(event)
        elif event.reason in NOT_GONE:
            log.info("%s stopped (%s): kept allocated", event.name, event.reason)
        else:
            self._release([event])

    def _rebooted(self, event: Rebooted) -> None:
        try:
            if reinstall.end_install_on_reboot(self._read, self._connection, event.uri, event.name):
                log.info("%s rebooted while set to install: its install's reboot ends it",
                         event.name)  # fmt: skip
        except CairnError as exc:  # gone meanwhile, or its container does not answer
            log.warning("%s rebooted while set to install: %s", event.name, exc)

    def _release_or_defer(self, stops: list[Stopped]) -> None:
        if not self._busy_safe(f"releasing {len(stops)} stopped VMs", lambda: self._release(stops)):
            later = time.monotonic() + BUSY_RETRY
            self.deferred.extend((later, stop) for stop in stops)

    def _release(self, stops: list[Stopped]) -> None:
        """Release the VMs of `stops` (cairn.lifecycle.stopped); a stop whose
        container could not be asked is tried again later while it is watched
        (once it is not, the reconcile of its reconnect does the work)."""
        held, unasked = release_stopped(self._work, self.hooks, stops, self._ask)
        for stop in held:  # another transaction held its row: wait for it, alone
            held_again, unasked_too = release_stopped(
                self._work, self.hooks, [stop], self._ask, wait=True
            )
            unasked += unasked_too + held_again
        later = time.monotonic() + BUSY_RETRY
        self.deferred.extend((later, stop) for stop in unasked if stop.uri in self.subs)

    def _ask(self, uri: str) -> dict[str, State]:
        return self._sub(uri).states()

    def _connection(self, uri: str) -> libvirt.virConnect:
        return self._sub(uri).connection()

    def _sub(self, uri: str) -> Subscription:
        sub = self.subs.get(uri)
        if sub is None:
            raise ContainerUnreachable(f"{uri} is not watched")
        return sub

    def _refresh_containers(self) -> None:
        with self._read() as session:
            # Those holding VMs, and those found dead: until they answer again,
            # they may hold copies of VMs restarted elsewhere.
            dead = select(HostAttr.host_id).where(HostAttr.name == failover.STATUS)
            containers = (
                session.execute(
                    select(Host).where(or_(Host.id.in_(select(VM.container_id)), Host.id.in_(dead)))
                )
                .scalars()
                .all()
            )
            unusable: dict[Host, str] = {}
            by_id = container_uris(session, containers, unusable=unusable)
            for host, reason in unusable.items():
                log.error("not watching %s: %s", host.name, reason)
            containers = [c for c in containers if c.id in by_id]
            after = failover.dead_after(session, containers)
            uris = set(by_id.values())
        self.dead_after = {by_id[i]: seconds for i, seconds in after.items()}
        for uri in uris - set(self.subs) - set(self.retry):
            self._connect(uri)

    def _connect(self, uri: str) -> None:
        sub = Subscription(uri, self._heard)
        if self.keep:
            heard.begin(uri)
        try:
            states = sub.open()
        except CairnError as exc:
            self._forget(uri)
            _when, delay = self.retry.get(uri, (0.0, BACKOFF_START))
            self.retry[uri] = (time.monotonic() + delay, min(delay * 2, BACKOFF_MAX))
            self.down_since.setdefault(uri, time.monotonic())
            log.warning("%s; retrying in %g s", exc, delay)
            return
        self.retry.pop(uri, None)
        self.subs[uri] = sub
        if self.keep:
            heard.listed(uri, states)
        news.publish(news.Resync(uri))  # what changed before now was not heard
        log.info("watching %s", uri)
        if self.down_since.pop(uri, None) is not None:
            self.next_fence.pop(uri, None)
            self._busy_safe(f"clearing the status of {uri}", lambda: self._back(uri, states))
        try:
            done = self._busy_safe(f"reconciling {uri}", lambda: self._reconcile(uri, states))
        except CairnError as exc:  # it stopped answering as it was asked again
            log.warning("reconciling %s: %s; trying again", uri, exc)
            done = False
        if not done:
            # Subscribe again later, and reconcile then with fresh states.
            self._forget(uri)
            self.subs.pop(uri).close()
            self.retry[uri] = (time.monotonic() + BUSY_RETRY, BACKOFF_START)

    def _heard(self, event: Event) -> None:
        """A subscription's sink, on libvirt's event thread: only queues."""
        if self.keep:
            heard.hear(event)
        self.events.put(event)

    def _forget(self, uri: str) -> None:
        if self.keep:
            heard.forget(uri)

    def _fence_the_dead(self, now: float) -> None:
        """Fence each container down for its kvm_ha_dead_after, and restart its
        kvm_ha VMs elsewhere; again after as long if the fence did not confirm."""
        dead = {
            uri
            for uri, since in self.down_since.items()
            if uri in self.dead_after and now - since >= self.dead_after[uri]
        }
        self._collect()
        for uri in sorted(dead):
            if uri in self.failing or now < self.next_fence.get(uri, 0.0):
                continue
            log.warning("%s has not answered for %g s: it is dead", uri, now - self.down_since[uri])
            thread = threading.Thread(
                target=self._fail_over, args=(uri, dead), name=f"fail-over {uri}", daemon=True
            )
            self.failing[uri] = thread
            thread.start()

    def _fail_over(self, uri: str, dead: set[str]) -> None:
        """One container's fail-over, in a thread of its own; the outcome goes
        to `failed_over`, whatever happens."""
        again = time.monotonic() + self.dead_after.get(uri, BACKOFF_MAX)
        moved: list[str] = []
        try:
            with Connections() as conns:
                done = failover.fail_over(self._work, self.hooks, uri, conns, dead)
            moved = done.moved
            if done.done:
                again = float("inf")
        except OperationalError as exc:
            log.warning("failing over %s: the database is busy (%s); trying again", uri, exc.orig)
            again = time.monotonic() + BUSY_RETRY
        except CairnError as exc:  # a value stored behind cairn's back: tell, go on
            log.error("failing over %s: %s; trying again", uri, exc)
        except Exception:  # a bug must not end the watching; the log has its traceback
            log.exception("failing over %s failed; trying again", uri)
        finally:
            self.failed_over.put((uri, again, moved))

    def _collect(self) -> None:
        """Take in the outcomes of finished fail-overs."""
        while True:
            try:
                uri, again, moved = self.failed_over.get_nowait()
            except queue.Empty:
                return
            self.failing.pop(uri, None)
            self.moved_away.setdefault(uri, set()).update(moved)
            if uri in self.down_since:  # not back meanwhile
                self.next_fence[uri] = again

    def settle(self, timeout: float) -> None:
        """Wait up to `timeout` s for the running fail-overs, and take in their outcomes."""
        end = time.monotonic() + timeout
        for thread in list(self.failing.values()):
            thread.join(max(0.0, end - time.monotonic()))
        self._collect()

    def _back(self, uri: str, states: dict[str, State]) -> None:
        """A container answers again: no second copy of what was restarted
        elsewhere may run there, and its dead status goes."""
        stale = self.moved_away.pop(uri, set()) | failover.stale_copies(self._work, uri, states)
        stale &= set(states)
        if stale:
            with Connections() as conns:
                for name in sorted(stale):
                    try:
                        guest = Guest.lookup(conns.get(uri), name)
                        guest.poweroff()
                        guest.undefine()
                    except CairnError as exc:
                        log.error("%s: its old copy on %s stays: %s", name, uri, exc)
                        continue
                    log.warning("%s: removed its old copy on %s (restarted elsewhere)", name, uri)
        for name in failover.clear_status(self._work, uri):
            log.info("container %s answers again", name)

    def _reconcile(self, uri: str, states: dict[str, State]) -> None:
        """Release the VMs allocated at `uri` that neither run nor are saved there.

        `states` were listed when the subscription opened, before the allocations
        are read: a start that commits in between (SQLite's write lock is waited
        for here) launched its VMs after that listing. So a VM the listing has
        off is released only if the container, asked again once its allocation
        is read, still has it off. The usual case, nothing to release, is
        found without the write lock; only then is it taken and read again."""
        with self._read() as session:
            if not _allocated_off(session, uri, states):
                return
        with self._work() as session:
            off = _allocated_off(session, uri, states)
            if not off:
                return
            now = self._ask(uri)  # CairnError: _connect subscribes again later
            for vm in off:
                if _off(now, vm):
                    state = now.get(vm.host.name, State.UNDEFINED)
                    release_once(session, self.hooks, vm, f"found {state} when watching began")

    def _work(self) -> _Unit:
        return _Unit(self.db)

    def _read(self) -> _Unit:
        """A transaction that only reads (it never waits for SQLite's write lock)."""
        return _Unit(self.reader)


def _allocated_off(session: Session, uri: str, states: dict[str, State]) -> list[VM]:
    """The VMs allocated at `uri` that are off by `states`."""
    vms = session.execute(select(VM).where(VM.allocated.is_(True))).scalars().all()
    uris = container_uris(session, [vm.container for vm in vms]) if vms else {}
    return [vm for vm in vms if uris[vm.container_id] == uri and _off(states, vm)]


def _off(states: dict[str, State], vm: VM) -> bool:
    """Whether `vm` neither runs nor is saved, by `states`."""
    state = states.get(vm.host.name, State.UNDEFINED)
    return state not in ACTIVE and state is not State.SAVED


class _Unit:
    """One transaction: committed if the block succeeds, rolled back otherwise."""

    def __init__(self, db: Database) -> None:
        self.session = db.session()

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            if exc_type is None:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()
