"""The JSON API's requests: what each route answers, described by OpenAPI.

`GET /openapi.json` is the description (`cairn.cli.openapi`);
`POST /v1/<words>` runs that command (body: {"args": [...], "params": {...}})
through the same `find`, `parse` and `perform` the command line uses, inside
the service's `wrap` (writers one at a time), in a bounded pool of threads so
the event loop never waits for a command; it answers the rows as objects.
Every answer, error or not, is a JSON object; an error has "error", one line.

HTTP itself (connections, timeouts, parsing) is `cairn.service.httpd`'s.
What the body may hold is bounded here: its size, whatever Content-Length
says; JSON nesting and integer length; text that is not Unicode (a lone
surrogate such as "\\ud800"). Interactive commands (a console) are refused:
they need the `cairn` client's terminal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from aiohttp import web

from cairn.cli.main import find, one_line, perform
from cairn.cli.parse import parse
from cairn.cli.spec import Table, Text
from cairn.errors import CairnError, Conflict, NotFound, UsageError

if TYPE_CHECKING:
    from cairn.service.server import Service

log = logging.getLogger("cairn.service")

MAX_BODY = 16 << 20
MAX_DIGITS = 40  # an integer longer than this is no count, size or id cairn takes
BODY_TIMEOUT = 15.0  # the whole body must arrive within this, once the head has
WORKERS = 8  # commands of HTTP clients running at once; more wait their turn
_REASONS = {400: "Bad Request", 403: "Forbidden", 503: "Service Unavailable"}
_openapi: dict[str, Any] | None = None


class _Refused(Exception):
    """A request answered with an error before any command runs."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def make_app(service: Service) -> web.Application:
    """The routes of the JSON API, for `httpd` to serve (and the coming web
    page to add its own to)."""
    pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cairn-api")
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_errors_in_json])

    async def describe(request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        return _json(200, await loop.run_in_executor(pool, openapi, service.version))

    async def command(request: web.Request) -> web.Response:
        body = await _body(request)
        words = request.match_info["words"].split("/")
        loop = asyncio.get_running_loop()
        code, result = await loop.run_in_executor(pool, run_counted, service, words, body)
        return _json(code, result)

    async def elsewhere(request: web.Request) -> web.Response:
        return _json(404, {"error": f"no {request.method} {request.path}; see GET /openapi.json"})

    app.router.add_get("/openapi.json", describe)
    app.router.add_post("/v1/{words:.+}", command, expect_handler=_expect)
    app.router.add_route("*", "/{anything:.*}", elsewhere)
    return app


@web.middleware
async def _errors_in_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except _Refused as exc:
        response = _json(exc.code, {"error": str(exc)})
        response.force_close()  # the rest of the body, if any, is not read
        return response
    except web.HTTPException as exc:
        return _json(exc.status, {"error": exc.reason})


async def _expect(request: web.Request) -> web.StreamResponse | None:
    """`Expect: 100-continue`: a body too large is refused before it is sent."""
    if request.headers.get("Expect", "").lower() != "100-continue":
        refusal = _json(417, {"error": "the only Expect understood is 100-continue"})
    elif (request.content_length or 0) > MAX_BODY:
        refusal = _json(400, {"error": _too_large()})
    else:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer itself has not started
        return None
    refusal.force_close()  # the body the client still holds is not read
    return refusal


async def _body(request: web.Request) -> bytes:
    """The body, at most MAX_BODY bytes whatever Content-Length says (chunked
    bodies have none), within BODY_TIMEOUT."""
    if (request.content_length or 0) > MAX_BODY:
        raise _Refused(400, _too_large())
    data = bytearray()
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            while chunk := await request.content.read(1 << 16):
                data += chunk
                if len(data) > MAX_BODY:
                    raise _Refused(400, _too_large())
    except TimeoutError:
        raise _Refused(408, f"the body did not arrive within {BODY_TIMEOUT:g} s") from None
    return bytes(data)


def _too_large() -> str:
    return f"the request body is larger than {MAX_BODY >> 20} MiB"


def _json(code: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=code, text=_dumps(body), content_type="application/json")


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, indent=1) + "\n"


