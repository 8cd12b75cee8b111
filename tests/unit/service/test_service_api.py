"""Batch mode through the service, and the JSON API on the same socket."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.cli import tree
from cairn.errors import UsageError
from cairn.service.api import decode, request_words
from conftest import Services, http
from testkit import Cli, build_cluster, one_error_line


def test_a_dump_piped_into_cairn_is_replayed_by_the_service(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    build_cluster(sqlite_cli)
    sqlite_cli.ok("set", "host", "attr", "compute-0-0", "nasty", "a\nb $HOME 'q\" `id`")
    dump = sqlite_cli.dump()
    copy, sock = f"sqlite:///{tmp_path / 'copy.db'}", tmp_path / "copy.sock"
    services.start(copy, sock, "watch=no")
    done = services.run(copy, sock, input="cairn init defaults=no\n" + dump)
    assert (done.code, done.err) == (0, "")
    assert services.run(copy, sock, "dump").out == dump

    broken = "add host compute-9-0 appliance=compute\nlist host nosuch\nadd host compute-9-1\n"
    failed = services.run(copy, sock, input=broken)
    assert failed.code == 1
    assert one_error_line(failed.err).startswith("error - line 2: ")
    hosts = services.run(copy, sock, "list", "host").out
    assert "compute-9-0" in hosts and "compute-9-1" not in hosts


def test_the_json_api_runs_commands_and_answers_rows(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    build_cluster(sqlite_cli)
    sock = tmp_path / "cairn.sock"
    services.start(sqlite_cli.url, sock, "watch=no")

    code, answer = http(
        sock,
        "POST",
        "/v1/set/host/attr",
        {"args": ["compute-0-1", "colour"], "params": {"value": "blue"}},
    )
    assert (code, answer["status"]) == (200, 0)
    code, answer = http(
        sock, "POST", "/v1/list/host/attr", {"args": ["compute-0-1"], "params": {"attr": "colour"}}
    )
    assert code == 200
    assert answer["rows"] == [
        {"host": "compute-0-1", "attr": "colour", "value": "blue", "source": "H"}
    ]
    assert answer["columns"] == ["host", "attr", "value", "source"]
    # The same rows as the command line's JSON.
    cli_rows = json.loads(
        sqlite_cli.ok("list", "host", "attr", "compute-0-1", "attr=colour", "output-format=json")
    )
    assert answer["rows"] == cli_rows

    code, answer = http(sock, "POST", "/v1/report/host/attr", {"args": ["compute-0-1"]})
    assert code == 200 and "colour" in answer["text"]

    assert http(sock, "POST", "/v1/list/host", {"args": ["nosuch-0-0"]})[0] == 404
    assert http(sock, "POST", "/v1/add/host", {"args": ["compute-0-0"]})[0] in (400, 409)
    assert http(sock, "POST", "/v1/nosuch", {})[0] == 400
    code, answer = http(sock, "POST", "/v1/list/host", b"not json".decode())
    assert code == 400 and "error" in answer


def test_openapi_describes_one_request_per_command(
    sqlite_cli: Cli, services: Services, tmp_path: Path
) -> None:
    sock = tmp_path / "cairn.sock"
    services.start(sqlite_cli.url, sock, "watch=no")
    code, spec = http(sock, "GET", "/openapi.json")
    assert code == 200 and spec["openapi"].startswith("3.")
    expected = {"/v1/" + "/".join(c) for c in tree.all_commands() if c != ("watch",)}
    assert set(spec["paths"]) - {"/openapi.json"} == expected
    op = spec["paths"]["/v1/set/host/attr"]["post"]
    params = op["requestBody"]["content"]["application/json"]["schema"]["properties"]["params"]
    command = tree.load(["set", "host", "attr"])
    assert set(params["properties"]) == {p.name for p in command.params} | {
        a.name for a in command.args
    }
    assert op["summary"] == (command.__doc__ or "").strip().splitlines()[0]


_TEXT = st.text() | st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u2028"])
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | _TEXT
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner) | st.dictionaries(_TEXT, inner), max_leaves=20
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(),
        _JSON.map(lambda v: json.dumps(v).encode()),
        st.dictionaries(st.sampled_from(["args", "params"]), _JSON).map(
            lambda v: json.dumps(v).encode()
        ),
    )
)
def test_any_body_is_read_as_words_or_refused_in_one_line(body: bytes) -> None:
    """Whatever the bytes, the body is words or a UsageError that says why:
    never another exception (which would be a 500) and never text a database
    cannot hold."""
    try:
        words = request_words(decode(body))
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    for word in words:
        assert isinstance(word, str)
        word.encode("utf-8")  # a lone surrogate would raise here
