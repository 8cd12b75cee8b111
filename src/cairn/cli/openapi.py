"""The OpenAPI description of the JSON API: one request per command.

`POST /v1/<word>/<word>...` runs `cairn <word> <word>...`; its JSON body holds
the positional arguments (`args`, a list of strings) and the parameters
(`params`, name -> string, or a list for a repeatable one). The answer is the
command's table as objects, or its text, with its warnings and exit status.
Generated from the command tree and each command's declarations, so it
cannot drift from the command line.
"""

from __future__ import annotations

import inspect
from typing import Any

from cairn.cli import tree
from cairn.cli.spec import Command

_RESULT = {
    "type": "object",
    "properties": {
        "status": {"type": "integer", "description": "the exit status of the command"},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {
            "type": "array",
            "items": {"type": "object"},
            "description": "one object per row, keyed by the lower-case column names",
        },
        "text": {"type": "string", "description": "the text of a report or dump"},
    },
    "required": ["status", "warnings"],
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
    "required": ["error"],
}


def description(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/openapi.json": {
            "get": {
                "summary": "This description.",
                "operationId": "openapi",
                "responses": {"200": {"description": "the OpenAPI document"}},
            }
        }
    }
    for words in tree.all_commands():
        if words == ("watch",):
            continue  # the service itself
        command = tree.load(words)
        paths["/v1/" + "/".join(words)] = {"post": operation(words, command)}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "cairn",
            "version": version,
            "description": "The cairn command line as JSON over the cairn service's Unix"
            ' socket, e.g. curl --unix-socket SOCKET -d \'{"args": ["compute-0-0"]}\''
            " http://cairn/v1/list/host/attr",
        },
        "paths": paths,
        "components": {"schemas": {"Result": _RESULT, "Error": _ERROR}},
    }


def operation(words: tuple[str, ...], command: type[Command]) -> dict[str, Any]:
    doc = inspect.getdoc(command) or ""
    params = {
        p.name: {
            **({"type": "array", "items": {"type": "string"}} if p.many else {"type": "string"}),
            "description": p.help,
            **({"default": str(p.default)} if p.default not in (None, ()) else {}),
        }
        for p in command.params
    }
    for arg in command.args:
        params.setdefault(arg.name, {"type": "string", "description": arg.help})
    required = [a.name for a in command.args if a.required]
    return {
        "summary": doc.split("\n", 1)[0],
        "description": doc,
        "operationId": "_".join(words),
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "args": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": " ".join(a.shown for a in command.args) or "none",
                            },
                            "params": {"type": "object", "properties": params},
                        },
                    }
                }
            }
        },
        "responses": {
            "200": _content("the command ran (see status)", "Result"),
            "400": _content("the request is wrong", "Error"),
            "404": _content("a named thing does not exist", "Error"),
            "408": _content("the body did not arrive in time", "Error"),
            "409": _content("it conflicts with what is stored", "Error"),
            "422": _content("the command refused", "Error"),
            "500": _content("cairn failed (the service's log has the traceback)", "Error"),
        },
        **({"x-required-args": required} if required else {}),
    }


def _content(what: str, schema: str) -> dict[str, Any]:
    return {
        "description": what,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
