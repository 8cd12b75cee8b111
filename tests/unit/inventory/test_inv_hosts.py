"""Inventory: appliances, hosts and HOST arguments (names, appliances, globs, localhost)."""

from __future__ import annotations

import pytest

from testkit import one_error_line, table, this_host


def host_names(cli, *words: str) -> list[str]:
    return [r["host"] for r in table(cli, "list", "host", *words)]


# -- appliances ---------------------------------------------------------------------


def test_list_appliance_shows_hosts_count_and_kvm(example_cluster):
    rows = {
        r["appliance"]: (r["hosts"], r["kvm"]) for r in table(example_cluster, "list", "appliance")
    }
    assert rows == {
        "compute": (2, "false"),
        "frontend": (1, "false"),
        "hosted-vm": (0, "false"),
        "login": (0, "false"),
        "vm-container": (2, "true"),
    }
    out = example_cluster.ok("list", "appliance", "output-header=no")
    assert [line.split() for line in out.splitlines()][-1] == ["vm-container", "2", "true"]


def test_add_appliance_with_kvm_and_remove_it(example_cluster):
    c = example_cluster
    c.ok("add", "appliance", "gpu-node", "kvm=yes")
    c.ok("add", "appliance", "storage", "kvm=no")
    c.ok("add", "appliance", "plain")
    rows = {r["appliance"]: (r["hosts"], r["kvm"]) for r in table(c, "list", "appliance")}
    assert rows["gpu-node"] == (0, "true")
    assert rows["storage"] == (0, "false")
    assert rows["plain"] == (0, "false")
    c.ok("set", "attr", "kvm", "Yes")  # resolved: appliance scope, else global
    rows = {r["appliance"]: (r["hosts"], r["kvm"]) for r in table(c, "list", "appliance")}
    assert (rows["plain"], rows["storage"]) == ((0, "true"), (0, "false"))
    c.ok("remove", "attr", "kvm")
    c.ok("set", "appliance", "attr", "gpu-node", "colour", "red")
    c.ok("remove", "appliance", "gpu-node", "plain")
    names = {r["appliance"] for r in table(c, "list", "appliance")}
    assert "gpu-node" not in names and "plain" not in names and "storage" in names
    # Its attributes went with it.
    assert all(r["appliance"] != "gpu-node" for r in table(c, "list", "appliance", "attr"))
    # And the name may be used again, without the old attributes.
    c.ok("add", "appliance", "gpu-node")
    assert table(c, "list", "appliance", "attr", "gpu-node") == []


def test_hosts_of_a_kvm_appliance_may_run_vms(example_cluster):
    c = example_cluster
    c.ok("add", "appliance", "gpu-node", "kvm=yes")
    c.ok("add", "host", "gpu-0-0", "appliance=gpu-node")
    rows = table(c, "list", "host", "attr", "gpu-0-0", "attr=kvm")
    assert [(r["value"], r["source"]) for r in rows] == [("true", "A")]


# -- hosts --------------------------------------------------------------------------


def test_add_host_with_defaults_and_values(example_cluster):
    c = example_cluster
    c.ok("add", "host", "compute-1-4", "appliance=compute", "rack=1", "rank=4", "cpus=32")
    c.ok("add", "host", "login-0-0", "appliance=login")
    rows = {r["host"]: r for r in table(c, "list", "host", "compute-1-4", "login-0-0")}
    assert rows["compute-1-4"] == {
        "host": "compute-1-4",
        "appliance": "compute",
        "os": "linux",
        "rack": 1,
        "rank": 4,
        "cpus": 32,
    }
    assert rows["login-0-0"] == {
        "host": "login-0-0",
        "appliance": "login",
        "os": "linux",
        "rack": 0,
        "rank": 0,
        "cpus": 1,
    }


def test_add_host_with_another_os(example_cluster):
    example_cluster.ok("add", "os", "ubuntu")
    example_cluster.ok("add", "host", "compute-0-9", "appliance=compute", "os=ubuntu")
    assert table(example_cluster, "list", "host", "compute-0-9")[0]["os"] == "ubuntu"
    assert [r["os"] for r in table(example_cluster, "list", "os")] == ["linux", "ubuntu"]


def test_list_host_is_ordered_by_rack_rank_name(example_cluster):
    c = example_cluster
    c.ok("add", "host", "a-9-9", "appliance=compute", "rack=9", "rank=9")
    c.ok("add", "host", "z-0-0", "appliance=compute", "rack=0", "rank=0")
    rows = table(c, "list", "host")
    keys = [(r["rack"], r["rank"], r["host"]) for r in rows]
    assert keys == sorted(keys)
    assert rows[-1]["host"] == "a-9-9"


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("cpus", "24", 24),
        ("rack", "7", 7),
        ("rank", "3", 3),
        ("appliance", "vm-container", "vm-container"),
    ],
)
def test_set_host_field(example_cluster, field, value, shown):
    example_cluster.ok("set", "host", field, "compute-0-1", value)
    row = table(example_cluster, "list", "host", "compute-0-1")[0]
    assert row[field] == shown
    other = table(example_cluster, "list", "host", "compute-0-0")[0]
    assert other == {
        "host": "compute-0-0",
        "appliance": "compute",
        "os": "linux",
        "rack": 0,
        "rank": 0,
        "cpus": 8,
    }
    # The intrinsic attribute follows.
    attr = table(example_cluster, "list", "host", "attr", "compute-0-1", f"attr={field}")
    assert [(r["value"], r["source"]) for r in attr] == [(str(shown), "I")]


