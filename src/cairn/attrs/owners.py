"""Who holds attributes of a scope, from the words a user gave."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner


def owners(session: Session, scope: Scope, words: list[str], *, all_if_empty: bool) -> list[Owner]:
    from cairn.db.models import OS, Appliance
    from cairn.db.rows import over_session
    from cairn.inventory.hostwords import host_facts
    from cairn.inventory.lookup import one

    if scope is Scope.GLOBAL:
        return [Owner(scope)]
    if scope is Scope.HOST:  # the facts name them: no need to load the mapped rows
        found = host_facts(over_session(session), words, all_if_empty=all_if_empty)
        return [Owner(scope, h.id, h.name) for h in found]
    model: Any = OS if scope is Scope.OS else Appliance
    if not words:
        rows = session.execute(select(model).order_by(model.name)).scalars().all()
    else:
        rows = [one(session, model, w) for w in words]
    return [Owner(scope, r.id, r.name) for r in rows]
