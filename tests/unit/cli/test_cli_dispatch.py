"""cli/tree.py + main.py: dispatch, help, suggestions, error lines, light start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.cli import help as helptext
from cairn.cli import tree
from cairn.cli.main import main
from testkit import one_error_line

ALL = [" ".join(words) for words in tree.all_commands()]


@pytest.fixture
def run(capsys, monkeypatch, tmp_path):
    """cairn in-process with a database that cannot be opened: help must not need one."""
    monkeypatch.setenv("CAIRN_DB_URL", "sqlite:////proc/forbidden/cairn.db")

    def call(*words: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(words))
        out, err = capsys.readouterr()
        return code, out, err

    return call


# -- longest match -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "n"),
    [
        (["add", "host", "compute-0-9", "appliance=compute"], 2),
        (["add", "host", "attr", "compute-0-0", "a", "b"], 3),
        (["add", "host", "interface", "compute-0-0", "eth1"], 3),
        (["set", "host", "attr", "compute-0-0", "a", "b"], 3),
        (["set", "host", "cpus", "compute-0-0", "4"], 3),
        (["set", "host", "compute-0-0"], 0),  # `set host` alone is no command
        (["add", "host", "host=attr", "appliance=compute"], 2),  # a param ends the words
        (["list", "host"], 2),
        (["list", "host", "attr"], 3),
        (["dump"], 1),
        (["dump", "host", "attr", "x"], 3),
        (["lst", "host"], 0),
        (["..", "cli", "main"], 0),
        (["add", "__init__"], 0),
    ],
)
def test_longest_command(words, n):
    assert tree.longest_command(words) == n


def test_longest_match_end_to_end(sqlite_cli):
    sqlite_cli.ok("add", "host", "compute-0-9", "appliance=compute")
    sqlite_cli.ok("add", "host", "attr", "compute-0-9", "colour", "blue")
    hosts = sqlite_cli.ok("list", "host", "output-header=no").split()
    assert "compute-0-9" in hosts and "attr" not in hosts
    out = sqlite_cli.ok("report", "host", "attr", "compute-0-9", "attr=colour")
    assert out == "blue\n"


def test_every_command_module_loads_and_has_a_summary():
    for words in tree.all_commands():
        command = tree.load(words)
        assert helptext.summary(command), f"{' '.join(words)} has no summary"


# -- help ---------------------------------------------------------------------------


def test_help_lists_every_command_with_its_summary(run):
    code, out, err = run("help")
    assert code == 0 and err == ""
    assert out.startswith("usage: cairn")
    for words in tree.all_commands():
        title = " ".join(words)
        summary = helptext.summary(tree.load(words))
        assert any(
            line.split("  ")[0] == title and line.rstrip().endswith(summary)
            for line in out.splitlines()
        ), title


def test_no_words_is_help(run):
    assert run() == run("help")


@pytest.mark.parametrize("title", ALL)
def test_command_descriptions_are_wrapped_for_a_terminal(run, title):
    _, out, _ = run(*title.split(), "help")
    description = out.split("\n\n", 1)[1].split("\nArguments:", 1)[0].split("\nParameters:")[0]
    for line in description.splitlines():
        assert len(line) <= 79 or line[:1].isspace(), f"{title}: {line!r}"


def test_version_needs_no_database(run):
    from importlib.metadata import version

    code, out, err = run("--version")
    assert (code, out, err) == (0, f"cairn {version('cairn')}\n", "")
    assert "cairn --version" in run("help")[1]


def test_output_parameters_show_their_values_in_help(run):
    code, out, _ = run("list", "host", "help")
    assert code == 0
    assert "Output: [output-header=BOOL], [output-format=text|json]" in out


@pytest.mark.parametrize("title", ALL)
def test_command_help_both_ways(run, title):
    words = title.split()
    command = tree.load(words)
    code, after, err = run(*words, "help")
    assert code == 0 and err == ""
    code, before, err = run("help", *words)
    assert code == 0 and err == ""
    assert after == before
    assert after.startswith(f"cairn {title}")
    assert helptext.summary(command) in after
    if command.examples:
        assert "Examples:" in after
    for example in command.examples:
        assert f"$ {example.command}" in after
    for arg in command.args:
        assert arg.shown in after
    for param in command.params:
        assert param.shown in after


def test_help_of_a_command_group_lists_the_commands_below(run):
    code, out, _ = run("help", "set", "host")
    assert code == 0
    assert out.splitlines() == [f"cairn {c}" for c in tree.starting_with(["set", "host"])]
    assert "cairn set host attr" in out.splitlines()


def test_help_of_an_unknown_command(run):
    code, out, err = run("help", "frobnicate")
    assert code == 2 and out == ""
    assert "frobnicate" in one_error_line(err)


# -- incomplete and mistyped commands ----------------------------------------------


def test_incomplete_command_lists_candidates(run):
    code, out, err = run("set", "host")
    assert code == 2 and out == ""
    line = one_error_line(err)
    for candidate in ("set host attr", "set host cpus", "set host rack", "set host appliance"):
        assert candidate in line


def test_incomplete_command_with_a_host_word(run):
    # `attr` forgotten: the error still points at the `set host ...` commands.
    code, _, err = run("set", "host", "compute-0-0", "kvm", "true")
    assert code == 2
    assert "set host " in one_error_line(err).split("compute-0-0", 1)[1]


def test_an_unknown_word_is_named_without_the_arguments_after_it(run):
    code, _, err = run("set", "host", "atr", "compute-0-0", "kvm", "true")
    assert code == 2
    line = one_error_line(err)
    assert line.startswith("error - unknown command 'set host atr'; did you mean: set host attr")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["lst", "host"], "list host"),
        (["list", "hots"], "list host"),
        (["ad", "host"], "add host"),
        (["remvoe", "network"], "remove network"),
    ],
)
def test_typo_suggests_the_nearest_command(run, words, expected):
    code, out, err = run(*words)
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "did you mean" in line
    assert expected in line.split("did you mean:")[1]


def test_nonsense_points_to_help(run):
    code, _, err = run("xyzzy")
    assert code == 2
    assert "cairn help" in one_error_line(err)


# -- errors -------------------------------------------------------------------------


def test_error_is_one_line_and_exit_1(example_cluster):
    r = example_cluster("list", "host", "no-such-host")
    assert r.code == 1 and r.out == ""
    assert "no-such-host" in one_error_line(r.err)


def test_multi_line_message_is_joined_into_one_line(example_cluster):
    # A value with newlines in an error message must not break the one-line rule.
    r = example_cluster("set", "host", "attr", "compute-0-0", "kvm", "value=not\na\nboolean")
    assert r.code == 1
    one_error_line(r.err)


def test_cairn_process_exit_codes(sqlite_cli):
    r = sqlite_cli.process("list", "host", "nowhere-0-0")
    assert r.code == 1
    assert "nowhere-0-0" in one_error_line(r.err)
    r = sqlite_cli.process("lst", "host")
    assert r.code == 2
    assert "list host" in one_error_line(r.err)
    r = sqlite_cli.process("list", "host", "output-format=json")
    assert r.code == 0
    assert isinstance(json.loads(r.out), list)


# -- start-up stays light -----------------------------------------------------------

_PROBE = """
import contextlib, io, json, sys
from cairn.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    codes = [main(w) for w in json.loads(sys.argv[1])]
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('libvirt', 'sqlalchemy', 'lxml'))
print(json.dumps({"codes": codes, "heavy": heavy}))
"""


@pytest.mark.parametrize(
    ("argvs", "codes"),
    [
        ([["help"]], [0]),
        ([["lst", "host"]], [2]),
        ([["set", "host"]], [2]),
        ([["help", "frobnicate"]], [2]),
        (
            [["set", "host", "attr", "help"], ["help", "add", "host"], ["list", "host", "help"]],
            [0, 0, 0],
        ),
    ],
    ids=["help", "typo", "incomplete", "unknown-help", "command-help"],
)
def test_help_and_mistakes_import_no_heavy_modules(argvs, codes, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "CAIRN_DB_URL": f"sqlite:///{tmp_path}/x.db",
            "CAIRN_SERVICE": "off",
        },
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["codes"] == codes
    assert result["heavy"] == [], f"imported: {result['heavy']}"
    assert not (tmp_path / "x.db").exists(), "help created the database"


# -- the tree on a synthetic command directory ----------------------------------------


@pytest.fixture
def fake_tree(tmp_path, monkeypatch):
    # An importable package of its own: commands are found by importing them.
    package = f"fake_commands_{tmp_path.name}".replace("-", "_")
    root = tmp_path / package

    def write(rel: str, body: str = "") -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)

    write("__init__.py", '"""root"""\n')
    write("add/__init__.py", '"""group"""\n')
    write("add/host/__init__.py", '"""add host"""\n\nclass Command:\n    pass\n')
    write("add/host/attr.py", "class Command: ...\n")
    write("add/host/_private.py", "class Command: ...\n")
    write("set/__init__.py", '"""group"""\n')
    write("set/host/__init__.py", '"""group only"""\n')
    write("set/host/attr.py", "class Command: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(tree, "_PKG", package)
    tree.all_commands.cache_clear()
    tree._module.cache_clear()
    yield write
    tree.all_commands.cache_clear()
    tree._module.cache_clear()


def test_fake_tree_dispatch(fake_tree):
    assert tree.all_commands() == (
        ("add", "host"),
        ("add", "host", "attr"),
        ("set", "host", "attr"),
    )
    assert tree.longest_command(["add", "host", "x"]) == 2
    assert tree.longest_command(["add", "host", "attr", "x"]) == 3
    assert tree.longest_command(["add", "host", "_private"]) == 2
    assert tree.longest_command(["set", "host", "x"]) == 0
    assert tree.longest_command(["set", "host", "attr"]) == 3
    assert tree.starting_with(["set"]) == ["set host attr"]


def test_a_directory_does_not_hide_a_command_module(fake_tree, tmp_path):
    fake_tree("set/host/cpus.py", "class Command: ...\n")
    (tmp_path / tree._PKG / "set" / "host" / "cpus").mkdir()
    assert ("set", "host", "cpus") in tree.all_commands()
    assert tree.longest_command(["set", "host", "cpus", "h", "4"]) == 3


def test_every_listed_command_is_dispatchable():
    # The real tree: what help lists, dispatch must find.
    for words in tree.all_commands():
        assert tree.longest_command([*words, "x=1"]) == len(words), " ".join(words)


VERBS = sorted({words[0] for words in tree.all_commands()})
NOUNS = sorted({w for words in tree.all_commands() for w in words[1:]})


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(
        st.one_of(st.sampled_from([*VERBS, *NOUNS, "help", "x=1", ""]), st.text(max_size=8)),
        max_size=5,
    )
)
def test_help_of_any_words_never_crashes(run, words):
    code, out, err = run("help", *words)
    assert code in (0, 2)
    if code == 2:
        assert out == ""
        # One line as `wc -l` counts them (control characters are the next test's matter).
        assert err.startswith("error - ") and err.count("\n") == 1 and err.endswith("\n")
    else:
        assert err == "" and out


def test_crlf_word_is_shown_escaped_in_the_error(run):
    code, _, err = run("list", "host\r")
    assert code == 2
    assert "\r" not in err
    one_error_line(err)
