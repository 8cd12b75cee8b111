"""Many VMs in one command, across containers: a failure stays with its VM.

The result table has one row per VM (HOST CONTAINER RESULT DETAIL); the exit
status is 1 when any VM failed and 0 when all succeeded.
"""

from __future__ import annotations

import json

import pytest

PREBOOT_FAILS_FOR_B = """
def run(*, session, vm, xml):
    if vm.host.name == "vm-b":
        raise RuntimeError("no licence for vm-b")
"""


@pytest.fixture
def four(lab):
    """vm-a, vm-d on container 0-0; vm-b on 0-1; vm-c on 0-2."""
    lab.add_vm("vm-container-0-0", "name=vm-a")
    lab.add_vm("vm-container-0-1", "name=vm-b")
    lab.add_vm("vm-container-0-2", "name=vm-c")
    lab.add_vm("vm-container-0-0", "name=vm-d")
    return ["vm-a", "vm-b", "vm-c", "vm-d"]


def test_all_start(lab, four):
    done = lab.start(*four)
    assert done.code == 0, done.err
    assert [r["host"] for r in done.rows] == four
    assert {r["result"] for r in done.rows} == {"started"}
    assert {r["host"]: r["container"] for r in done.rows} == {
        "vm-a": "vm-container-0-0",
        "vm-b": "vm-container-0-1",
        "vm-c": "vm-container-0-2",
        "vm-d": "vm-container-0-0",
    }
    assert [lab.state(v) for v in four] == ["running"] * 4


def test_one_failing_does_not_stop_the_others(lab, plugins):
    for name, container in [("vm-a", "0-0"), ("vm-b", "0-1"), ("vm-c", "0-2"), ("vm-d", "0-0")]:
        disk = ["disk=file:/refused.img"] if name == "vm-c" else []
        lab.add_vm(f"vm-container-{container}", f"name={name}", *disk)
    plugins.write("preboot", PREBOOT_FAILS_FOR_B)

    done = lab.start("vm-a", "vm-b", "vm-c", "vm-d")

    assert done.code == 1
    rows = done.by_host()
    assert len(done.rows) == 4
    assert {h: r["result"] for h, r in rows.items()} == {
        "vm-a": "started",
        "vm-b": "failed",
        "vm-c": "failed",
        "vm-d": "started",
    }
    assert "no licence for vm-b" in rows["vm-b"]["detail"]
    assert str(plugins.path("preboot")) in rows["vm-b"]["detail"]
    assert rows["vm-c"]["detail"].startswith("disks: ")
    assert "/refused.img" in rows["vm-c"]["detail"]
    assert [lab.state(v) for v in ("vm-a", "vm-b", "vm-c", "vm-d")] == [
        "running",
        "undefined",
        "undefined",
        "running",
    ]


def test_text_table_has_one_row_per_vm(lab, four, plugins):
    plugins.write("preboot", PREBOOT_FAILS_FOR_B)
    done = lab.cli("start", "host", "vm", *four)
    assert done.code == 1
    lines = done.out.splitlines()
    assert lines[0].split() == ["HOST", "CONTAINER", "RESULT", "DETAIL"]
    assert [line.split()[:3] for line in lines[1:]] == [
        ["vm-a", "vm-container-0-0", "started"],
        ["vm-b", "vm-container-0-1", "failed"],
        ["vm-c", "vm-container-0-2", "started"],
        ["vm-d", "vm-container-0-0", "started"],
    ]


def test_json_rows_have_the_table_columns(lab, four):
    done = lab.cli("start", "host", "vm", *four, "output-format=json")
    assert done.code == 0, done.err
    rows = json.loads(done.out)
    assert [sorted(r) for r in rows] == [["container", "detail", "host", "result"]] * 4
    assert [r["host"] for r in rows] == four


def test_a_glob_names_many(lab, four):
    done = lab.start("vm-*")
    assert done.code == 0, done.err
    assert sorted(r["host"] for r in done.rows) == four
    assert [lab.state(v) for v in four] == ["running"] * 4


def test_parallel_one_gives_the_same_result(lab, four, plugins):
    plugins.write("preboot", PREBOOT_FAILS_FOR_B)
    done = lab.start(*four, "parallel=1")
    assert done.code == 1
    assert [r["result"] for r in done.rows] == ["started", "failed", "started", "started"]


def test_stop_many(lab, four):
    lab.start(*four)
    done = lab.stop(*four)
    assert done.code == 0, done.err
    assert [r["result"] for r in done.rows] == ["stopped"] * 4
    assert [lab.state(v) for v in four] == ["shutoff"] * 4


def test_stop_many_with_one_failing(lab, four):
    lab.start(*four)
    lab.act("pause", "host", "vm", "vm-c")  # a paused guest cannot react to ACPI

    done = lab.stop(*four, "action=shutdown", "timeout=1")

    assert done.code == 1
    rows = done.by_host()
    assert rows["vm-c"]["result"] == "failed"
    assert rows["vm-c"]["detail"].startswith("shutdown: ")
    assert "paused" in rows["vm-c"]["detail"]
    assert {rows[v]["result"] for v in ("vm-a", "vm-b", "vm-d")} == {"stopped"}
    assert [lab.state(v) for v in four] == ["shutoff", "shutoff", "paused", "shutoff"]


def test_pause_many_with_one_not_running(lab, four):
    lab.start("vm-a", "vm-b", "vm-d")
    done = lab.act("pause", "host", "vm", *four)
    assert done.code == 1
    assert [r["result"] for r in done.rows] == ["paused", "paused", "failed", "paused"]
    assert [lab.state(v) for v in four] == ["paused", "paused", "undefined", "paused"]
    resumed = lab.act("resume", "host", "vm", "vm-a", "vm-b", "vm-d")
    assert resumed.code == 0, resumed.err
    assert [lab.state(v) for v in ("vm-a", "vm-b", "vm-d")] == ["running"] * 3


def test_save_and_restore_many(lab, four):
    lab.start(*four)
    saved = lab.act("save", "host", "vm", *four)
    assert saved.code == 0, saved.err
    assert [lab.state(v) for v in four] == ["saved"] * 4
    restored = lab.act("restore", "host", "vm", *four)
    assert restored.code == 0, restored.err
    assert [lab.state(v) for v in four] == ["running"] * 4


def test_start_with_one_already_running(lab, four):
    lab.start("vm-b")
    done = lab.start(*four)
    assert done.code == 1
    assert [r["result"] for r in done.rows] == ["started", "failed", "started", "started"]
    assert "stop it first" in done.by_host()["vm-b"]["detail"]
    assert [lab.state(v) for v in four] == ["running"] * 4
