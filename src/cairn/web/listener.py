"""The web page's listeners: on loopback by default, TLS with the cluster CA elsewhere.

Config keys (cairn.toml): `web_listen` ("127.0.0.1:8678": plain HTTP, meant
for loopback and an SSH tunnel) and `web_tls_listen` ("0.0.0.0:8679": HTTPS
with a server certificate of the cluster CA for this machine's name). With
neither, the page is off. The page runs on an asyncio loop in a thread of its
own, separate from the JSON API's, and writes its addresses and a fresh
secret beside the service's socket for `cairn report web` (`links`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import socket
import ssl
import threading
from typing import TYPE_CHECKING

from aiohttp import web

from cairn.config import config
from cairn.errors import CairnError
from cairn.web import links
from cairn.web.app import Page, make_app
from cairn.web.scope import Check

if TYPE_CHECKING:
    from cairn.service.server import Service

log = logging.getLogger("cairn.web")


def start(service: Service, check: Check | None = None) -> Listener | None:
    """The page's listeners, when the config file asks for any; else None.
    A config that cannot be served is logged and the service goes on without it."""
    settings = config()
    plain, tls = settings.get("web_listen"), settings.get("web_tls_listen")
    if not plain and not tls:
        return None
    try:
        return Listener(service, _address(plain), _address(tls), check)
    except (CairnError, OSError, ValueError) as exc:
        log.error("the web page is off: %s", exc)
        return None


def _address(value: object) -> tuple[str, int] | None:
    if not value:
        return None
    host, sep, port = str(value).rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"{value!r} is no ADDRESS:PORT")
    return host.strip("[]"), int(port)


class Listener:
    def __init__(
        self,
        service: Service,
        plain: tuple[str, int] | None,
        tls: tuple[str, int] | None,
        check: Check | None = None,
    ) -> None:
        self._socket_path = str(service.path)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="cairn-web", daemon=True
        )
        self._thread.start()
        self._runners: list[web.AppRunner] = []
        urls: list[str] = []
        secret = os.urandom(32)
        for address, context in ((plain, None), (tls, _tls_context(tls) if tls else None)):
            if address is None:
                continue
            page = Page(service, secret, tls=context is not None, check=check)
            runner = web.AppRunner(make_app(page), handle_signals=False, access_log=None)
            self._run(runner.setup())
            site = web.TCPSite(runner, address[0], address[1], ssl_context=context)
            self._run(site.start())
            self._runners.append(runner)
            host, port = runner.addresses[-1][:2]
            shown = f"[{host}]" if ":" in host else host
            urls.append(f"{'https' if context else 'http'}://{shown}:{port}")
        links.publish(self._socket_path, urls, secret)
        log.info("the web page listens on %s", ", ".join(urls))

    def _run(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)  # type: ignore[arg-type]

    def stop(self) -> None:
        links.withdraw(self._socket_path)
        for runner in self._runners:
            self._run(runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


def _tls_context(address: tuple[str, int]) -> ssl.SSLContext:
    """A server context with the cluster CA's certificate for this machine
    (its name, and the address when it is one)."""
    from cairn.container.ca import Authority

    names: list[str] = []
    try:
        ipaddress.ip_address(address[0])
        ips = [address[0]] if address[0] not in ("0.0.0.0", "::") else []
    except ValueError:
        ips, names = [], [address[0]]
    issued = Authority.open().issue("server", socket.gethostname(), dns=names, ips=ips)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    cert_fd, key_fd = os.memfd_create("cert"), os.memfd_create("key")
    try:
        os.write(cert_fd, issued.cert_pem.encode())
        os.write(key_fd, issued.key_pem.encode())
        pid = os.getpid()
        context.load_cert_chain(f"/proc/{pid}/fd/{cert_fd}", f"/proc/{pid}/fd/{key_fd}")
    finally:
        os.close(cert_fd)
        os.close(key_fd)
    return context