def test_set_host_field_on_a_glob_and_as_params(example_cluster):
    example_cluster.ok("set", "host", "rack", "compute-*", "5")
    example_cluster.ok("set", "host", "cpus", "host=vm-container", "cpus=4")
    rows = {r["host"]: (r["rack"], r["cpus"]) for r in table(example_cluster, "list", "host")}
    assert rows["compute-0-0"] == (5, 8) and rows["compute-0-1"] == (5, 8)
    assert rows["vm-container-0-0"] == (0, 4) and rows["vm-container-0-1"] == (0, 4)


def test_set_host_appliance_changes_resolution(example_cluster):
    c = example_cluster
    c.ok("set", "host", "appliance", "compute-0-1", "vm-container")
    rows = {
        r["attr"]: (r["value"], r["source"])
        for r in table(c, "list", "host", "attr", "compute-0-1")
    }
    assert rows["kvm"] == ("true", "A")
    assert "kvm_autostart" not in rows  # it came from the compute appliance
    assert rows["appliance"] == ("vm-container", "I")


def test_remove_host(example_cluster):
    c = example_cluster
    assert c.ok("remove", "host", "compute-0-0", "vm-container-0-1") == (
        "removed compute-0-0\nremoved vm-container-0-1\n"
    )
    assert "compute-0-0" not in host_names(c) and "vm-container-0-1" not in host_names(c)
    assert table(c, "list", "host", "interface") == []
    assert all(r["host"] != "compute-0-0" for r in table(c, "list", "host", "attr"))


def test_remove_host_by_appliance_name(example_cluster):
    said = example_cluster.ok("remove", "host", "compute")
    assert said == "removed compute-0-0\nremoved compute-0-1\n"  # a word may name many
    assert host_names(example_cluster, "vm-container") == ["vm-container-0-0", "vm-container-0-1"]
    assert "compute-0-0" not in host_names(example_cluster)
    apps = {r["appliance"]: r["hosts"] for r in table(example_cluster, "list", "appliance")}
    assert apps["compute"] == 0
    example_cluster.ok("remove", "appliance", "compute")


# -- HOST arguments -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["compute-0-1"], ["compute-0-1"]),
        (["compute"], ["compute-0-0", "compute-0-1"]),
        (["vm-container-*"], ["vm-container-0-0", "vm-container-0-1"]),
        (["*-0-1"], ["compute-0-1", "vm-container-0-1"]),
        (["compute-0-[01]"], ["compute-0-0", "compute-0-1"]),
        (["compute-0-?"], ["compute-0-0", "compute-0-1"]),
        (["compute-0-1", "compute"], ["compute-0-1", "compute-0-0"]),
        (["compute", "compute-0-0", "compute-*"], ["compute-0-0", "compute-0-1"]),
    ],
)
def test_host_words(example_cluster, words, expected):
    assert host_names(example_cluster, *words) == expected


def test_localhost_is_this_machine(example_cluster):
    me = this_host()
    assert host_names(example_cluster, "localhost") == [me]
    example_cluster.ok("set", "host", "attr", "localhost", "colour", "green")
    rows = table(example_cluster, "list", "host", "attr", me, "attr=colour")
    assert [(r["host"], r["value"], r["source"]) for r in rows] == [(me, "green", "H")]
    assert example_cluster.ok("report", "host", "attr", "localhost", "attr=hostname") == me + "\n"


@pytest.mark.parametrize(
    "word", ["nomatch-*", "compute-9-?", "[xyz]*", "hosted-vm", "no-such-host"]
)
def test_a_word_that_matches_nothing_is_named(example_cluster, word):
    for words in (
        ["list", "host", "compute-0-0", word],
        ["list", "host", "attr", word],
        ["set", "host", "attr", word, "colour", "red"],
        ["set", "host", "cpus", word, "4"],
        ["remove", "host", word],
    ):
        r = example_cluster(*words)
        assert r.code == 1, words
        assert word in one_error_line(r.err)


def test_glob_is_case_sensitive_and_whole_name(example_cluster):
    assert example_cluster("list", "host", "COMPUTE-*").code == 1
    assert example_cluster("list", "host", "compute-0").code == 1


# -- bugs ---------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["rack", "rank"])
def test_huge_rack_or_rank_is_a_one_line_error(example_cluster, param):
    before = example_cluster.dump()
    r = example_cluster("add", "host", "compute-0-9", "appliance=compute", f"{param}={10**20}")
    assert r.code in (1, 2)
    one_error_line(r.err)
    assert example_cluster.dump() == before


def test_a_host_cannot_be_named_localhost(example_cluster):
    before = example_cluster.dump()
    r = example_cluster("add", "host", "localhost", "appliance=compute")
    assert r.code in (1, 2)
    one_error_line(r.err)
    assert example_cluster.dump() == before


def test_set_host_os_and_remove_an_unused_os(example_cluster):
    c = example_cluster
    c.ok("add", "os", "centos")
    c.ok("set", "os", "attr", "centos", "colour", "blue")
    c.ok("set", "host", "os", "compute-0-0", "centos")
    assert [r["os"] for r in table(c, "list", "host", "compute-0-0")] == ["centos"]
    colours = table(c, "list", "host", "attr", "compute-0-0", "attr=colour")
    assert [(r["value"], r["source"]) for r in colours] == [("blue", "O")]
    before = c.dump()
    r = c("remove", "os", "centos")
    assert r.code == 1
    assert one_error_line(r.err) == (
        "error - os centos is used by compute-0-0: remove or change those hosts first"
    )
    assert c.dump() == before
    c.ok("set", "host", "os", "compute-0-0", "linux")
    c.ok("remove", "os", "centos")
    assert "centos" not in [r["os"] for r in table(c, "list", "os")]
    assert "centos" not in c.dump()  # its attributes went with it
    r = c("set", "host", "os", "compute-0-0", "centos")
    assert "there is no os named 'centos'" in one_error_line(r.err)
