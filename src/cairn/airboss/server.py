"""The Airboss's listener: a TCP port of the cairn service, on its own asyncio
loop in its own thread, that takes signed requests from tenants.

What belongs here: the connection (its bounds), the order a request is
looked at, the audit of each, and running an accepted op through the
service's commands. Who may do what is `checks`'; the bytes are `envelope`'s;
which command an op runs is `ops`'.

The order, so that nothing is parsed or written for a request that is not
signed by a bound key:

1. framing, as the bytes arrive: at most MAX_REQUEST bytes, all of them
   within `request_seconds` of connecting, else the connection is closed;
2. the key, by the fingerprint in the frame (the only database read before
   the signature verifies), then the signature over the exact bytes sent;
3. the body, then its time (60 s), then the nonce, recorded in
   `airboss_nonces` (a replay is refused, on every service of the database
   alike), then the key's rate (requests per minute);
4. `checks.may`; then the op: commands through the service, or the console.

Every request is written to `airboss_audit`, accepted or refused (a
connection over the `connections` bound is closed unread and unwritten, so
that a flood costs the database nothing); rows older than `audit_days` are
deleted as a request is audited, at most once every PRUNE_SECONDS. A raw
protocol rather than HTTP: the whole request, head included, is bounded in
size and time before anything reads it, and the tenant's client needs only
the standard library's socket and ssl.

The loop only reads and writes bytes; keys, checks and commands run in a
small pool of threads (consoles in their own), so a slow or hostile client
holds at most a connection slot and never the service's Unix socket.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import os
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from cairn import values
from cairn.airboss import checks, envelope, keys, ops
from cairn.airboss.envelope import Refused
from cairn.airboss.settings import ServerSettings, is_ip
from cairn.cli.main import find, one_line
from cairn.context import Context
from cairn.db.models import AirbossAudit, AirbossNonce, TenantKey
from cairn.errors import CairnError

if TYPE_CHECKING:
    from cairn.service.server import Service

log = logging.getLogger("cairn.airboss")

CONSOLE_ESCAPE = b"\x1d"  # what ends a console session when the tenant goes
MAX_CONSOLE_BUFFER = 1 << 20  # console output waiting for a tenant who does not read it
PRUNE_SECONDS = 60.0  # the audit log is pruned at most this often, not per request


@dataclass
class _Outcome:
    """What a request came to: rows to send, or a console to attach."""

    rows: list[dict[str, str]]
    console: str | None = None  # the VM
    fingerprint: str = ""
    readonly: bool = False


class Airboss:
    """The listener; `start` binds (errors raised there), `stop` ends it."""

    def __init__(self, service: Service, settings: ServerSettings) -> None:
        self.service = service
        self.settings = settings
        self.bounds = settings.bounds
        self.port = settings.port
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(self.bounds.workers, thread_name_prefix="airboss")
        self._consoles_pool = ThreadPoolExecutor(
            max(1, self.bounds.consoles_per_key * 8), thread_name_prefix="airboss-console"
        )
        self._open = 0
        self._lock = threading.Lock()
        self._recent: dict[str, collections.deque[float]] = {}
        self._consoles: collections.Counter[str] = collections.Counter()
        self._pruned = -PRUNE_SECONDS  # time.monotonic() of the last prune of the audit log

    # -- life ------------------------------------------------------------------

    def start(self) -> None:
        tls = self._tls() if self.settings.tls else None
        self._server = self._loop.run_until_complete(
            asyncio.start_server(
                self._connection,
                self.settings.host,
                self.settings.port,
                ssl=tls,
                ssl_handshake_timeout=self.bounds.request_seconds if tls else None,
                limit=envelope.MAX_REQUEST,
                backlog=128,
            )
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._thread = threading.Thread(target=self._loop.run_forever, name="airboss", daemon=True)
        self._thread.start()
        log.info(
            "Airboss listening on %s:%d (%s)",
            self.settings.host,
            self.port,
            "TLS" if tls else "plain, for an SSH tunnel",
        )

    def stop(self) -> None:
        if self._thread is None:
            return

        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._consoles_pool.shutdown(wait=False, cancel_futures=True)
        self._loop.close()
        self._thread = None

    def _tls(self) -> ssl.SSLContext:
        """The server side of TLS: a certificate of the cluster CA for this
        host's name, the tls_names and the address it listens on."""
        import ipaddress
        import socket as _socket
        import tempfile

        from cairn.container.ca import Authority

        given = self.settings.tls_names
        names = [n for n in given if not is_ip(n)] + [_socket.gethostname()]
        ips = [n for n in given if is_ip(n)]
        if (
            is_ip(self.settings.host)
            and not ipaddress.ip_address(self.settings.host).is_unspecified
        ):
            ips.append(self.settings.host)
        issued = Authority.open().issue("server", names[0], dns=names[1:], ips=ips)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        with tempfile.TemporaryDirectory(prefix="cairn-airboss-") as private:
            cert, key = os.path.join(private, "cert.pem"), os.path.join(private, "key.pem")
            for path, text in ((cert, issued.cert_pem), (key, issued.key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(text)
            context.load_cert_chain(cert, key)
        return context

    # -- one connection ----------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        if self._open >= self.bounds.connections:
            writer.close()
            return
        self._open += 1
        loop = asyncio.get_running_loop()
        try:
            try:
                async with asyncio.timeout(self.bounds.request_seconds):
                    wire = await _read_request(reader)
            except (Refused, TimeoutError, asyncio.IncompleteReadError, ConnectionError) as e:
                reason = _unread(e, self.bounds.request_seconds)
                await loop.run_in_executor(
                    self._pool, self._audit, None, source, None, None, reason
                )
                await _send(writer, envelope.reply(error=reason))
                return
            outcome = await loop.run_in_executor(self._pool, self._request, wire, source)
            if isinstance(outcome, str):
                await _send(writer, envelope.reply(error=outcome))
                return
            try:
                await _send(writer, envelope.reply(outcome.rows))
                if outcome.console is not None:
                    await self._console(outcome, reader, writer)
            finally:
                if outcome.console is not None:  # its slot, even if the tenant went first
                    self._give_console(outcome.fingerprint)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            pass  # the client went; its request was audited as it was read
        finally:
            self._open -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    # -- in the pool's threads ---------------------------------------------------

    def _request(self, wire: bytes, source: str) -> _Outcome | str:
        """The request's outcome, or the one-line reason it is refused; audited."""
        fingerprint: str | None = None
        request: envelope.Request | None = None
        allowed: checks.Allowed | None = None  # set once every check has passed
        try:
            with self.service._counted():
                frame = envelope.frame(wire)
                fingerprint = frame.fingerprint
                request = envelope.parse(envelope.verified(frame, self._public_key))
                envelope.check_time(request)
                self._nonce(request)
                # After the nonce: replaying a captured request spends nothing of its key's budget.
                self._rate(request.fingerprint)
                params = ops.checked_params(request.op, request.params)
                with Context() as ctx:
                    allowed = checks.may(
                        ctx.session, request.fingerprint, request.op, request.target
                    )
                outcome = self._perform(request, allowed, params)
        except Refused as e:
            reason = one_line(str(e))
            self._audit(fingerprint, source, request, None, reason)
            return reason
        except CairnError as e:
            # After the checks: the command's own refusal; before: something
            # stored that cannot be used (a key row written behind cairn's back).
            reason = one_line(str(e))
            if allowed is None:
                self._audit(fingerprint, source, request, None, reason)
            else:
                self._audit(fingerprint, source, request, "accepted", f"failed: {reason}")
            return reason
        except Exception as e:
            log.exception("an Airboss request from %s failed", source)
            reason = f"the Airboss failed ({type(e).__name__}); see the service's log"
            self._audit(fingerprint, source, request, None, reason)
            return reason
        self._audit(fingerprint, source, request, "accepted", None)
        return outcome

    def _public_key(self, fingerprint: str) -> keys.PublicKey | None:
        with Context() as ctx:
            line = ctx.session.execute(
                select(TenantKey.public_key).where(TenantKey.fingerprint == fingerprint).limit(1)
            ).scalar_one_or_none()
        return None if line is None else keys.parse_public(line)

    def _rate(self, fingerprint: str) -> None:
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(fingerprint, collections.deque())
            while recent and recent[0] < now - 60:
                recent.popleft()
            if len(recent) >= self.bounds.requests_per_minute:
                raise Refused(
                    f"key {fingerprint} sent more than {self.bounds.requests_per_minute}"
                    " requests in a minute: wait"
                )
            recent.append(now)

    def _nonce(self, request: envelope.Request) -> None:
        now = _utcnow()
        # Kept a little longer than a timestamp may be off either way.
        cutoff = now - dt.timedelta(seconds=2 * envelope.WINDOW + 5)
        try:
            with Context(writes=True) as ctx:
                ctx.session.execute(delete(AirbossNonce).where(AirbossNonce.seen < cutoff))
                ctx.session.add(
                    AirbossNonce(nonce=request.nonce, fingerprint=request.fingerprint, seen=now)
                )
                ctx.session.flush()
        except (IntegrityError, CairnError) as e:
            if isinstance(e, IntegrityError) or isinstance(e.__cause__, IntegrityError):
                raise Refused(
                    f"replayed request: its nonce {request.nonce[:16]}... was seen"
                ) from None
            raise

    def _perform(
        self, request: envelope.Request, allowed: checks.Allowed, params: dict[str, str]
    ) -> _Outcome:
        if request.op == "console":
            _running(allowed.hosts[0])
            self._take_console(request.fingerprint)
            return _Outcome(
                [],
                allowed.hosts[0],
                request.fingerprint,
                readonly=values.boolean(params.get("readonly", "no")),
            )
        if request.op == "web":
            return _Outcome(_web_link(self.service, request.fingerprint, allowed))
        if request.op == "cdrom":
            from cairn.vms.isos import tenant_iso

            try:
                params = {**params, "cdrom": tenant_iso(params["cdrom"])}
            except CairnError as e:  # what the tenant may not use is a refusal
                raise Refused(str(e)) from None
        rows: list[dict[str, str]] = []
        for words in ops.commands(request.op, allowed, params):
            rows = self._run(words)
        return _Outcome(rows)

    def _run(self, words: list[str]) -> list[dict[str, str]]:
        """A command through the service, as the JSON API runs one."""
        import json

        from cairn.service import api

        _, title, rest = find(words)
        args = [w for w in rest if "=" not in w]
        params = dict(w.split("=", 1) for w in rest if "=" in w)
        body = json.dumps({"args": args, "params": params}).encode()
        code, answer = api.run(self.service, title.split(), body)
        if code != 200:
            raise CairnError(str(answer.get("error", "the command failed")))
        return [
            {k: "" if v is None else str(v) for k, v in row.items()}
            for row in answer.get("rows", [])
        ]

    def _audit(
        self,
        fingerprint: str | None,
        source: str,
        request: envelope.Request | None,
        result: str | None,
        reason: str | None,
    ) -> None:
        row = AirbossAudit(
            at=_utcnow(),
            fingerprint=fingerprint,
            source=source[:128],
            op=request.op[:32] if request else None,
            target=request.target[:255] if request else None,
            result=result or "refused",
            reason=reason[:255] if reason else None,
        )
        try:
            with Context(writes=True) as ctx:
                ctx.session.add(row)
                if self._prune_due():
                    cutoff = row.at - dt.timedelta(days=self.bounds.audit_days)
                    ctx.session.execute(delete(AirbossAudit).where(AirbossAudit.at < cutoff))
        except CairnError:
            log.warning("the Airboss could not audit a request from %s", source, exc_info=True)
        log.info(
            "airboss %s %s %s %s %s%s",
            row.result,
            fingerprint or "-",
            source,
            row.op or "-",
            row.target or "-",
            f": {reason}" if reason else "",
        )

    def _prune_due(self) -> bool:
        """True at most once every PRUNE_SECONDS (then the caller prunes)."""
        now = time.monotonic()
        with self._lock:
            if now - self._pruned < PRUNE_SECONDS:
                return False
            self._pruned = now
            return True

    # -- consoles ------------------------------------------------------------------

    def _take_console(self, fingerprint: str) -> None:
        with self._lock:
            if self._consoles[fingerprint] >= self.bounds.consoles_per_key:
                raise Refused(
                    f"key {fingerprint} has {self.bounds.consoles_per_key} consoles open already"
                )
            self._consoles[fingerprint] += 1

    def _give_console(self, fingerprint: str) -> None:
        with self._lock:
            self._consoles[fingerprint] -= 1

    async def _console(
        self, outcome: _Outcome, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """The VM's console both ways until either side ends or time runs out."""
        loop = asyncio.get_running_loop()
        typed_r, typed_w = os.pipe()
        os.set_blocking(typed_w, False)

        def sink(data: bytes) -> None:
            loop.call_soon_threadsafe(_write_bounded, writer, data)

        assert outcome.console is not None
        attached = loop.run_in_executor(
            self._consoles_pool,
            self._attach,
            outcome.console,
            sink,
            None if outcome.readonly else typed_r,
        )
        try:
            while not attached.done():
                reading: asyncio.Future[Any] = asyncio.ensure_future(reader.read(4096))
                waiting: set[asyncio.Future[Any]] = {reading, attached}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if reading not in done:
                    reading.cancel()
                    break
                data = reading.result()
                if not data:
                    break
                if not outcome.readonly:
                    with contextlib.suppress(BlockingIOError):
                        os.write(typed_w, data.replace(CONSOLE_ESCAPE, b""))
        finally:
            with contextlib.suppress(OSError):
                os.write(typed_w, CONSOLE_ESCAPE)  # ends the session if it still runs
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(attached), self.bounds.request_seconds)
            os.close(typed_w)
            os.close(typed_r)
            with contextlib.suppress(Exception):
                await writer.drain()

    def _attach(self, name: str, sink: Any, source: int | None) -> None:
        from cairn.hypervisor import console, eventloop
        from cairn.hypervisor.connections import Connections
        from cairn.lifecycle.targets import guest_of
        from cairn.vms.define import one_vm

        try:
            eventloop.register()  # the service's loop, if it runs one already
            with self.service._counted(), Connections() as conns:
                # The session ends before the console starts: a console may
                # last an hour, a transaction must not.
                with Context() as ctx:
                    guest = guest_of(ctx.session, one_vm(ctx.session, name), conns)
                ended = console.attach(
                    guest, sink, source=source, seconds=self.bounds.console_seconds
                )
            if ended.why == "error":
                sink(f"\r\n[the console of {name} closed: {ended.detail}]\r\n".encode())
        except CairnError as e:
            sink(f"\r\n[{one_line(str(e))}]\r\n".encode())


def _web_link(service: Service, fingerprint: str, allowed: checks.Allowed) -> list[dict[str, str]]:
    """A one-time login link to the web page for the key, bound to its cluster:
    the session it opens carries the key's fingerprint (cairn.web.scope)."""
    from cairn.web import links

    urls, secret = links.read(str(service.path))
    token = links.mint(secret, links.tenant(fingerprint, allowed.frontend))
    return [{"url": f"{url}/login?t={token}"} for url in urls]


def _running(name: str) -> None:
    """CairnError unless VM `name` runs: a console of a VM that is off is said
    in the reply, before the tenant's terminal is taken over."""
    from cairn.hypervisor.connections import Connections
    from cairn.hypervisor.states import ACTIVE
    from cairn.lifecycle.targets import guest_of
    from cairn.vms.define import one_vm

    with Connections() as conns, Context() as ctx:
        try:
            state: str = guest_of(ctx.session, one_vm(ctx.session, name), conns).state()
        except CairnError:  # not defined on its container
            state = "not defined"
    if state not in ACTIVE:
        raise CairnError(f"{name} is {state}: it has a console only while it runs (power it on)")


def _write_bounded(writer: asyncio.StreamWriter, data: bytes) -> None:
    """A console's output to a tenant who reads it; one who does not (more
    than MAX_CONSOLE_BUFFER waiting) is cut off rather than held in memory."""
    if writer.transport.is_closing():
        return
    if writer.transport.get_write_buffer_size() > MAX_CONSOLE_BUFFER:
        writer.transport.abort()
        return
    writer.write(data)


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    prefix = await reader.readexactly(envelope.PREFIX)
    n = envelope.signed_length(prefix)
    signed = await reader.readexactly(n)
    two = await reader.readexactly(2)
    m = envelope.signature_length(two)
    return prefix + signed + two + await reader.readexactly(m)


def _unread(e: BaseException, seconds: float) -> str:
    if isinstance(e, Refused):
        return str(e)
    if isinstance(e, TimeoutError):
        return f"the request did not arrive within {seconds:g} s"
    return "truncated request: the connection closed before it ended"


async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await asyncio.wait_for(writer.drain(), 10)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def start(service: Service) -> Airboss | None:
    """The Airboss of `service`, listening, when the config file turns it on."""
    from cairn.airboss import settings

    try:
        configured = settings.server()
        if configured is None:
            return None
        airboss = Airboss(service, configured)
        airboss.start()
    except (CairnError, OSError) as e:
        # root's commands go on; the administrator reads why in the log
        log.error("the Airboss is off: %s", one_line(str(e)))
        return None
    return airboss
