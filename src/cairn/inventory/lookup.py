"""Finding named rows: appliances, OSes, networks by exact name; hosts by HOST words.

HOST words are matched by `hostwords`, as plain facts; `hosts` loads the
mapped rows it names. Listings read plain rows (`boots`, `interfaces_by_host`).
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.chunks import MANY, connection, where_in
from cairn.db.hostfacts import HostFacts
from cairn.db.models import OS, Appliance, BootAction, Host, Interface, Network
from cairn.errors import NotFound
from cairn.inventory import hostwords

T = TypeVar("T")
_LISTS: dict[Any, str] = {Appliance: "appliance", OS: "os", Network: "network"}


def one(session: Session, model: type[T], name: str) -> T:
    row = session.execute(select(model).where(model.name == name)).scalar_one_or_none()  # type: ignore[attr-defined]
    if row is None:
        kind = _LISTS.get(model, "host")
        raise NotFound(f"there is no {kind} named {name!r} (see: cairn list {kind})")
    return row


def boots(session: Session, words: list[str]) -> list[tuple[str, str | None]]:
    """(name, boot action) of the hosts the words name (every host if none), in
    the order of `hosts`, without mapping their rows."""
    return boots_of(session, hostwords.host_facts(session, words), every=not words)


def boots_of(
    session: Session, found: list[HostFacts], *, every: bool
) -> list[tuple[str, str | None]]:
    """(name, boot action) of hosts already found; `every`: they are most hosts
    (one statement for the whole table, not an IN list of their ids in pieces)."""
    query = select(Host.id, Host.boot)
    if every:
        listed: Any = connection(session).execute(query).all()
    else:
        listed = where_in(session, query, Host.id, [f.id for f in found])
    boot = dict(listed)
    return [(f.name, boot[f.id]) for f in found]


def hosts(session: Session, words: list[str], *, all_if_empty: bool = True) -> list[Host]:
    """The mapped hosts the words name (see `hostwords`), in the order given."""
    if not words:
        if not all_if_empty:
            return []
        return sorted(session.execute(select(Host)).scalars().all(), key=hostwords.order)
    found = hostwords.host_facts(session, words)
    ids = [f.id for f in found]
    query = select(Host) if len(ids) > MANY else select(Host).where(Host.id.in_(ids))
    by_id = {h.id: h for h in session.execute(query).scalars()}
    return [by_id[i] for i in ids]


class InterfaceFacts(NamedTuple):
    """An interface row as plain values; `network` is the network's name."""

    name: str
    mac: str | None
    ip: str | None
    network: str | None
    vlan: int | None
    hostname: str | None
    module: str | None
    disablekvm: bool


def interfaces_by_host(
    session: Session, words: list[str]
) -> list[tuple[HostFacts, InterfaceFacts]]:
    """The interfaces of the hosts `words` name (every host if none), each with
    its host's facts, host by host and in name order within one. Plain rows,
    not mapped ones: mapping 10,000 interfaces and their hosts costs a second."""
    return interfaces_of(session, hostwords.host_facts(session, words), every=not words)


def interfaces_of(
    session: Session, found: list[HostFacts], *, every: bool
) -> list[tuple[HostFacts, InterfaceFacts]]:
    """`interfaces_by_host` of hosts already found; `every`: they are most hosts."""
    stmt = (
        select(Interface.host_id, *_IFACE_COLUMNS)
        .outerjoin(Network, Network.id == Interface.network_id)
        .order_by(Interface.name)
    )
    if not every:
        stmt = stmt.where(Interface.host_id.in_([h.id for h in found]))
    by_host: dict[int, list[InterfaceFacts]] = {}
    for row in connection(session).execute(stmt):  # columns: no ORM loading of rows
        by_host.setdefault(row[0], []).append(InterfaceFacts._make(row[1:]))
    return [(h, i) for h in found for i in by_host.get(h.id, [])]


_IFACE_COLUMNS = (
    Interface.name, Interface.mac, Interface.ip, Network.name, Interface.vlan,
    Interface.hostname, Interface.module, Interface.disablekvm,
)  # fmt: skip


def check_action(session: Session, name: str) -> None:
    """Refuse a boot action the database does not have, as Rocks did."""
    if session.execute(select(BootAction.id).where(BootAction.name == name)).first() is None:
        raise NotFound(
            f"there is no boot action named {name!r}: add it (cairn add bootaction"
            f" '{name}' kernel=...) or pick one of: cairn list bootaction"
        )
