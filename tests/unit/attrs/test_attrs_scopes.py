"""Attribute scopes and resolution: host > appliance > os > global, intrinsic facts,
add/set/remove rules and the checks on well-known names."""

from __future__ import annotations

import json
import shlex

import pytest

from testkit import one_error_line, table

SCOPES = {  # scope -> the words naming an owner in the example cluster
    "global": ("attr",),
    "os": ("os", "attr", "linux"),
    "appliance": ("appliance", "attr", "compute"),
    "host": ("host", "attr", "compute-0-0"),
}


def resolved(cli, *hosts: str, attr: str | None = None) -> dict[tuple[str, str], tuple[str, str]]:
    words = ["list", "host", "attr", *hosts, "output-format=json"]
    if attr:
        words.append(f"attr={attr}")
    rows = json.loads(cli.ok(*words))
    return {(r["host"], r["attr"]): (r["value"], r["source"]) for r in rows}


def test_precedence_host_appliance_os_global(example_cluster):
    c = example_cluster
    c.ok("set", "attr", "colour", "global-red")
    c.ok("set", "os", "attr", "linux", "colour", "os-green")
    c.ok("set", "appliance", "attr", "compute", "colour", "app-blue")
    c.ok("set", "host", "attr", "compute-0-0", "colour", "host-black")
    got = resolved(c, attr="colour")
    assert got[("compute-0-0", "colour")] == ("host-black", "H")
    assert got[("compute-0-1", "colour")] == ("app-blue", "A")
    assert got[("vm-container-0-0", "colour")] == ("os-green", "O")

    c.ok("remove", "host", "attr", "compute-0-0", "colour")
    assert resolved(c, "compute-0-0", attr="colour") == {
        ("compute-0-0", "colour"): ("app-blue", "A")
    }
    c.ok("remove", "appliance", "attr", "compute", "colour")
    assert resolved(c, "compute-0-0", attr="colour") == {
        ("compute-0-0", "colour"): ("os-green", "O")
    }
    c.ok("remove", "os", "attr", "linux", "colour")
    assert resolved(c, "compute-0-0", attr="colour") == {
        ("compute-0-0", "colour"): ("global-red", "G")
    }
    c.ok("remove", "attr", "colour")
    assert resolved(c, "compute-0-0", attr="colour") == {}


def test_example_cluster_sources(example_cluster):
    got = resolved(example_cluster, "compute-0-0", "compute-0-1", "vm-container-0-0")
    assert got[("compute-0-0", "kvm_autostart")] == ("true", "H")
    assert got[("compute-0-1", "kvm_autostart")] == ("false", "A")
    assert ("vm-container-0-0", "kvm_autostart") not in got
    assert got[("vm-container-0-0", "kvm")] == ("true", "A")
    assert got[("compute-0-0", "cpu_mode")] == ("host-passthrough", "G")
    assert got[("compute-0-0", "kvm_connection")] == ("qemu+ssh://{host}/system", "G")


def test_intrinsic_facts(example_cluster):
    example_cluster.ok("set", "host", "rack", "vm-container-0-1", "3")
    got = resolved(example_cluster, "vm-container-0-1")
    intrinsic = {k[1]: v for k, v in got.items() if v[1] == "I"}
    assert intrinsic == {
        "hostname": ("vm-container-0-1", "I"),
        "appliance": ("vm-container", "I"),
        "os": ("linux", "I"),
        "rack": ("3", "I"),
        "rank": ("1", "I"),
        "cpus": ("16", "I"),
    }


def test_list_host_attr_is_sorted_by_name_per_host(example_cluster):
    out = example_cluster.ok("list", "host", "attr", "compute-0-0", "output-header=no")
    names = [line.split()[1] for line in out.splitlines()]
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_list_host_attr_without_host_lists_every_host(example_cluster):
    hosts = example_cluster.ok("list", "host", "output-header=no").split("\n")
    hosts = [line.split()[0] for line in hosts if line]
    got = resolved(example_cluster)
    assert sorted({h for h, _ in got}) == sorted(hosts)
    for host in hosts:
        assert got[(host, "hostname")] == (host, "I")
        assert got[(host, "cpu_mode")] == ("host-passthrough", "G")


