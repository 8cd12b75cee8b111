"""cli/parse.py and values.py: words -> typed arguments, and the usage errors."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn import values
from cairn.cli import tree
from cairn.cli.parse import OUTPUT_PARAMS, key, parse
from cairn.errors import UsageError
from testkit import one_error_line

SET_HOST_ATTR = tree.load(("set", "host", "attr"))
ADD_HOST = tree.load(("add", "host"))
LIST_HOST = tree.load(("list", "host"))
CPUTUNE = '<cputune><vcpupin vcpu="0" cpuset="4"/></cputune>'

TRUE_WORDS = ["yes", "true", "on", "1", "y"]
FALSE_WORDS = ["no", "false", "off", "0", "n"]


def _spellings(words: list[str]) -> list[str]:
    return sorted({f(w) for w in words for f in (str.lower, str.upper, str.capitalize)})


# -- splitting at the first '=' ------------------------------------------------


def test_param_splits_at_first_equals_sign():
    a = parse(
        SET_HOST_ATTR, "set host attr", ["compute-0-0", "kvm_cpu_pinning", f"value={CPUTUNE}"]
    )
    assert a["value"] == CPUTUNE
    a = parse(SET_HOST_ATTR, "set host attr", ["h", "x", "value=a=b==c="])
    assert a["value"] == "a=b==c="


def test_param_may_be_empty_or_hold_newlines():
    a = parse(SET_HOST_ATTR, "set host attr", ["h", "x", "value="])
    assert a["value"] == ""
    a = parse(SET_HOST_ATTR, "set host attr", ["h", "x", "value=one\ntwo=2\n"])
    assert a["value"] == "one\ntwo=2\n"


def test_word_that_is_not_name_equals_is_positional():
    # '=' not preceded by a name: the whole word is the positional VALUE.
    a = parse(SET_HOST_ATTR, "set host attr", ["h", "x", "=a"])
    assert a["value"] == "=a"
    a = parse(SET_HOST_ATTR, "set host attr", ["h", "x", "a b=c"])
    assert a["value"] == "a b=c"


def test_xml_value_keeps_its_equals_signs_end_to_end(example_cluster):
    example_cluster.ok("set", "host", "attr", "compute-0-0", "kvm_cpu_pinning", f"value={CPUTUNE}")
    out = example_cluster.ok("report", "host", "attr", "compute-0-0", "attr=kvm_cpu_pinning")
    assert out == CPUTUNE + "\n"


# -- args given as params ------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        ["compute-0-0", "kvm_autostart", "true"],
        ["compute-0-0", "attr=kvm_autostart", "value=true"],
        ["host=compute-0-0", "attr=kvm_autostart", "value=true"],
        ["value=true", "attr=kvm_autostart", "host=compute-0-0"],
        ["compute-0-0", "kvm_autostart", "value=true"],
        ["attr=kvm_autostart", "compute-0-0", "true"],
    ],
)
def test_args_may_be_given_as_params(words):
    expected = parse(SET_HOST_ATTR, "set host attr", ["compute-0-0", "kvm_autostart", "true"])
    assert parse(SET_HOST_ATTR, "set host attr", words) == expected
    assert expected["host"] == "compute-0-0"
    assert expected["attr"] == "kvm_autostart"
    assert expected["value"] == "true"


def test_param_form_stores_the_same_as_positional(example_cluster):
    c = example_cluster
    c.ok("set", "host", "attr", "vm-container-0-0", "kvm_autostart", "true")
    c.ok("set", "host", "attr", "vm-container-0-1", "attr=kvm_autostart", "value=true")
    out = c.ok("list", "host", "attr", "vm-container", "attr=kvm_autostart", "output-header=no")
    rows = [line.split() for line in out.splitlines()]
    assert rows == [
        ["vm-container-0-0", "kvm_autostart", "true", "H"],
        ["vm-container-0-1", "kvm_autostart", "true", "H"],
    ]
    first, second = c.ok("dump", "host", "attr", "vm-container").splitlines()
    assert first.replace("vm-container-0-0", "vm-container-0-1") == second


# -- booleans -------------------------------------------------------------------


@pytest.mark.parametrize("word", _spellings(TRUE_WORDS))
def test_boolean_true_spellings(word):
    assert values.boolean(word) is True


@pytest.mark.parametrize("word", _spellings(FALSE_WORDS))
def test_boolean_false_spellings(word):
    assert values.boolean(word) is False


@pytest.mark.parametrize("word", ["maybe", "", "2", "yess", "tru", "nope", "-1", "t", "f"])
def test_boolean_refuses_other_words(word):
    with pytest.raises(ValueError):
        values.boolean(word)


@pytest.mark.parametrize(("word", "shown"), [("YES", "true"), ("Off", "false"), ("1", "true")])
def test_boolean_param_end_to_end(sqlite_cli, word, shown):
    sqlite_cli.ok("add", "appliance", "gpu", f"kvm={word}")
    out = sqlite_cli.ok("list", "appliance", "attr", "gpu", "output-header=no")
    assert out.split() == ["gpu", "kvm", shown]


def test_bad_boolean_is_a_usage_error_of_one_line(sqlite_cli):
    r = sqlite_cli("add", "appliance", "gpu", "kvm=maybe")
    assert r.code == 2
    line = one_error_line(r.err)
    assert "kvm=" in line and "maybe" in line
    assert r.out == ""
    assert "gpu" not in sqlite_cli.ok("list", "appliance")


def test_bad_output_header_boolean(sqlite_cli):
    r = sqlite_cli("list", "host", "output-header=perhaps")
    assert r.code == 2
    assert "output-header=" in one_error_line(r.err)


# -- usage errors -----------------------------------------------------------------


def test_missing_required_positional_is_named():
    with pytest.raises(UsageError) as e:
        parse(SET_HOST_ATTR, "set host attr", ["compute-0-0", "kvm_autostart"])
    assert "VALUE" in str(e.value)
    assert e.value.exit_code == 2


def test_missing_required_param_is_named():
    with pytest.raises(UsageError) as e:
        parse(ADD_HOST, "add host", ["compute-0-9"])
    assert "appliance=" in str(e.value)


def test_missing_required_arg_end_to_end(sqlite_cli):
    r = sqlite_cli("set", "host", "attr", "localhost", "kvm_autostart")
    assert r.code == 2
    assert "VALUE" in one_error_line(r.err)


def test_unknown_parameter_lists_what_the_command_takes():
    with pytest.raises(UsageError) as e:
        parse(ADD_HOST, "add host", ["x", "appliance=compute", "colour=red"])
    msg = str(e.value)
    assert "colour" in msg
    for name in ("appliance", "rack", "rank", "cpus", "os", "host"):
        assert name in msg


def test_unknown_parameter_end_to_end(sqlite_cli):
    r = sqlite_cli("add", "host", "x", "appliance=compute", "colour=red")
    assert r.code == 2
    line = one_error_line(r.err)
    assert "colour" in line and "appliance" in line


@pytest.mark.parametrize(
    "words",
    [
        ["set", "os", "attr", "linux", "kernel_opts", "console=ttyS0,115200 quiet"],
        ["set", "attr", "kernel_opts", "console=ttyS0"],
    ],
)
def test_a_value_holding_equals_is_told_how_to_pass(sqlite_cli, words):
    r = sqlite_cli(*words)
    assert r.code == 2
    line = one_error_line(r.err)
    hint = line.split("; to give ", 1)[1].split(" as the value, write ", 1)[1]
    fixed = shlex.split(hint.rsplit(" (see:", 1)[0])
    assert fixed == [f"value={words[-1]}"]
    sqlite_cli.ok(*words[:-1], *fixed)  # the suggestion works as written
    assert (
        sqlite_cli.ok("report", "host", "attr", "localhost", "attr=kernel_opts")
        == (words[-1] + "\n")
        or words[1] == "os"
    )


def test_an_arg_given_as_a_word_and_as_a_param(sqlite_cli):
    r = sqlite_cli("add", "host", "compute-0-9", "appliance=compute", "host=compute-0-8")
    assert r.code == 2
    line = one_error_line(r.err)
    assert "'add host' does not take 'compute-0-9' here: host= already gives" in line
    assert "give each once" in line


def test_an_unquoted_value_with_spaces_is_told_to_quote(sqlite_cli):
    r = sqlite_cli("set", "attr", "attr=motd", "hello", "world")
    assert r.code == 2
    line = one_error_line(r.err)
    assert "does not take 'world' here" in line and "a value with spaces needs quotes" in line
    assert "already gives" not in line


def test_param_given_twice():
    with pytest.raises(UsageError) as e:
        parse(ADD_HOST, "add host", ["x", "appliance=compute", "rack=1", "rack=2"])
    assert "rack" in str(e.value)


def test_arg_given_both_as_param_and_positionally_is_refused():
    with pytest.raises(UsageError):
        parse(SET_HOST_ATTR, "set host attr", ["h", "a", "v", "value=w"])


def test_extra_positional_word_is_named():
    with pytest.raises(UsageError) as e:
        parse(ADD_HOST, "add host", ["x", "y", "appliance=compute"])
    assert "'y'" in str(e.value)


def test_many_arg_takes_the_rest():
    a = parse(LIST_HOST, "list host", ["a", "b*", "c"])
    assert a["host"] == ["a", "b*", "c"]
    assert parse(LIST_HOST, "list host", [])["host"] == []


def test_defaults_and_conversion():
    a = parse(ADD_HOST, "add host", ["x", "appliance=compute", "cpus=16"])
    assert a["cpus"] == 16
    assert a["rack"] == 0 and a["rank"] == 0 and a["os"] == "linux"
    assert a["output_header"] is True and a["output_format"] == "text"


@pytest.mark.parametrize("word", ["cpus=0", "cpus=x", "rack=-1", "cpus=4097", "cpus="])
def test_bad_integers_are_usage_errors(word):
    with pytest.raises(UsageError) as e:
        parse(ADD_HOST, "add host", ["x", "appliance=compute", word])
    assert word.split("=")[0] in str(e.value)


# -- any words: only UsageError ----------------------------------------------------

COMMANDS = [(" ".join(w), tree.load(w)) for w in tree.all_commands()]


def _names(command) -> list[str]:
    return [s.name for s in (*command.args, *command.params, *OUTPUT_PARAMS)]


ALL_NAMES = sorted({n for _, c in COMMANDS for n in _names(c)} | {"x", "A.b-c_d"})
word = st.one_of(
    st.text(max_size=12),
    st.builds(lambda n, v: f"{n}={v}", st.sampled_from(ALL_NAMES), st.text(max_size=12)),
    st.sampled_from(["yes", "no", "0", "1", "-1", "4096", "compute-0-0", "eth0", "="]),
)


@settings(max_examples=400, deadline=None)
@given(command=st.sampled_from(COMMANDS), words=st.lists(word, max_size=6))
def test_parse_raises_only_usage_error(command, words):
    title, cmd = command
    try:
        a = parse(cmd, title, words)
    except UsageError as exc:
        assert exc.exit_code == 2
        return
    # On success every declared argument and parameter has a value.
    assert set(a) == {key(n) for n in _names(cmd)}
