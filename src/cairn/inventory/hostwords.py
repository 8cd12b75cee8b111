"""Which hosts a command's HOST words name, as plain facts (one row per host).

A HOST word is a host name, an appliance name (all its hosts), a shell glob,
or `localhost` (this machine's host entry). A word that matches nothing is an
error naming that word. The facts are read with one query over the models
(no mapped objects: cheap for 10,000 hosts); `lookup.hosts` turns the same
answer into mapped rows.

A session remembers the ids of hosts it added or found by their own names
(`known`): a replayed dump adds a host and sets its attributes line after
line in one session (cairn.cli.batch), and a host's name and id do not
change while it exists. Deleting a host through a session forgets them all.
"""

from __future__ import annotations

import fnmatch
from operator import attrgetter
from typing import Any

from sqlalchemy import Select, event, select
from sqlalchemy.orm import Session

from cairn.db.chunks import MANY, connection, where_in
from cairn.db.hostfacts import HostFacts, local_hostname
from cairn.db.models import OS, Appliance, Host
from cairn.errors import NotFound

_GLOB = frozenset("*?[")
_KNOWN = "cairn.host_ids"  # session.info: {host name: id}


def known(session: Session) -> dict[str, int]:
    """{name: id} of the hosts this session added or found by name (add to it freely)."""
    ids: dict[str, int] = session.info.setdefault(_KNOWN, {})
    return ids


def learn_all(session: Session) -> dict[str, int]:
    """`known`, with every host's name and id read now, in one query."""
    ids = known(session)
    names = select(Host.name, Host.id)
    ids.update((name, id_) for name, id_ in connection(session).execute(names))
    return ids


@event.listens_for(Session, "persistent_to_deleted")
def _forget(session: Session, instance: object) -> None:
    if isinstance(instance, Host):
        session.info.pop(_KNOWN, None)


def _facts() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Host.id,
            Host.name,
            Appliance.name,
            OS.name,
            Host.rack,
            Host.rank,
            Host.cpus,
            Host.appliance_id,
            Host.os_id,
        )
        .join(Appliance, Appliance.id == Host.appliance_id)
        .join(OS, OS.id == Host.os_id)
    )


# Rack, then rank, then name: how hosts are listed. Sorted here, not by the
# database, whose collation would order names its own way. An attrgetter, not a
# function: sorting 10,000 hosts calls it 10,000 times.
order = attrgetter("rack", "rank", "name")


def everyone(session: Session) -> list[HostFacts]:
    return sorted(map(HostFacts._make, connection(session).execute(_facts()).all()), key=order)


def facts_by_id(session: Session, ids: list[int]) -> list[HostFacts]:
    """The facts of the hosts with these ids (any order)."""
    return [HostFacts(*r) for r in where_in(session, _facts(), Host.id, ids)]


def host_facts(session: Session, words: list[str], *, all_if_empty: bool = True) -> list[HostFacts]:
    """The hosts the words name, in the order given, without repeats."""
    if not words:
        return everyone(session) if all_if_empty else []
    words = [local_hostname() if w == "localhost" else w for w in words]
    plain = sorted({w for w in words if not _GLOB & set(w)})
    listed: list[HostFacts] | None = None
    if len(plain) > MANY:
        listed = everyone(session)
        by_name = {f.name: f for f in listed}
    else:
        found = where_in(session, _facts(), Host.name, plain)
        by_name = {f.name: f for f in (HostFacts(*r) for r in found)}
    out: dict[int, HostFacts] = {}
    for word in words:
        if word in by_name:
            matched = [by_name[word]]
        else:
            listed = everyone(session) if listed is None else listed
            if _GLOB & set(word):
                matched = [h for h in listed if fnmatch.fnmatchcase(h.name, word)]
            else:
                matched = [h for h in listed if h.appliance == word]
        if not matched:
            raise NotFound(f"no host or appliance matches {word!r} (see: cairn list host)")
        for h in matched:
            out.setdefault(h.id, h)
    return list(out.values())
