"""What the tenant's side of a command shares: key=, airboss= and ca=, and
sending the request to the Airboss.

Given key=, `set host power`, `set cluster power`, `list host macs`, `set host
vm cdrom` and `open host console` are a tenant's requests: they run in the
`cairn` process itself (cli.spec Command.here_with), with no service and no
database, sign the request with the private key and send it to the Airboss,
which acts only on VMs of the cluster that key is bound to. Without key=,
root (or the database's owner) acts directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cairn.cli.spec import Param, Table

KEY = Param(
    "key",
    "a tenant's private key: the request is signed with it and sent to the Airboss,"
    " from this machine, with no database (for root: leave it out)",
    metavar="FILE",
)
AIRBOSS = Param(
    "airboss",
    "where the Airboss listens, HOST[:PORT] (port 8677 unless given; default: address in"
    " the config file's [airboss] table); on loopback through an SSH tunnel, else TLS",
    metavar="HOST[:PORT]",
)
CA = Param(
    "ca",
    "the cluster CA's certificate (cacert.pem, from the physical frontend's"
    " administrator) that an Airboss not on loopback is checked with (default: ca in the"
    " config file's [airboss] table)",
    metavar="PATH",
)
TENANT = (KEY, AIRBOSS, CA)
HERE_WITH = "key"  # cli.spec Command.here_with of these commands


def call(
    a: Mapping[str, Any], op: str, target: str, params: Mapping[str, str]
) -> list[dict[str, str]]:
    """The rows the Airboss answers `op` on `target` with, signed with key=
    (its passphrase asked for on the terminal when it has one)."""
    from pathlib import Path

    from cairn.airboss import client

    key = Path(a["key"]).expanduser()
    where = {"key": key, "address": a["airboss"], "ca": a["ca"]}
    return client.call(op, target, dict(params), passphrase=passphrase_for(key), **where)


def passphrase_for(key: Any) -> str | None:
    """None for a private key without a passphrase; else asked on the terminal."""
    from cairn.airboss import keys
    from cairn.errors import CairnError

    try:
        keys.load_private(key)
        return None
    except CairnError as exc:
        if "needs its passphrase" not in str(exc):
            raise
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise CairnError(f"the private key {key} needs its passphrase, and there is no terminal")
    return getpass.getpass(f"passphrase for {key}: ")


def rows_table(rows: Sequence[Mapping[str, str]], columns: Sequence[str]) -> Table:
    """The Airboss's rows as the command's own table; status 1 when a row failed."""
    cells = [tuple(r.get(c.lower(), "") for c in columns) for r in rows]
    failed = any(r.get("result") == "failed" for r in rows)
    return Table(columns, cells, status=1 if failed else 0)
