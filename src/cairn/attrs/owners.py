"""Who holds attributes of a scope, from the words a user gave.

A session remembers the hosts it found by their own names (`session.info`):
a replayed dump sets attributes of the same host line after line in one
session (cairn.cli.batch), and a host's name and id do not change while it
exists. Deleting a host through a session forgets what that session knew.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner
from cairn.db.models import Host

_KNOWN = "cairn.host_ids"  # session.info: {host name: id} of hosts found by name


@event.listens_for(Session, "persistent_to_deleted")
def _forget(session: Session, instance: object) -> None:
    if isinstance(instance, Host):
        session.info.pop(_KNOWN, None)


def owners(session: Session, scope: Scope, words: list[str], *, all_if_empty: bool) -> list[Owner]:
    from cairn.db.models import OS, Appliance
    from cairn.inventory.hostwords import host_facts
    from cairn.inventory.lookup import one

    if scope is Scope.GLOBAL:
        return [Owner(scope)]
    if scope is Scope.HOST:  # the facts name them: no need to load the mapped rows
        known: dict[str, int] = session.info.setdefault(_KNOWN, {})
        if words and all(w in known for w in words):
            return [Owner(scope, known[w], w) for w in dict.fromkeys(words)]
        found = host_facts(session, words, all_if_empty=all_if_empty)
        known.update((h.name, h.id) for h in found if h.name in words)
        return [Owner(scope, h.id, h.name) for h in found]
    model: Any = OS if scope is Scope.OS else Appliance
    if not words:
        rows = session.execute(select(model).order_by(model.name)).scalars().all()
    else:
        rows = [one(session, model, w) for w in words]
    return [Owner(scope, r.id, r.name) for r in rows]
