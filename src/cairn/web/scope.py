"""Who a web session is and what it may see and do: the administrator all, a tenant its cluster.

A tenant's session comes from a link the Airboss minted for its key
(`links.tenant`): it carries the key's fingerprint and its cluster's
frontend. Every read and action of a tenant asks the Airboss's one check
(`cairn.airboss.checks.check`, handed in by the service: the web package
imports nothing of the Airboss), on each request, so a key removed or a VM
moved out of the cluster takes effect at once. A refusal is a 403 with the
check's one-line reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from cairn.errors import CairnError
from cairn.web.commands import Failed
from cairn.web.links import tenant_of

log = logging.getLogger("cairn.web")
# (fingerprint, op, target) -> checks.Allowed (cluster, frontend, hosts), or CairnError
Check = Callable[[str, str, str], Any]

SEE = "console"  # the Airboss op whose rule says which VM's page, XML and console a tenant sees
CLUSTER = "web"  # the Airboss op whose rule says which cluster a tenant's session shows
ACTION_OPS = {  # each action of the VM page: the Airboss op whose rule it follows
    "start": "power",
    "poweroff": "power",
    "shutdown": "power",
    "install": "power",
    "pause": "power",
    "resume": "power",
    "cdrom": "cdrom",
}


class Scope:
    def __init__(self, check: Check | None) -> None:
        self._check = check

    def _allowed(self, who: str, op: str, target: str | None = None) -> Any:
        tenant = tenant_of(who)
        if tenant is None:
            return None  # the administrator
        fingerprint, frontend = tenant
        if self._check is None:
            raise Failed(403, "tenants cannot use this page: the service has no Airboss check")
        try:
            return self._check(fingerprint, op, frontend if target is None else target)
        except CairnError as exc:
            log.warning("the web page refused key %s %s on %s: %s", fingerprint, op, target, exc)
            raise Failed(403, str(exc)) from None

    def cluster(self, who: str) -> str | None:
        """The cluster a session shows (None: all of them)."""
        allowed = self._allowed(who, CLUSTER)
        return None if allowed is None else str(allowed.cluster)

    def names(self, who: str) -> frozenset[str] | None:
        """The VMs whose news a session hears (None: all of them)."""
        allowed = self._allowed(who, CLUSTER)
        return None if allowed is None else frozenset(allowed.hosts)

    def see(self, who: str, name: str) -> None:
        """Failed(403) unless the session may see VM `name`."""
        self._allowed(who, SEE, name)

    def act(self, who: str, action: str, name: str, value: str | None) -> str | None:
        """The value `action` on VM `name` runs with; Failed(403) unless the
        session may do it (a tenant's CDROM: only an ISO the Airboss allows)."""
        if self._allowed(who, ACTION_OPS[action], name) is None or action != "cdrom":
            return value
        if not value or value == "none":
            return "none"
        from cairn.vms.isos import tenant_iso

        try:
            return tenant_iso(value)
        except CairnError as exc:
            raise Failed(403, str(exc)) from None

    @staticmethod
    def is_tenant(who: str) -> bool:
        return tenant_of(who) is not None