def error_body(message: str) -> str:
    """An error answer's body, for what `httpd` answers itself."""
    return _dumps({"error": one_line(message)})


def openapi(version: str) -> dict[str, Any]:
    global _openapi
    if _openapi is None:
        from cairn.cli.openapi import description

        _openapi = description(version)
    return _openapi


def run_counted(service: Service, words: list[str], body: bytes) -> tuple[int, dict[str, Any]]:
    # Counted as the service's own clients are: it neither stops for being
    # idle nor exits before the command's transaction ends.
    with service._counted():
        return run(service, words, body)


def run(service: Service, words: list[str], body: bytes) -> tuple[int, dict[str, Any]]:
    """Runs the command `words` names with the body's args and params: the
    HTTP status and the answer."""
    title = " ".join(words)
    try:
        request = decode(body)
        command, title, rest = find(words)
        if rest or words[:1] == ["watch"]:
            raise NotFound(f"no command {'/'.join(words)}; see GET /openapi.json")
        if command.interactive:
            raise UsageError(
                f"'{title}' needs a terminal: run it with the cairn client, not the JSON API"
            )
        a = parse(command, title, request_words(request))
        result, notes = perform(command, a, wrap=service.wrap)
    except CairnError as exc:
        return _status(exc), {"error": one_line(str(exc)), "status": exc.exit_code}
    # A bug, or a plugin that calls sys.exit() inside the service: the client
    # hears of it, the log keeps the traceback, the service goes on.
    except (Exception, SystemExit) as exc:
        log.exception("the JSON API's '%s' failed", title)
        message = f"'{title}' failed inside cairn ({type(exc).__name__}: {exc}); see the log"
        return 500, {"error": one_line(message), "status": 1}
    answer: dict[str, Any] = {"status": 0, "warnings": notes}
    if isinstance(result, Table):
        keys = [c.lower() for c in result.columns]
        answer.update(
            status=result.status,
            columns=keys,
            rows=[dict(zip(keys, row, strict=True)) for row in result.rows],
        )
    elif isinstance(result, Text):
        answer.update(status=result.status, text=result.body)
    return 200, answer


def decode(body: bytes) -> dict[str, Any]:
    """The body's JSON object, or a UsageError that says what is wrong with it."""
    try:
        request = json.loads(body or b"{}", parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise UsageError("the body's JSON is nested too deeply") from None
    except ValueError as exc:  # not JSON, not UTF-8, or a bound of _integer
        raise UsageError(f"the body is not JSON cairn takes: {exc}") from None
    if not isinstance(request, dict):
        raise UsageError("the body must be a JSON object with args and params")
    return request


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of more than {MAX_DIGITS} digits")
    return int(digits)


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON has")


def request_words(request: dict[str, Any]) -> list[str]:
    """The command line words a request's args and params stand for."""
    args, params = request.get("args", []), request.get("params", {})
    if not isinstance(args, list) or not isinstance(params, dict):
        raise UsageError("args must be a list and params an object")
    words = [_word(a) for a in args]
    for name, value in params.items():
        for one in value if isinstance(value, list) else [value]:
            words.append(f"{_text(name)}={_word(one)}")
    return words


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int | float):
        return str(value)
    raise UsageError(
        f"args and params must be strings, numbers or booleans, not {type(value).__name__}"
    )


def _text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        shown = value.encode("utf-8", "backslashreplace").decode()[:60]
        raise UsageError(f"'{shown}' is not Unicode text (a lone surrogate)") from None
    return value


def _status(exc: CairnError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, UsageError):
        return 400
    return 422


def send_json(conn: socket.socket, code: int, body: dict[str, Any]) -> None:
    """A whole answer written straight to a blocking socket, for refusing a
    connection before it reaches the HTTP server (another user, too many)."""
    data = _dumps(body).encode()
    reason = _REASONS.get(code, "Error")
    head = (
        f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    conn.sendall(head.encode() + data)