def test_list_host_attr_filter_and_unknown_host(example_cluster):
    got = resolved(example_cluster, "compute", attr="kvm_autostart")
    assert got == {
        ("compute-0-0", "kvm_autostart"): ("true", "H"),
        ("compute-0-1", "kvm_autostart"): ("false", "A"),
    }
    r = example_cluster("list", "host", "attr", "nosuch")
    assert r.code == 1 and "nosuch" in one_error_line(r.err)


@pytest.mark.parametrize(
    "value",
    [
        "<cputune><vcpupin vcpu='0' cpuset='4'/></cputune>",
        "a & b < c > d &amp; &lt;",
        "trailing newline\n",
        "",
        "  spaces  ",
        "Grüße ☃",
        "two\nlines",
    ],
)
def test_report_prints_the_original_value_exactly(example_cluster, value):
    example_cluster.ok("set", "host", "attr", "compute-0-1", "note", f"value={value}")
    out = example_cluster.ok("report", "host", "attr", "compute-0-1", "attr=note")
    assert out == value + "\n"


def test_report_resolves_through_the_scopes_and_without_attr(example_cluster):
    c = example_cluster
    c.ok("set", "appliance", "attr", "compute", "note", "value=a<b")
    assert c.ok("report", "host", "attr", "compute-0-1", "attr=note") == "a<b\n"
    lines = c.ok("report", "host", "attr", "compute-0-1").splitlines()
    assert "note: a<b" in lines
    assert "hostname: compute-0-1" in lines
    assert "cpu_mode: host-passthrough" in lines


def test_report_of_a_missing_attribute(example_cluster):
    r = example_cluster("report", "host", "attr", "compute-0-1", "attr=nope")
    assert r.code == 1 and r.out == ""
    assert "nope" in one_error_line(r.err)


def test_list_shows_values_escaped_at_every_scope(example_cluster):
    c = example_cluster
    for scope, words in SCOPES.items():
        c.ok("set", *words, "xml", f"value=<{scope} a='1'>&</{scope}>")
    for scope, words in SCOPES.items():
        rows = json.loads(c.ok("list", *words, "attr=xml", "output-format=json"))
        assert [r["value"] for r in rows] == [f"&lt;{scope} a='1'&gt;&amp;&lt;/{scope}&gt;"]


@pytest.mark.parametrize("scope", SCOPES)
def test_add_refuses_existing_set_replaces(example_cluster, scope):
    c = example_cluster
    words = SCOPES[scope]
    c.ok("add", *words, "colour", "red")
    before = c.dump()
    r = c("add", *words, "colour", "blue")
    assert r.code == 1
    line = one_error_line(r.err)
    assert "colour" in line and "set" in line
    assert c.dump() == before
    c.ok("set", *words, "colour", "blue")
    rows = json.loads(c.ok("list", *words, "attr=colour", "output-format=json"))
    assert [r["value"] for r in rows] == ["blue"]


@pytest.mark.parametrize("scope", SCOPES)
def test_remove_of_a_missing_attribute_errors(example_cluster, scope):
    before = example_cluster.dump()
    r = example_cluster("remove", *SCOPES[scope], "nope")
    assert r.code == 1
    line = one_error_line(r.err)
    assert "nope" in line
    # It names the listing that shows what the owner holds, runnable as it is.
    listing = line.rsplit("(see: cairn ", 1)[1].rstrip(")")
    assert listing == " ".join(("list", *SCOPES[scope]))
    assert example_cluster(*listing.split()).code == 0
    assert example_cluster.dump() == before


