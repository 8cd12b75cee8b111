"""`cairn report web`: a one-time login link to the web page, the administrator's or a tenant's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Arg, Example, Text
from cairn.cli.spec import Command as Base
from cairn.commands._tenant import HERE_WITH, TENANT

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints a one-time login link to this database's web page.

    The page is part of the cairn service, on when the config file sets
    web_listen (loopback, e.g. "127.0.0.1:8678"; reach it through an SSH
    tunnel: ssh -L 8678:127.0.0.1:8678 frontend) and, for other addresses,
    web_tls_listen (HTTPS with the cluster CA's server certificate). A link
    works once, within 5 minutes, and only while the service that made it
    runs; it gives a session cookie that ends at logout or after 8 hours.
    No password is stored anywhere.

    Without key=, the link is the administrator's: the page shows everything.
    With FRONTEND and key=, it is a tenant's request, signed with that
    private key on this machine and sent to the Airboss (airboss=), which
    answers a link only if the key is bound to FRONTEND; the page then shows
    that virtual cluster alone, and acts only on its VMs.
    """

    uses_db = False
    args = (
        Arg("frontend", "a virtual cluster's frontend VM (a tenant's link; with key=)",
            required=False),
    )  # fmt: skip
    params = TENANT
    here_with = HERE_WITH
    examples = (
        Example("cairn report web", "Prints a login link to open in a browser."),
        Example(
            "cairn report web lab key=~/.cairn/lab-owner airboss=127.0.0.1",
            "A tenant's login link to the page of its cluster lab, through the Airboss.",
        ),
    )
    related = ("report service", "stop service", "add host key")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.errors import CairnError

        if a["key"]:
            from cairn.commands._tenant import call

            if not a["frontend"]:
                raise CairnError("give the frontend of the cluster the key is bound to")
            return Text("".join(r["url"] + "\n" for r in call(a, "web", a["frontend"], {})))
        if a["frontend"]:
            raise CairnError(
                "FRONTEND makes a tenant's link: give key= too (or leave FRONTEND out)"
            )
        from cairn.service.address import key_env, socket_path
        from cairn.web import links

        urls, secret = links.read(socket_path(key_env()))
        token = links.mint(secret)
        return Text("".join(f"{url}/login?t={token}\n" for url in urls))
