"""`cairn report web`: a one-time login link to the administrator's web page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.spec import Command as Base
from cairn.cli.spec import Example, Text

if TYPE_CHECKING:
    from cairn.context import Context


class Command(Base):
    """Prints a one-time login link to this database's web page, for the administrator.

    The page is part of the cairn service, on when the config file sets
    web_listen (loopback, e.g. "127.0.0.1:8678"; reach it through an SSH
    tunnel: ssh -L 8678:127.0.0.1:8678 frontend) and, for other addresses,
    web_tls_listen (HTTPS with the cluster CA's server certificate). A link
    works once, within 5 minutes, and only while the service that made it
    runs; it gives a session cookie that ends at logout or after 8 hours.
    No password is stored anywhere.
    """

    uses_db = False
    examples = (Example("cairn report web", "Prints a login link to open in a browser."),)
    related = ("report service", "stop service")

    def run(self, ctx: Context, a: dict[str, Any]) -> Text:
        from cairn.service.address import key_env, socket_path
        from cairn.web import links

        urls, secret = links.read(socket_path(key_env()))
        token = links.mint(secret)
        return Text("".join(f"{url}/login?t={token}\n" for url in urls))
