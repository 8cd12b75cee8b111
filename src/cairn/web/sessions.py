"""Who is logged in to the web page: sessions made from a login link, in memory.

A session is a random id in an HttpOnly, SameSite=Strict cookie (Secure over
TLS) and a CSRF token the pages send back with every action; it ends at
logout, after SESSION_TTL, or when the service stops. Nothing is stored on
disk: a restarted service asks for a new link.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from cairn.web.links import tenant_of

SESSION_TTL = 8 * 3600.0
COOKIE = "cairn_session"
MAX_SESSIONS = 1000  # the oldest ones go first past this


@dataclass(frozen=True)
class Session:
    id: str
    who: str  # links.ADMIN, or a tenant
    csrf: str
    expires: float

    @property
    def shown(self) -> str:
        """Who, as the page's header says it: a tenant by its cluster and key."""
        tenant = tenant_of(self.who)
        return self.who if tenant is None else f"{tenant[1]} (key {tenant[0]})"

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


class Sessions:
    def __init__(self) -> None:
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, who: str, now: float | None = None) -> Session:
        now = now if now is not None else time.time()
        session = Session(
            secrets.token_urlsafe(32), who, secrets.token_urlsafe(32), now + SESSION_TTL
        )
        with self._lock:
            self._by_id = {k: s for k, s in self._by_id.items() if s.expires > now}
            while len(self._by_id) >= MAX_SESSIONS:
                del self._by_id[min(self._by_id, key=lambda k: self._by_id[k].expires)]
            self._by_id[session.id] = session
        return session

    def get(self, session_id: str | None, now: float | None = None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._by_id.get(session_id)
        if session is None or session.expires <= (now if now is not None else time.time()):
            return None
        return session

    def close(self, session_id: str) -> None:
        with self._lock:
            self._by_id.pop(session_id, None)
