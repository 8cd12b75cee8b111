"""Reading and writing attribute rows of one scope; values go in escaped.

`put` is an upsert done by the database itself, so concurrent `set` commands
on the same attribute never fail on the unique constraint.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, cast, delete, exists, func, select
from sqlalchemy.orm import Session

from cairn.attrs import wellknown
from cairn.attrs.escape import escape
from cairn.attrs.scopes import Scope
from cairn.db import held
from cairn.db.models import ApplianceAttr, GlobalAttr, HostAttr, OSAttr
from cairn.errors import Conflict, NotFound

MODELS: dict[Scope, Any] = {
    Scope.GLOBAL: GlobalAttr,
    Scope.OS: OSAttr,
    Scope.APPLIANCE: ApplianceAttr,
    Scope.HOST: HostAttr,
}
OWNER_COLUMN = {Scope.OS: "os_id", Scope.APPLIANCE: "appliance_id", Scope.HOST: "host_id"}


@dataclass(frozen=True)
class Owner:
    """Who holds an attribute: the scope and, but for global, a row id and name."""

    scope: Scope
    id: int | None = None
    name: str = ""

    def describe(self) -> str:
        if self.scope is Scope.GLOBAL:
            return "global scope"
        return f"{self.scope.value} {self.name} ({self.scope.value} scope)"


def _where(owner: Owner) -> list[Any]:
    model = MODELS[owner.scope]
    if owner.scope is Scope.GLOBAL:
        return []
    return [getattr(model, OWNER_COLUMN[owner.scope]) == owner.id]


def _exact(session: Session, owner: Owner, name: str) -> tuple[int, str] | None:
    """The id and stored value of attribute `name` of `owner`, compared with case
    here: MariaDB's usual collation would also match CPU_MODE for cpu_mode."""
    model = MODELS[owner.scope]
    stmt = select(model.id, model.name, model.value).where(model.name == name, *_where(owner))
    return next(((i, v) for i, n, v in session.execute(stmt) if n == name), None)


def get(session: Session, owner: Owner, name: str) -> str | None:
    found = _exact(session, owner, name)
    return None if found is None else found[1]


def put(session: Session, owner: Owner, name: str, value: str, *, replace: bool) -> None:
    """Store `value` (given unescaped). `replace=False` refuses an existing one.

    Values are checked by the caller (cairn.attrcheck.put); names here too.
    """
    knob = wellknown.check_name(name)
    if knob is not None:
        wellknown.check_plain(knob, value, f"attribute {name} for {owner.describe()}")
    conn = session.connection()
    guarded = conn.dialect.name in _GUARDED
    if not guarded:
        _refuse_case_twin(session, owner, name)
    if not replace and get(session, owner, name) is not None:
        raise Conflict(
            f"attribute {name} exists already for {owner.describe()}; use 'set' to change it"
        )
    row: dict[str, Any] = {"name": name, "value": escape(value)}
    if owner.scope is not Scope.GLOBAL:
        row[OWNER_COLUMN[owner.scope]] = owner.id
    # On the session's connection, as plain SQL: through the ORM, a statement
    # with a row of values takes its much slower bulk-insert path.
    if not guarded:
        conn.execute(_upsert(conn.dialect.name, owner.scope), row)
    elif held.queue(
        session,
        _guarded(conn.dialect.name, owner.scope, returning=False),
        _twin_params(owner, name, row),
    ):
        return  # sent with the batch's other held writes (a twin makes them NotSent)
    elif (
        conn.execute(
            _guarded(conn.dialect.name, owner.scope), _twin_params(owner, name, row)
        ).first()
        is None
    ):
        _refuse_case_twin(session, owner, name)  # nothing written: there is a twin
        raise Conflict(  # the twin went away meanwhile
            f"attribute {name} for {owner.describe()} changed while it was set; set it again"
        )


def _refuse_case_twin(session: Session, owner: Owner, name: str) -> None:
    """MariaDB compares names without case, PostgreSQL and SQLite with it: a name
    that differs from an existing one only in case is refused on all of them."""
    # Compared here, not in SQL: where the database ignores case, != would too.
    params = _twin_params(owner, name)
    # On the connection: through the session, a select of a mapped column
    # takes the ORM's loading path, several times the cost of the query.
    found = session.connection().execute(_twins(owner.scope), params).scalars()
    twin = next((n for n in found if n != name), None)
    if twin is not None:
        raise Conflict(
            f"attribute {name} for {owner.describe()}: it has {twin}, which differs only in"
            f" case; set {twin} instead (some databases cannot tell the two apart)"
        )


# The statements below are built once per scope (and database kind), their
# values bound at each use: building and keying a statement costs more than
# running it, and a replayed dump sets tens of thousands of attributes.


@functools.cache
def _twins(scope: Scope) -> Any:
    model = MODELS[scope]
    where = [func.lower(model.name) == bindparam("lower")]
    if scope is not Scope.GLOBAL:
        where.append(getattr(model, OWNER_COLUMN[scope]) == bindparam("owner"))
    return select(model.name).where(*where)


def _twin_params(owner: Owner, name: str, row: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**(row or {}), "lower": name.lower(), "owner": owner.id, "given": name}


# Where names compare with case in SQL, the case-twin check and the upsert are
# one statement (a replayed dump sets attributes line after line).
_GUARDED = frozenset({"sqlite", "postgresql"})


@functools.cache
def _guarded(dialect: str, scope: Scope, *, returning: bool = True) -> Any:
    """`_upsert` that writes nothing (and so returns no row, or counts no row
    changed) when the owner has a name that differs from this one only in case."""
    model = MODELS[scope]
    keys = ["name"] if scope is Scope.GLOBAL else [OWNER_COLUMN[scope], "name"]
    columns = [model.__table__.c[k] for k in (*keys, "value")]
    twin = _twins(scope).where(model.name != bindparam("given"))
    row = select(*(cast(bindparam(c.key), c.type) for c in columns)).where(~exists(twin))
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(model).from_select([c.key for c in columns], row)
    upsert = stmt.on_conflict_do_update(index_elements=keys, set_={"value": stmt.excluded.value})
    return upsert.returning(model.id) if returning else upsert  # no row: not written


@functools.cache
def _upsert(dialect: str, scope: Scope) -> Any:
    model = MODELS[scope]
    keys = ["name"] if scope is Scope.GLOBAL else [OWNER_COLUMN[scope], "name"]
    row: dict[str, Any] = {k: bindparam(k) for k in (*keys, "value")}
    if dialect in ("mysql", "mariadb"):
        from sqlalchemy.dialects.mysql import insert as my_insert

        mine = my_insert(model).values(row)
        return mine.on_duplicate_key_update(value=mine.inserted.value)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    stmt = insert(model).values(row)
    return stmt.on_conflict_do_update(index_elements=keys, set_={"value": stmt.excluded.value})


def remove(session: Session, owner: Owner, name: str) -> None:
    model = MODELS[owner.scope]
    found = _exact(session, owner, name)
    if found is None:
        where = "" if owner.scope is Scope.GLOBAL else f"{owner.scope.value} "
        who = "" if owner.scope is Scope.GLOBAL else f" {owner.name}"
        raise NotFound(
            f"{owner.describe()} has no attribute {name} (see: cairn list {where}attr{who})"
        )
    session.execute(delete(model).where(model.id == found[0]))
