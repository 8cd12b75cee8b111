"""The web page's routes: pages, JSON, the live stream and the console, behind one login.

Every response carries a Content-Security-Policy that allows no inline
script and nothing from another site. Every request but the login link and
the static files needs a session cookie; every action (a POST) also needs
the session's CSRF token in X-CSRF-Token and, when the browser sends one, an
Origin that is the page's own; a WebSocket needs that Origin always. Blocking
work (commands) runs in a bounded pool of threads, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware

from cairn.web import commands, console, live, streamed, table, views
from cairn.web.assets import Assets
from cairn.web.headers import secure
from cairn.web.links import LinkRefused, Redeemer
from cairn.web.scope import Check, Scope
from cairn.web.sessions import COOKIE, SESSION_TTL, Session, Sessions

if TYPE_CHECKING:
    from cairn.service.server import Service

log = logging.getLogger("cairn.web")
HERE = Path(__file__).parent
WORKERS = 8
_SESSION = web.RequestKey("session", Session)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Page:
    """What the handlers share: the service, its sessions, the templates."""

    def __init__(
        self, service: Service, secret: bytes, *, tls: bool, check: Check | None = None
    ) -> None:
        self.service = service
        self.scope = Scope(check)  # a tenant's session: what the Airboss's check allows
        self.redeemer = Redeemer(secret)
        self.sessions = Sessions()
        self.tls = tls
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cairn-web")
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.assets = Assets(HERE / "static")
        self.templates.globals["asset"] = self.assets.url
        self.templates.filters["state_class"] = state_class
        self.templates.filters["dash"] = dash
        self.templates.filters["component"] = component
        self.live = live.Live()

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def scope_check(self, request: web.Request, name: str) -> None:
        """That `name` is one VM this session may see (commands.Failed if not)."""
        self.scope.see(request[_SESSION].who, name)
        commands.one_vm(self.service, name)

    def render(
        self, template: str, session: Session | None, status: int = 200, **values: Any
    ) -> web.Response:
        text = self.templates.get_template(template).render(session=session, **values)
        return web.Response(status=status, text=text, content_type="text/html")

    async def stream(
        self, request: web.Request, template: str, data: Callable[[], Any], **values: Any
    ) -> web.StreamResponse:
        """A page whose template calls `data()`: its head sent before (streamed)."""
        return await streamed.send(
            request, self.templates.get_template(template),
            {"session": request[_SESSION], **values}, data, self.pool,
        )  # fmt: skip


def make_app(page: Page) -> web.Application:
    app = web.Application(
        client_max_size=1 << 20, middlewares=[_headers, _login_needed(page), _cached(page)]
    )
    app.on_shutdown.append(lambda _app: page.live.end())
    r = app.router

    async def login(request: web.Request) -> web.StreamResponse:
        try:
            who = page.redeemer.redeem(request.query.get("t", ""))
        except (LinkRefused, ValueError) as exc:
            log.warning("a login link was refused from %s: %s", request.remote, exc)
            return page.render(
                "login.html", None, status=403,
                why="This login link is not valid: it was used already, is older than 5 minutes,"
                " or was made before the service restarted.",
            )  # fmt: skip
        session = page.sessions.open(who)
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(
            COOKIE, session.id, max_age=int(SESSION_TTL), path="/", httponly=True,
            samesite="Strict", secure=page.tls,
        )  # fmt: skip
        log.info("%s logged in to the web page from %s", who, request.remote)
        return response

    async def logout(request: web.Request) -> web.StreamResponse:
        page.sessions.close(request[_SESSION].id)
        response = page.render("login.html", None, why="You are logged out.")
        response.del_cookie(COOKIE, path="/")
        return response

    async def overview(request: web.Request) -> web.StreamResponse:
        # Rendered here from what GET /api/overview answers: shown without a
        # second round trip and before any script runs.
        scope = await page.call(page.scope.cluster, request[_SESSION].who)
        return await page.stream(
            request, "overview.html", lambda: views.overview(page.service, scope), title="Overview"
        )

    async def vms(request: web.Request) -> web.StreamResponse:
        # The page asked for (the query of GET /api/vms), rendered here: its
        # rows are in the first answer, shown before any script runs; vms.js
        # puts this same part of another page's render in place.
        wanted = table.query(request.query)
        scope = await page.call(page.scope.cluster, request[_SESSION].who)
        return await page.stream(
            request, "vms.html", lambda: views.vm_page(page.service, scope, wanted),
            title="VMs", q=wanted, asked=dict(request.query),
        )  # fmt: skip

    async def one(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await page.call(page.scope.see, request[_SESSION].who, name)
        return page.render(
            "vm.html", request[_SESSION], title=name, name=name, actions=commands.ACTIONS
        )

    async def api_overview(request: web.Request) -> web.StreamResponse:
        scope = await page.call(page.scope.cluster, request[_SESSION].who)
        return web.json_response(await page.call(views.overview, page.service, scope))

    async def api_vms(request: web.Request) -> web.StreamResponse:
        wanted = table.query(request.query)
        scope = await page.call(page.scope.cluster, request[_SESSION].who)
        return web.json_response(await page.call(views.vm_page, page.service, scope, wanted))

    async def api_vm(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        await page.call(page.scope.see, request[_SESSION].who, name)
        return web.json_response(await page.call(views.vm, page.service, name))

    async def api_act(request: web.Request) -> web.StreamResponse:
        name, action = request.match_info["name"], request.match_info["action"]
        if action not in commands.ACTIONS:
            raise commands.Failed(404, f"no action {action!r}")
        body = await request.post()
        given = body.get("value")
        value = await page.call(
            page.scope.act, request[_SESSION].who, action, name,
            given if isinstance(given, str) else None,
        )  # fmt: skip
        said = await page.call(commands.perform, page.service, action, name, value)
        return web.json_response({"done": action, "warnings": said})

    async def events(request: web.Request) -> web.StreamResponse:
        names = await page.call(page.scope.names, request[_SESSION].who)
        return await page.live.stream(request, names)

    r.add_get("/login", login)
    r.add_post("/logout", logout)
    r.add_get("/", overview)
    r.add_get("/vms", vms)
    r.add_get("/vm/{name}", one)
    r.add_get("/api/overview", api_overview)
    r.add_get("/api/vms", api_vms)
    r.add_get("/api/vm/{name}", api_vm)
    r.add_post("/api/vm/{name}/{action}", api_act)
    r.add_get("/api/events", events)
    r.add_get("/api/vm/{name}/console", _console(page))
    r.add_static("/static", HERE / "static", append_version=False)
    return app


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except commands.Failed as exc:
        response = web.json_response({"error": str(exc)}, status=exc.code)
    except web.HTTPException as exc:
        response = web.json_response({"error": exc.reason}, status=exc.status)
    if not response.prepared:  # a stream has sent its head already, with these
        secure(response)
    return response


def _login_needed(page: Page) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/login" or request.path.startswith("/static/"):
            return await handler(request)
        session = page.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            if request.path.startswith("/api/"):
                return web.json_response({"error": "log in first: cairn report web"}, status=401)
            return page.render(
                "login.html", None, status=401,
                why="Log in with the link that 'cairn report web' prints on the frontend.",
            )  # fmt: skip
        own = own_origin(request, page.tls)
        origin = request.headers.get("Origin")
        if request.method == "POST":
            if not session.csrf_ok(request.headers.get("X-CSRF-Token")):
                return web.json_response({"error": "missing or wrong CSRF token"}, status=403)
            if origin is not None and origin != own:
                return web.json_response({"error": f"origin {origin} refused"}, status=403)
        elif request.headers.get("Upgrade", "").lower() == "websocket" and origin != own:
            log.warning("a WebSocket from origin %s refused", origin)
            return web.json_response({"error": f"origin {origin} refused"}, status=403)
        request[_SESSION] = session
        return await handler(request)

    return check


def _cached(page: Page) -> Middleware:
    """A static file's answer: kept a year when asked for by its versioned URL (assets)."""

    @web.middleware
    async def cache(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        name = request.match_info.get("filename")
        if request.path.startswith("/static/") and name is not None and response.status < 400:
            response.headers["Cache-Control"] = page.assets.cache_control(
                name, request.query.get("v")
            )
        return response

    return cache


def state_class(state: object) -> str:
    """A state's CSS class suffix, as pilot.js's stateBadge makes it."""
    return "none" if state is None else re.sub(r"[^a-z-]", "", str(state))


def dash(value: object) -> object:
    """A value as a table cell shows it: "-" for none, as pilot.js's row does."""
    return "-" if value is None else value


def component(value: object) -> str:
    """A value as one segment of a URL's path, as pilot.js's encodeURIComponent
    makes it: a "/" in a name does not make two segments."""
    return quote(str(value), safe="")


def own_origin(request: web.Request, tls: bool) -> str:
    return f"{'https' if tls else 'http'}://{request.host}"


def _console(page: Page) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        async def check(name: str) -> None:
            await page.call(page.scope_check, request, name)

        return await console.serve(request, page.service, check)

    return handler
