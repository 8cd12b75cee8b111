"""The `[airboss]` table of the config file, and Airboss addresses.

What belongs here: reading the table (for the client: `address`, `ca`; for
the server: `listen`, `tls_names` and the bounds; the ISOs tenants may use
are the top-level `tenant_iso_dirs`, cairn.vms.isos), splitting
HOST[:PORT], and telling a loopback address (plain, reached through an SSH
tunnel) from any other (TLS). Light: the tenant's `cairn` imports it.

    [airboss]
    listen = "127.0.0.1:8677"       # the server; off when missing
    address = "frontend:8677"       # the client: where the Airboss is
    ca = "/etc/cairn/airboss-ca.pem"  # the client: the cluster CA's certificate
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any

from cairn.errors import CairnError

PORT = 8677  # Rocks' Airboss port


@dataclass(frozen=True)
class Bounds:
    """What one client or key may cost the server."""

    request_seconds: float = 5.0  # to send a whole request, from connecting
    requests_per_minute: int = 120  # per key
    consoles_per_key: int = 2
    connections: int = 256  # open at once, all clients together
    console_seconds: int = 3600  # a console session at most
    workers: int = 4  # requests run at once (each in a thread, through the commands)
    audit_days: int = 90  # the audit log keeps this many days (the service prunes it)


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    tls_names: tuple[str, ...]
    bounds: Bounds

    @property
    def tls(self) -> bool:
        return not is_loopback(self.host)


def table() -> dict[str, object]:
    from cairn.config import config

    got = config().get("airboss", {})
    if not isinstance(got, dict):
        raise CairnError("the config file's airboss must be a table: [airboss]")
    return got


def split_address(text: str, what: str = "airboss=", *, any_port: bool = False) -> tuple[str, int]:
    """(host, port) from HOST, HOST:PORT, [V6] or [V6]:PORT; one-line error else.
    `any_port`: port 0 (a free port the system picks) is allowed too."""
    text = text.strip()
    host, port = text, str(PORT)
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise CairnError(f"{what}{text}: write an IPv6 address as [ADDR] or [ADDR]:PORT")
        host, port = inside, rest[1:] or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif ":" in text and not is_ip(text):
        raise CairnError(f"{what}{text}: give HOST or HOST:PORT ([ADDR]:PORT for IPv6)")
    lowest = 0 if any_port else 1
    if not host or not port.isdigit() or not lowest <= int(port) <= 65535:
        raise CairnError(f"{what}{text}: give HOST or HOST:PORT (port 1-65535)")
    return host, int(port)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def client_address(given: str | None) -> tuple[str, int]:
    """Where the tenant's requests go: airboss=, else the config's address."""
    if given:
        return split_address(given)
    configured = table().get("address")
    if not isinstance(configured, str) or not configured:
        raise CairnError(
            "where is the Airboss? give airboss=HOST[:PORT] or set address in the"
            " config file's [airboss] table"
        )
    return split_address(configured, "the config file's [airboss] address = ")


def client_ca(given: str | None) -> str:
    """The cluster CA's certificate the client checks the Airboss with."""
    ca = given or table().get("ca")
    if not isinstance(ca, str) or not ca:
        raise CairnError(
            "the Airboss is not on loopback, so it speaks TLS: give ca=PATH, the cluster CA's"
            " certificate (cacert.pem from the physical frontend's administrator), or set ca"
            " in the config file's [airboss] table"
        )
    if not os.path.isfile(ca):
        raise CairnError(f"ca={ca}: no such file (the cluster CA's certificate, cacert.pem)")
    return ca


def server() -> ServerSettings | None:
    """The server's settings, or None when the Airboss is off (no listen)."""
    got = table()
    listen = got.get("listen")
    if listen is None or listen == "":
        return None
    if not isinstance(listen, str):
        raise CairnError('the config file\'s [airboss] listen must be a string: "ADDR:PORT"')
    host, port = split_address(listen, "the config file's [airboss] listen = ", any_port=True)
    defaults = Bounds()
    given: dict[str, Any] = {
        name: _number(got, name, type(getattr(defaults, name)))
        for name in Bounds.__dataclass_fields__
        if name in got
    }
    bounds = Bounds(**given)
    return ServerSettings(host, port, _strings(got, "tls_names"), bounds)


def _strings(got: dict[str, object], name: str) -> tuple[str, ...]:
    value = got.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CairnError(f"the config file's [airboss] {name} must be a list of strings")
    return tuple(value)


def _number(got: dict[str, object], name: str, kind: type) -> float | int:
    value = got[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise CairnError(f"the config file's [airboss] {name} must be a positive number")
    return kind(value)  # type: ignore[no-any-return]
