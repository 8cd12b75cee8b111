"""`cairn create keys`: the cluster CA, certificates and SSH key that profiles
carry; with key=, a tenant's key pair for the Airboss instead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn import values
from cairn.cli.spec import Arg, Example, Param, Text
from cairn.cli.spec import Command as Base
from cairn.commands._tenant import HERE_WITH

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

    With key=FILE (Rocks' other form) it makes a key pair for the owner of a
    virtual cluster instead, here, with no database: the private key in FILE
    (OpenSSH format, mode 0600; its directory made, mode 0700, if missing) and
    the public one in FILE.pub, which it prints; neither may exist. Ed25519 by
    default, or RSA of 2048 to 8192 bits (kind=rsa bits=N). A passphrase is
    asked for on the terminal unless passphrase=no. The administrator binds the
    public key to the cluster with `cairn add host key FRONTEND key=FILE.pub`.
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
        Param("key", "make a tenant's key pair: the private key's file", metavar="FILE"),
        Param(
            "passphrase",
            "with key=: ask for a passphrase (no: the private key has none)",
            True,
            values.boolean,
            metavar="BOOL",
        ),
        Param(
            "kind",
            "with key=: ed25519 or rsa",
            "ed25519",
            values.choice("ed25519", "rsa"),
            metavar="KIND",
        ),
        Param(
            "bits", "with key= kind=rsa: its size", 3072, values.integer(2048, 8192), metavar="N"
        ),
    )
    here_with = HERE_WITH
    examples = (
        Example("cairn create keys", "Makes what the profiles of all hosts need."),
        Example(
            "cairn create keys vm-container-0-0",
            "Makes what the profile of vm-container-0-0 needs (for SSH: root's key).",
        ),
        Example(
            "cairn create keys key=~/.cairn/lab-owner passphrase=no",
            "Makes a tenant's Ed25519 key pair without a passphrase; prints the public key.",
        ),
        Example(
            "cairn create keys key=~/.cairn/rocks-owner passphrase=no kind=rsa bits=3072",
            "The same with an RSA key of 3072 bits.",
        ),
    )
    related = ("report host profile", "add host key")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        if a["key"]:
            return _tenant_pair(a)
        from cairn.container import profile
        from cairn.inventory.lookup import hosts

        made: list[str] = []
        for host in hosts(ctx.session, a["host"], all_if_empty=True):
            made += profile.gather(ctx.session, host, client=a["client"], create=True).notes
        return Text("".join(f"{line}\n" for line in made) or "nothing to make: all there\n")


def _tenant_pair(a: dict[str, Any]) -> Text:
    """A tenant's key pair in key= and key=.pub; the public key's line."""
    from pathlib import Path

    from cairn.airboss import keys
    from cairn.errors import UsageError

    if a["host"] or a["client"] is not None:
        raise UsageError("key= makes a tenant's key pair: give it without hosts or client=")
    path = Path(a["key"]).expanduser()
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    secret = _passphrase(path) if a["passphrase"] else None
    made = keys.generate(path, a["kind"], a["bits"], secret, comment=_who())
    return Text(f"{made.openssh} {made.comment}".rstrip() + "\n")


def _who() -> str:
    """user@host, the comment ssh-keygen gives a key."""
    import getpass
    import socket

    return f"{getpass.getuser()}@{socket.gethostname()}"


def _passphrase(path: Any) -> str:
    import getpass
    import sys

    from cairn.errors import CairnError

    if not sys.stdin.isatty():
        raise CairnError(
            "there is no terminal to ask for the key's passphrase: run it on one, or give"
            " passphrase=no for a key without one"
        )
    first = getpass.getpass(f"passphrase for {path}: ")
    if not first or first != getpass.getpass("the same again: "):
        raise CairnError("the passphrases were empty or not the same: nothing was made")
    return first
