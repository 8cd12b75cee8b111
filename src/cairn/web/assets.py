"""The static files' URLs, and how long a browser may keep what they answer.

A page names each static file through `Assets.url`: /static/NAME?v=DIGEST,
DIGEST being the start of the SHA-256 of the file's content. A new release
changes a file, hence its URL, so a browser never runs yesterday's script
against today's page; the answer to a URL whose `v` is the file's digest
may therefore be kept a year without asking again (`immutable`). Any other
request for a static file (no `v`, or an old one, or a font a stylesheet
names) is answered with `no-cache`: kept, but asked again each time (aiohttp
answers 304 when it has not changed). Pages and the API stay `no-store`
(headers.secure). Digests are remembered by the file's size and mtime, so a
file edited while the service runs gets a new URL too.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

FOREVER = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_DIGITS = 16  # hex digits of the SHA-256 kept in a URL


class Assets:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._known: dict[str, tuple[tuple[int, int], str]] = {}
        self._lock = threading.Lock()

    def url(self, name: str) -> str:
        """The URL of static file `name` (a path under the static directory)."""
        digest = self.digest(name)
        if digest is None:
            raise FileNotFoundError(f"no static file {name!r}")
        return f"/static/{name}?v={digest}"

    def digest(self, name: str) -> str | None:
        """The digest of static file `name`; None if it is not one (or is outside)."""
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root):
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        with self._lock:
            known = self._known.get(name)
        if known is not None and known[0] == stamp:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:_DIGITS]
        with self._lock:
            self._known[name] = (stamp, digest)
        return digest

    def cache_control(self, name: str, asked: str | None) -> str:
        """What a static answer for `name`, asked for with ?v=`asked`, may be kept as."""
        return FOREVER if asked is not None and asked == self.digest(name) else REVALIDATE
