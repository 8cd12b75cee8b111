"""Reading the attribute rows of a scope, many owners at once.

One query per scope (per MANY owners) whatever the number of owners. Values
come back as stored (escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.attrs.scopes import Scope
from cairn.attrs.store import MODELS, OWNER_COLUMN
from cairn.db.chunks import connection, where_in


def rows(
    session: Session, scope: Scope, owner_ids: Sequence[int] | None
) -> Sequence[tuple[int, str, str]]:
    """(owner id, 0 for global; name; stored value) of a scope, for the given
    owners or all, in no particular order (rows that unpack as tuples do)."""
    model = MODELS[scope]
    if scope is Scope.GLOBAL:
        query = select(model.name, model.value)
        return [(0, n, v) for n, v in session.execute(query)]
    owner: Any = getattr(model, OWNER_COLUMN[scope])
    query = select(owner, model.name, model.value)
    if owner_ids is None:
        found: Sequence[Any] = connection(session).execute(query).all()
    else:
        found = where_in(session, query, owner, owner_ids)
    return found


def by_owner(
    session: Session, scope: Scope, owner_ids: Sequence[int] | None
) -> dict[int, list[tuple[str, str]]]:
    """{owner id (0 for global): [(name, stored value), ...] by name}, names in
    the order Python sorts them, not the database's collation."""
    out: dict[int, list[tuple[str, str]]] = {}
    for owner_id, name, value in rows(session, scope, owner_ids):
        out.setdefault(owner_id, []).append((name, value))
    for held in out.values():
        held.sort()
    return out
