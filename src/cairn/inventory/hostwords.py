"""Which hosts a command's HOST words name, as plain facts read with plain SQL.

A HOST word is a host name, an appliance name (all its hosts), a shell glob,
or `localhost` (this machine's host entry). A word that matches nothing is an
error naming that word. Free of SQLAlchemy (see `cairn.db.rows`);
`lookup.hosts` turns the same answer into mapped rows.
"""

from __future__ import annotations

import fnmatch
import socket
from typing import Any, NamedTuple

from cairn.db.rows import MANY, Rows, placeholders
from cairn.errors import NotFound

_GLOB = frozenset("*?[")
_FACTS = (
    "SELECT h.id, h.name, a.name, o.name, h.rack, h.rank, h.cpus, h.appliance_id, h.os_id"
    " FROM hosts h JOIN appliances a ON a.id = h.appliance_id JOIN oses o ON o.id = h.os_id"
)


class HostFacts(NamedTuple):
    id: int
    name: str
    appliance: str
    os: str
    rack: int
    rank: int
    cpus: int
    appliance_id: int
    os_id: int

    @classmethod
    def of(cls, host: Any) -> HostFacts:
        """The facts of a mapped Host row."""
        names = (host.id, host.name, host.appliance.name, host.os.name)
        return cls(*names, host.rack, host.rank, host.cpus, host.appliance_id, host.os_id)


def local_hostname() -> str:
    return socket.gethostname().split(".")[0].lower()


def order(host: Any) -> tuple[Any, ...]:
    """Rack, then rank, then name: how hosts are listed."""
    return (host.rack, host.rank, host.name)


def everyone(rows: Rows) -> list[HostFacts]:
    return sorted((HostFacts(*r) for r in rows(_FACTS, ())), key=order)


def host_facts(rows: Rows, words: list[str], *, all_if_empty: bool = True) -> list[HostFacts]:
    """The hosts the words name, in the order given, without repeats."""
    if not words:
        return everyone(rows) if all_if_empty else []
    words = [local_hostname() if w == "localhost" else w for w in words]
    plain = sorted({w for w in words if not _GLOB & set(w)})
    listed: list[HostFacts] | None = None
    if len(plain) > MANY:
        listed = everyone(rows)
        by_name = {f.name: f for f in listed}
    elif plain:
        sql = f"{_FACTS} WHERE h.name IN ({placeholders(len(plain))})"
        by_name = {f.name: f for f in (HostFacts(*r) for r in rows(sql, plain))}
    else:
        by_name = {}
    out: dict[int, HostFacts] = {}
    for word in words:
        if word in by_name:
            matched = [by_name[word]]
        else:
            listed = everyone(rows) if listed is None else listed
            if _GLOB & set(word):
                matched = [h for h in listed if fnmatch.fnmatchcase(h.name, word)]
            else:
                matched = [h for h in listed if h.appliance == word]
        if not matched:
            raise NotFound(f"no host or appliance matches {word!r} (see: cairn list host)")
        for h in matched:
            out.setdefault(h.id, h)
    return list(out.values())