def test_intrinsic_names_are_refused_at_every_scope(example_cluster):
    before = example_cluster.dump()
    for name in ("hostname", "appliance", "os", "rack", "rank", "cpus"):
        for verb in ("set", "add"):
            for words in SCOPES.values():
                r = example_cluster(verb, *words, name, "7")
                assert r.code == 1, (verb, words, name)
                assert name in one_error_line(r.err)
    assert example_cluster.dump() == before


@pytest.mark.parametrize("name", ["kvm", "kvm_autostart"])
def test_booleans_are_checked_at_every_scope(example_cluster, name):
    c = example_cluster
    before = c.dump()
    for words in SCOPES.values():
        r = c("set", *words, name, "maybe")
        assert r.code == 1, words
        assert "maybe" in one_error_line(r.err)
        r = c("add", *words, "value=perhaps", f"attr={name}")
        assert r.code == 1, words
    assert c.dump() == before
    for words in SCOPES.values():
        c.ok("set", *words, name, "Yes")
        c.ok("set", *words, name, "0")


def test_attribute_name_with_trailing_newline_is_refused(example_cluster):
    # `$` in a regex matches before a final newline: 'kvm\n' once slipped past
    # the name check and with it the boolean check.
    before = example_cluster.dump()
    r = example_cluster("set", "host", "attr", "compute-0-0", "kvm\n", "maybe")
    assert r.code == 2
    one_error_line(r.err)
    assert example_cluster.dump() == before


def test_kvm_device_xml_is_checked_when_set(example_cluster):
    before = example_cluster.dump()
    r = example_cluster("set", "host", "attr", "compute-0-0", "kvm_device_0", "value=<serial")
    assert r.code == 1
    assert example_cluster.dump() == before


def test_bad_attribute_names(sqlite_example_cluster):
    for name in ["1abc", "_x", "a b", "a=b", "x" * 129, "", "kvm\n", "é"]:
        r = sqlite_example_cluster("set", "attr", f"attr={name}", "value=v")
        assert r.code == 2, name
        one_error_line(r.err)


def test_glob_and_appliance_owners(example_cluster):
    c = example_cluster
    c.ok("set", "host", "attr", "vm-container-*", "colour", "red")
    c.ok("set", "host", "attr", "compute", "colour", "blue")
    got = resolved(c, attr="colour")
    assert got == {
        ("compute-0-0", "colour"): ("blue", "H"),
        ("compute-0-1", "colour"): ("blue", "H"),
        ("vm-container-0-0", "colour"): ("red", "H"),
        ("vm-container-0-1", "colour"): ("red", "H"),
    }
    c.ok("remove", "host", "attr", "compute-0-?", "colour")
    assert set(resolved(c, attr="colour")) == {
        ("vm-container-0-0", "colour"),
        ("vm-container-0-1", "colour"),
    }


def test_list_scoped_attrs_of_all_owners(example_cluster):
    rows = json.loads(example_cluster.ok("list", "appliance", "attr", "output-format=json"))
    assert {(r["appliance"], r["attr"], r["value"]) for r in rows} == {
        ("compute", "kvm_autostart", "false"),
        ("vm-container", "kvm", "true"),
    }
    rows = json.loads(
        example_cluster.ok("list", "host", "attr", "output-format=json", "attr=kvm_autostart")
    )
    assert {r["host"] for r in rows} == {"compute-0-0", "compute-0-1"}


@pytest.mark.parametrize("word", ["compute-0-*", "compute"])
def test_report_of_several_hosts_is_refused_with_the_listing_to_use(example_cluster, word):
    """Bare values of several hosts would not say whose they are."""
    r = example_cluster("report", "host", "attr", word, "attr=cpu_mode")
    assert r.code == 2
    line = one_error_line(r.err)
    assert f"{word!r} names 2 hosts" in line
    suggested = shlex.split(line.split("list them with: ", 1)[1])
    assert suggested[:5] == ["cairn", "list", "host", "attr", word]
    rows = table(example_cluster, *suggested[1:])
    assert sorted(r["host"] for r in rows) == ["compute-0-0", "compute-0-1"]
    assert {r["attr"] for r in rows} == {"cpu_mode"}
