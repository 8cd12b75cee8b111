"""`cairn add host key` (Rocks' binding of a tenant's public key to a virtual cluster)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Param, Table
from cairn.commands._hostkey import COLUMNS, FRONTEND

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Binds a tenant's public key to a virtual cluster's frontend VM.

    Its holder may then drive that cluster's VMs through the Airboss (power,
    install, consoles, CDROMs, MACs), and nothing else. A cluster may have
    several keys. key= is the public key file (OpenSSH `ssh-ed25519 AAAA...`
    or `ssh-rsa`, or PEM), read on the machine that runs the command, or the
    key's line itself, as Rocks took either. Only Ed25519 keys and RSA keys of
    2048 bits or more are taken (Rocks' RSA 1024 is refused). Root or the
    database's owner only (the cairn service takes no one else's commands).
    """

    args = (FRONTEND,)
    params = (
        Param(
            "key",
            "the public key file (FILE.pub of `cairn create keys key=FILE`), or the key's line",
            required=True,
            metavar="PUBLIC-KEY-FILE",
        ),
    )
    writes = True
    in_batch = True
    lists = True
    examples = (
        Example(
            "cairn add host key lab key='ssh-ed25519"
            " AAAAC3NzaC1lZDI1NTE5AAAAINF1w1sP/VQU1dJlPpEH7vkELcgVJBrin7rjsqkSF1uA owner@lab'",
            "Binds the owner's key (its line) to cluster lab.",
        ),
        Example(
            "cairn add host key lab key=~/.cairn/lab-owner.pub",
            "Binds the public key that `cairn create keys key=~/.cairn/lab-owner` made.",
        ),
    )
    related = ("list host key", "remove host key", "create keys", "set host power")

    def run(self, ctx: Context, a: dict[str, Any]) -> Table:
        from pathlib import Path

        from cairn.airboss import keys
        from cairn.vms import tenantkeys

        host = tenantkeys.frontend(ctx.session, a["frontend"])
        given = a["key"].strip()
        if given.startswith(("ssh-", "ecdsa-", "-----BEGIN")):
            public = keys.parse_public(given, "key=")
        else:
            public = keys.read_public(Path(given).expanduser())
        new = tenantkeys.NewKey(
            public.algorithm, public.openssh, public.fingerprint, public.comment
        )
        row = tenantkeys.bind(ctx.session, host, new)
        return Table(COLUMNS, [(host.name, row.id, row.algorithm, row.fingerprint, row.comment)])
