"""Finding named rows: appliances, OSes, networks by exact name; hosts by HOST words.

A HOST word is a host name, an appliance name (all its hosts), a shell glob,
or `localhost` (this machine's host entry). A word that matches nothing is an
error naming that word.
"""

from __future__ import annotations

import fnmatch
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cairn.db.models import OS, Appliance, Host, Network
from cairn.errors import NotFound

T = TypeVar("T")
_GLOB = frozenset("*?[")
_LISTS = {Appliance: "appliance", OS: "os", Network: "network"}


def one(session: Session, model: type[T], name: str) -> T:
    row = session.execute(select(model).where(model.name == name)).scalar_one_or_none()  # type: ignore[attr-defined]
    if row is None:
        kind = _LISTS.get(model, "host")  # type: ignore[call-overload]
        raise NotFound(f"there is no {kind} named {name!r} (see: cairn list {kind})")
    return row


def host_order(host: Host) -> tuple[Any, ...]:
    return (host.rack, host.rank, host.name)


def hosts(session: Session, words: list[str], *, all_if_empty: bool = True) -> list[Host]:
    """The hosts the words name, in the order given, without repeats."""
    if not words:
        if not all_if_empty:
            return []
        found = session.execute(select(Host)).scalars().all()
        return sorted(found, key=host_order)
    from cairn.db.seed import local_hostname

    words = [local_hostname() if w == "localhost" else w for w in words]
    plain = [w for w in words if not _GLOB & set(w)]
    by_name = {
        h.name: h for h in session.execute(select(Host).where(Host.name.in_(plain))).scalars()
    }
    everyone: list[Host] | None = None
    out: dict[int, Host] = {}
    for word in words:
        if word in by_name:
            matched = [by_name[word]]
        else:
            if everyone is None:
                everyone = sorted(session.execute(select(Host)).scalars().all(), key=host_order)
            if _GLOB & set(word):
                matched = [h for h in everyone if fnmatch.fnmatchcase(h.name, word)]
            else:
                matched = [h for h in everyone if h.appliance.name == word]
        if not matched:
            raise NotFound(f"no host or appliance matches {word!r} (see: cairn list host)")
        for h in matched:
            out.setdefault(h.id, h)
    return list(out.values())
