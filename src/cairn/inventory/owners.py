"""Who holds attributes of a scope, from the words a user gave: the hosts,
appliances or OSes they name (cairn.attrs.store.Owner for each)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner
from cairn.db.models import OS, Appliance
from cairn.inventory.hostwords import host_facts, known, learn_all
from cairn.inventory.lookup import one

_MISSES = "cairn.host_misses"  # session.info: host lookups by name so far
_MISSES_BEFORE_ALL = 8


def owners(session: Session, scope: Scope, words: list[str], *, all_if_empty: bool) -> list[Owner]:
    if scope is Scope.GLOBAL:
        return [Owner(scope)]
    if scope is Scope.HOST:  # the facts name them: no need to load the mapped rows
        ids = known(session)
        if words and not all(w in ids for w in words):
            # Looked up one by one until a session has looked up many (a
            # replayed dump's attributes, host after host): then all at once.
            misses = session.info[_MISSES] = session.info.get(_MISSES, 0) + 1
            if misses == _MISSES_BEFORE_ALL:
                ids = learn_all(session)
        if words and all(w in ids for w in words):
            return [Owner(scope, ids[w], w) for w in dict.fromkeys(words)]
        found = host_facts(session, words, all_if_empty=all_if_empty)
        ids.update((h.name, h.id) for h in found if h.name in words)
        return [Owner(scope, h.id, h.name) for h in found]
    model: Any = OS if scope is Scope.OS else Appliance
    if not words:
        rows = session.execute(select(model).order_by(model.name)).scalars().all()
    else:
        rows = [one(session, model, w) for w in words]
    return [Owner(scope, r.id, r.name) for r in rows]
