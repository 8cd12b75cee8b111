"""One-time login links of the web page: minted by `cairn report web`, redeemed by the page.

Light on purpose (a command imports it): the standard library only. The web
page's listener writes a file beside the service's socket, readable by its
owner alone, holding the page's addresses and a secret made afresh each time
the service starts (`publish`). A link carries who it lets in, when it was
made, a random nonce and an HMAC-SHA256 of those under that secret; the page
takes it once (`Redeemer`), within LINK_TTL seconds of when it was made, and
only from a service that was running when it was made. Nothing is stored that
a stolen file could replay after a restart: no password exists.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import threading
import time

from cairn.errors import CairnError

LINK_TTL = 300.0  # seconds a login link may wait before it is used
ADMIN = "admin"
TENANT = "tenant"  # who a tenant's link lets in: "tenant FINGERPRINT FRONTEND"


class LinkRefused(Exception):
    """A link that lets nobody in: the reason is for the log, not the user."""


def wanted() -> bool:
    """Whether the config file turns the page on."""
    from cairn.config import config

    settings = config()
    return bool(settings.get("web_listen") or settings.get("web_tls_listen"))


def state_path(socket_path: str) -> str:
    return socket_path + ".web"


def publish(socket_path: str, urls: list[str], secret: bytes) -> None:
    """Writes the page's addresses and its secret beside the socket."""
    path = state_path(socket_path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # a new file, 0600 from the start
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"urls": urls, "secret": secret.hex(), "pid": os.getpid()}, out)


def withdraw(socket_path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(state_path(socket_path))


def read(socket_path: str) -> tuple[list[str], bytes]:
    """The page's addresses and secret, or a CairnError saying how to turn it on."""
    try:
        with open(state_path(socket_path)) as f:
            state = json.load(f)
    except FileNotFoundError:
        raise CairnError(
            'the web page is off: set web_listen (e.g. "127.0.0.1:8678") in the config file,'
            " then 'cairn stop service' so the next command starts it with the page"
        ) from None
    except (OSError, ValueError) as exc:
        raise CairnError(
            f"cannot read the web page's state {state_path(socket_path)}: {exc}"
        ) from None
    return list(state["urls"]), bytes.fromhex(state["secret"])


def mint(secret: bytes, who: str = ADMIN, now: float | None = None) -> str:
    """A login token for `who`."""
    issued = int(now if now is not None else time.time())
    nonce = secrets.token_urlsafe(18)
    body = f"{_b64(who.encode())}.{issued}.{nonce}"
    return f"{body}.{_mac(secret, body)}"


def tenant(fingerprint: str, frontend: str) -> str:
    """Who a tenant's link lets in: the key (by fingerprint) and its cluster's frontend."""
    return f"{TENANT} {fingerprint} {frontend}"


def tenant_of(who: str) -> tuple[str, str] | None:
    """The (fingerprint, frontend) of a tenant's `who`; None for the administrator."""
    kind, _, rest = who.partition(" ")
    if kind != TENANT:
        return None
    fingerprint, _, frontend = rest.partition(" ")
    return fingerprint, frontend


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())


class Redeemer:
    """Takes each link at most once, while it is fresh."""

    def __init__(self, secret: bytes, started: float | None = None) -> None:
        self._secret = secret
        self._started = int(started if started is not None else time.time())
        self._used: dict[str, float] = {}  # nonce -> when it can be forgotten
        self._lock = threading.Lock()

    def redeem(self, token: str, now: float | None = None) -> str:
        """Who the link lets in, or LinkRefused."""
        now = now if now is not None else time.time()
        parts = token.split(".")
        if len(parts) != 4:
            raise LinkRefused("not a login link")
        who64, issued_text, nonce, mac = parts
        body = f"{who64}.{issued_text}.{nonce}"
        if not hmac.compare_digest(mac, _mac(self._secret, body)):
            raise LinkRefused("its signature does not verify (made for another start?)")
        issued = int(issued_text)
        if issued < self._started - 1 or now - issued > LINK_TTL or issued > now + 5:
            raise LinkRefused("it is stale")
        with self._lock:
            self._used = {n: t for n, t in self._used.items() if t > now}
            if nonce in self._used:
                raise LinkRefused("it has been used")
            self._used[nonce] = issued + LINK_TTL + 10
        return base64.urlsafe_b64decode(who64 + "=" * (-len(who64) % 4)).decode()
