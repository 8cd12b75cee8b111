"""`cairn create keys`: the cluster CA, certificates and SSH key that profiles carry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Text
from cairn.cli.spec import Command as Base

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Makes the keys and certificates that 'report host profile' prints.

    What a host's profile carries, made if missing: the cluster CA (in
    $CAIRN_CA_DIR, else <data dir>/ca), a TLS server certificate for a
    container reached through qemu+tls://, a TLS client certificate for this
    machine or a frontend when some container uses TLS (client= as in
    'report host profile'), and root's SSH key (ssh-keygen, no passphrase) for
    qemu+ssh:// connections. What exists and still fits is kept, so running it
    again makes nothing. 'report host profile' only reads them (a report never
    writes) and says to run this when one is missing. As Rocks' 'rocks create
    keys', this writes files, not the database.
    """

    args = (
        Arg(
            "host",
            "host names, appliance names, globs or localhost (default: every host)",
            required=False,
            many=True,
        ),
    )
    params = (
        Param(
            "client",
            "also make the TLS client certificate for HOST (default: for this machine and"
            " frontends, when some container uses TLS)",
            None,
            values.boolean,
            metavar="BOOL",
        ),
    )
    examples = (
        Example("cairn create keys", "Makes what the profiles of all hosts need."),
        Example(
            "cairn create keys vm-container-0-0",
            "Makes what the profile of vm-container-0-0 needs (for SSH: root's key).",
        ),
    )
    related = ("report host profile",)

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.container import profile
        from cairn.inventory.lookup import hosts

        made: list[str] = []
        for host in hosts(ctx.session, a["host"], all_if_empty=True):
            made += profile.gather(ctx.session, host, client=a["client"], create=True).notes
        return Text("".join(f"{line}\n" for line in made) or "nothing to make: all there\n")
