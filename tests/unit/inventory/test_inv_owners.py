"""Owners of host attributes: a session remembers hosts it found by name, and
forgets them when it deletes a host (a batch replays many lines in one session)."""

from __future__ import annotations

from cairn.attrs.scopes import Scope
from cairn.db.session import finish, open_session
from cairn.inventory.hosts import insert_host, remove_host
from cairn.inventory.lookup import hosts
from cairn.inventory.owners import owners
from testkit import Cli


def test_a_host_removed_and_added_again_in_one_session_is_found_anew(cli: Cli) -> None:
    cli.ok("add", "host", "compute-0-0", "appliance=compute")
    session = open_session(cli.url, writes=True)
    try:
        first = owners(session, Scope.HOST, ["compute-0-0"], all_if_empty=False)
        again = owners(session, Scope.HOST, ["compute-0-0", "compute-0-0"], all_if_empty=False)
        assert again == first  # remembered, and named once
        remove_host(session, hosts(session, ["compute-0-0"])[0])
        session.flush()
        # Another host first: SQLite would give the old id to the next one.
        insert_host(session, "compute-0-9", "compute", rack=0, rank=9, cpus=1, os="linux")
        new_id = insert_host(session, "compute-0-0", "compute", rack=0, rank=0, cpus=1, os="linux")
        assert new_id != first[0].id
        found = owners(session, Scope.HOST, ["compute-0-0"], all_if_empty=False)
        assert [(o.id, o.name) for o in found] == [(new_id, "compute-0-0")]
    finally:
        finish(session, ok=False)
