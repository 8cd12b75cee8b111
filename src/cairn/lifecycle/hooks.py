"""The start and stop plugins of the seed, loaded once per command.

start/host/vm/plugin_allocate.py
    run(*, session, vm) -> None
    Before the VM starts, with the database writable (the command's
    transaction). It may move the VM to another container (set vm.container,
    or call cairn.vms.define.change(session, vm, physnode=...)), change its
    network configuration, or record what it took. Raising stops the start.
start/host/vm/plugin_preboot.py
    run(*, session, vm, xml: str) -> str | None
    Just before the VM starts. The database is read-only, enforced: a write
    fails the start and nothing is stored. A returned string is the domain XML
    to use (it must be a <domain> with this VM's name).
stop/host/vm/plugin_disallocate.py
    run(*, session, vm, reason: str) -> None
    After the VM is off (reason: "stopped", "start-failed", "terminated", or
    "stopped-by-itself" from the watcher); releases what allocate took. It runs
    exactly once per allocation, never on save or migration.
watch/plugin_fence.py
    run(*, container: str, uri: str, attrs: Mapping[str, str]) -> bool
    When the watcher counts a container dead (cairn.lifecycle.failover):
    switch it off out of band (IPMI, a PDU) and return True only once it is
    sure nothing of the container runs any more. Anything else (False, None,
    an exception) means "not fenced", and no VM of it is restarted elsewhere.
    `attrs` are the container's resolved attributes, unescaped; there is no
    session. Plugins are tried in plugin-dir order until one returns True.

Releasing an allocation (disallocate in a savepoint, exactly once) is here
too, for every path that stops a VM: `Hooks.release` for commands, which say
what failed; `release_once` for the watcher and its fail-over, which log it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from sqlalchemy.orm import Session

from cairn.db.models import VM
from cairn.db.readonly import ReadOnlyViolation, is_read_only_error, read_only
from cairn.errors import CairnError
from cairn.plugins.loader import Plugin, PluginError, find

watch_log = logging.getLogger("cairn.watch")

START = ("start", "host", "vm")
STOP = ("stop", "host", "vm")
WATCH = ("watch",)


@dataclass(frozen=True)
class Hooks:
    allocate: tuple[Plugin, ...]
    preboot: tuple[Plugin, ...]
    disallocate: tuple[Plugin, ...]
    fence: tuple[Plugin, ...] = ()

    @classmethod
    def load(cls, *, fence: bool = False) -> Hooks:
        """The start and stop plugins, and with `fence` the watcher's fence plugins."""
        return cls(
            tuple(find(START, "allocate")),
            tuple(find(START, "preboot")),
            tuple(find(STOP, "disallocate")),
            tuple(find(WATCH, "fence")) if fence else (),
        )

    def run_fence(self, container: str, uri: str, attrs: Mapping[str, str]) -> tuple[bool, str]:
        """(whether a fence plugin confirmed `container` off, what each one said)."""
        if not self.fence:
            return False, "no fence plugin (watch/plugin_fence.py; see docs/plugins.md)"
        said = []
        for plugin in self.fence:
            try:
                answer = plugin(container=container, uri=uri, attrs=dict(attrs))
            except PluginError as exc:
                said.append(str(exc))
                continue
            if answer is True:
                return True, f"fenced by {plugin.path}"
            said.append(f"plugin {plugin.path} did not confirm it off (returned {answer!r})")
        return False, "; ".join(said)

    def run_allocate(self, session: Session, vm: VM) -> None:
        for plugin in self.allocate:
            plugin(session=session, vm=vm)
        vm.allocated = True
        session.flush()

    def run_preboot(self, session: Session, vm: VM, xml: str) -> str:
        for plugin in self.preboot:
            try:
                with read_only(session):
                    given = plugin(session=session, vm=vm, xml=xml)
            except PluginError as exc:
                cause = exc.__cause__
                if isinstance(cause, ReadOnlyViolation) or (
                    cause is not None and is_read_only_error(cause)
                ):
                    raise PluginError(
                        f"plugin {plugin.path} tried to change the database, which is read-only"
                        " during preboot; make changes in plugin_allocate"
                    ) from None
                raise
            except ReadOnlyViolation:
                raise PluginError(
                    f"plugin {plugin.path} tried to change the database, which is read-only"
                    " during preboot; make changes in plugin_allocate"
                ) from None
            if given is not None:
                xml = checked_xml(given, vm.host.name, plugin)
        return xml

    def run_disallocate(self, session: Session, vm: VM, reason: str) -> bool:
        """Release the VM's allocation if it holds one; True if plugins ran."""
        # Lock the row (PostgreSQL, MariaDB; SQLite writers hold the database
        # lock already), so that `stop host vm` and the watcher never both release.
        session.refresh(vm, with_for_update=True)
        if not vm.allocated:
            return False
        for plugin in self.disallocate:
            plugin(session=session, vm=vm, reason=reason)
        vm.allocated = False
        session.flush()
        return True

    def release(self, session: Session, vm: VM, reason: str) -> bool:
        """`run_disallocate` in a savepoint: a plugin that fails leaves nothing
        written and the VM allocated, and its CairnError is raised."""
        savepoint = session.begin_nested()
        try:
            ran = self.run_disallocate(session, vm, reason)
        except CairnError:
            savepoint.rollback()
            raise
        savepoint.commit()
        return ran


def release_once(session: Session, hooks: Hooks, vm: VM, reason: str) -> bool:
    """Release `vm` for the watcher (it stopped by itself, or its container was
    fenced), logged; True if the plugins ran now. A failure is logged, not raised:
    the watcher goes on with the other VMs, and this one stays allocated."""
    try:
        ran = hooks.release(session, vm, reason)
    except CairnError as exc:
        watch_log.error("%s: disallocate failed: %s", vm.host.name, exc)
        return False
    if ran:
        watch_log.info("%s: disallocated (%s)", vm.host.name, reason)
    else:  # by `stop host vm`, or by the watcher of another frontend on this database
        watch_log.info("%s: released already (%s)", vm.host.name, reason)
    return ran


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def checked_xml(given: object, name: str, plugin: Plugin) -> str:
    if not isinstance(given, str):
        raise PluginError(f"plugin {plugin.path} returned {type(given).__name__}, not XML text")
    try:
        root = etree.fromstring(given.encode(), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise PluginError(
            f"plugin {plugin.path} returned XML that is not well-formed: {exc}"
        ) from None
    if root.tag != "domain" or root.findtext("name") != name:
        raise PluginError(
            f"plugin {plugin.path} must return a <domain> named {name},"
            f" not <{root.tag}> named {root.findtext('name')!r}"
        )
    doctype = getattr(root.getroottree().docinfo, "doctype", "")  # not in lxml-stubs' DocInfo
    if any(isinstance(n, etree._Entity) for n in root.iter()) or doctype:
        raise CairnError(f"plugin {plugin.path} returned XML with a DOCTYPE or entities")
    return given
