"""The headers every answer of the web page carries: CSP and its companions."""

from __future__ import annotations

from aiohttp import web

CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:;"
    # xterm.js sizes its rows with style attributes and a <style> it writes itself.
    " style-src 'self' 'unsafe-inline'; font-src 'self'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)


def secure(response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # the login link never leaks
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
