"""Reading the attribute rows of a scope, in plain SQL (see `cairn.db.rows`).

One query per scope whatever the number of owners. Values come back as
stored (escaped).
"""

from __future__ import annotations

from cairn.attrs.scopes import Scope
from cairn.db.rows import MANY, Rows, placeholders

# (table, owner column) per scope; a test keeps these in step with the models.
TABLES: dict[Scope, tuple[str, str | None]] = {
    Scope.GLOBAL: ("global_attrs", None),
    Scope.OS: ("os_attrs", "os_id"),
    Scope.APPLIANCE: ("appliance_attrs", "appliance_id"),
    Scope.HOST: ("host_attrs", "host_id"),
}


def rows(read: Rows, scope: Scope, owner_ids: list[int] | None) -> list[tuple[int, str, str]]:
    """(owner id, 0 for global; name; stored value) of a scope, for the given owners or all."""
    table, owner = TABLES[scope]
    if owner is None:
        return [(0, n, v) for n, v in read(f"SELECT name, value FROM {table} ORDER BY name", ())]
    sql = f"SELECT {owner}, name, value FROM {table}"
    if owner_ids is None:
        return read(f"{sql} ORDER BY name", ())
    if len(owner_ids) > MANY:
        wanted = set(owner_ids)
        return [r for r in read(f"{sql} ORDER BY name", ()) if r[0] in wanted]
    if not owner_ids:
        return []
    return read(f"{sql} WHERE {owner} IN ({placeholders(len(owner_ids))}) ORDER BY name", owner_ids)


def by_owner(
    read: Rows, scope: Scope, owner_ids: list[int] | None
) -> dict[int, list[tuple[str, str]]]:
    """{owner id (0 for global): [(name, stored value), ...] by name}, in one query."""
    out: dict[int, list[tuple[str, str]]] = {}
    for owner_id, name, value in rows(read, scope, owner_ids):
        out.setdefault(owner_id, []).append((name, value))
    return out
