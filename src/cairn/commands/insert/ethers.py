"""`cairn insert ethers`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._netboot import DIR, FRONTEND, directory_of, frontend_of

if TYPE_CHECKING:
    from cairn.context import Context

MAX_WAIT = 3600


class Command(Base):
    """Adds new hosts for MACs that ask for an address, as Rocks' insert-ethers did.

    Run it on a frontend whose dnsmasq `sync config` started (a virtual
    cluster's own frontend, for one): the MACs that asked dnsmasq for an
    address on network= and that no host has become hosts APPLIANCE-RACK-RANK
    (the next ranks in rack=), each with eth0 on network= at the next free
    address from the top of it, set to boot install. With count=N it waits
    (up to timeout= seconds) until N new MACs have asked; the hosts found by
    then are added either way. Then `cairn sync config` gives them their
    addresses and install files, and their next DHCP request gets them.

    macs= takes the MACs from a listing instead: every MAC in it (`list host
    macs` output as it is; its header and other words are skipped). MACs this
    machine's own devices have, and MACs a host has already, are never added.
    """

    params = (
        Param("appliance", "the new hosts' appliance", "compute", values.label, metavar="APP"),
        Param(
            "network",
            "their network (default: the one with dhcp=yes)",
            convert=values.label,
            metavar="NET",
        ),
        Param("rack", "their rack", 0, values.integer(0, 99999), metavar="N"),
        Param(
            "basename",
            "their names' start (default: the appliance)",
            convert=values.label,
            metavar="NAME",
        ),
        Param(
            "count", "wait for this many new hosts", convert=values.integer(1, 4096), metavar="N"
        ),
        Param(
            "timeout",
            f"how long count= waits, in seconds (at most {MAX_WAIT})",
            300,
            values.integer(0, MAX_WAIT),
            metavar="S",
        ),
        Param("macs", "take the MACs from this listing instead of dnsmasq's log", metavar="TEXT"),
        Param(
            "boot",
            "what they boot from the network: install or os",
            "install",
            values.choice("install", "os"),
            metavar="WHAT",
        ),
        FRONTEND,
        DIR,
    )
    writes = True
    lists = True
    examples = (
        Example(
            "cairn insert ethers network=private dir=/tmp/cairn-netboot",
            "Adds every new MAC dnsmasq has heard from on private, as computes.",
        ),
        Example(
            "cairn insert ethers network=private"
            " macs='MACS IN CLUSTER 52:54:00:00:09:01 52:54:00:00:09:02'",
            "Adds the MACs of a listing (here Rocks' list host macs output).",
        ),
    )
    related = ("sync config", "list host macs", "set host boot", "report nextip")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from pathlib import Path

        from cairn.db.models import Network
        from cairn.inventory import ethers, lookup
        from cairn.netboot import actions, config, discover

        session = ctx.session
        network = lookup.one(session, Network, a["network"] or ethers.dhcp_network(session))
        mine = discover.own_macs()

        def new(found: list[str]) -> list[str]:
            return [m for m in ethers.unknown(session, found) if m not in mine]

        if a["macs"] is not None:
            macs = new(discover.macs_in(a["macs"]))[: a["count"] or None]
        else:
            log = Path(directory_of(a)) / discover.LOG
            heard = config.devices_on(session, frontend_of(session, a), network)

            def read() -> list[str]:
                return new(discover.asking(log, heard))

            macs, enough = discover.wait_for(read, a["count"] or 0, a["timeout"])
            if not enough:
                ctx.notes.append(
                    f"{len(macs)} new MAC(s) of the {a['count']} asked for within"
                    f" {a['timeout']} s (in {log})"
                )
        if not macs:
            ctx.notes.append("no new MAC: nothing added")
        added = ethers.insert(
            session,
            macs,
            appliance=a["appliance"],
            network=network.name,
            rack=a["rack"],
            basename=a["basename"],
        )
        made = lookup.hosts(session, [x.host for x in added], all_if_empty=False) if added else []
        actions.set_boot(made, a["boot"])
        return Table(("HOST", "MAC", "IP"), [(x.host, x.mac, x.ip) for x in added])
