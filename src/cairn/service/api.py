"""The JSON API: HTTP/1.1 on the service's socket, described by OpenAPI.

`GET /openapi.json` is the description (`cairn.cli.openapi`);
`POST /v1/<words>` runs that command (body: {"args": [...], "params": {...}})
through the same `find`, `parse` and `perform` the command line uses, and
answers its rows as objects. One request per connection.
"""

from __future__ import annotations

import json
import socket
from typing import TYPE_CHECKING, Any

from cairn.cli.main import find, one_line, perform
from cairn.cli.parse import parse
from cairn.cli.spec import Table, Text
from cairn.errors import CairnError, Conflict, NotFound, UsageError

if TYPE_CHECKING:
    from cairn.service.server import Service

MAX_BODY = 16 << 20
_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
_openapi: dict[str, Any] | None = None


def answer(service: Service, conn: socket.socket) -> None:
    reader = conn.makefile("rb")
    try:
        method, target, headers = _head(reader)
        length = int(headers.get("content-length", "0") or 0)
        if length > MAX_BODY:
            send_json(conn, 400, {"error": "the request body is too large"})
            return
        body = reader.read(length) if length else b""
    except (ValueError, UnicodeDecodeError):
        send_json(conn, 400, {"error": "not an HTTP/1.1 request"})
        return
    finally:
        reader.close()
    path = target.split("?", 1)[0]
    if method == "GET" and path == "/openapi.json":
        send_json(conn, 200, openapi(service.version))
    elif method == "POST" and path.startswith("/v1/"):
        code, result = run(service, path[4:].split("/"), body)
        send_json(conn, code, result)
    else:
        send_json(conn, 404, {"error": f"no {method} {path}; see GET /openapi.json"})


def openapi(version: str) -> dict[str, Any]:
    global _openapi
    if _openapi is None:
        from cairn.cli.openapi import description

        _openapi = description(version)
    return _openapi


def run(service: Service, words: list[str], body: bytes) -> tuple[int, dict[str, Any]]:
    try:
        request = json.loads(body or b"{}")
        if not isinstance(request, dict):
            raise UsageError("the body must be a JSON object with args and params")
        command, title, rest = find(words)
        if rest or words[:1] == ["watch"]:
            raise NotFound(f"no command {'/'.join(words)}; see GET /openapi.json")
        a = parse(command, title, _words(request))
        result, notes = perform(command, a, wrap=service.wrap)
    except json.JSONDecodeError as exc:
        return 400, {"error": f"the body is not JSON: {exc}"}
    except CairnError as exc:
        return _status(exc), {"error": one_line(str(exc)), "status": exc.exit_code}
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


def _words(request: dict[str, Any]) -> list[str]:
    args, params = request.get("args", []), request.get("params", {})
    if not isinstance(args, list) or not isinstance(params, dict):
        raise UsageError("args must be a list and params an object")
    words = [_word(a) for a in args]
    for name, value in params.items():
        for one in value if isinstance(value, list) else [value]:
            words.append(f"{name}={_word(one)}")
    return words


def _word(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value)
    raise UsageError(f"{value!r} is not a string, number or boolean")


def _status(exc: CairnError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, UsageError):
        return 400
    return 422


def _head(reader: Any) -> tuple[str, str, dict[str, str]]:
    method, target, _version = reader.readline(8192).decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        line = reader.readline(8192).decode("latin-1").strip()
        if not line:
            break
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


def send_json(conn: socket.socket, code: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, indent=1).encode() + b"\n"
    reason = _REASONS.get(code, "Error")
    head = (
        f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    conn.sendall(head.encode() + data)
