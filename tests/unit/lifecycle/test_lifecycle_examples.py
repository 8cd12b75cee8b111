"""The example plugins of examples/plugins/, run as they are through start/stop.

The tree is copied to tmp with safe permissions (git does not keep modes a
plugin dir must have) and named by CAIRN_PLUGIN_PATH.

Lab containers: vm-container-0-0/1/2 with 4 CPUs each (8192 MB by the
fallback of 2048 MB per CPU, unless kvm_memory_mb says otherwise).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lxml import etree

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "plugins"
FILES = (
    "start/host/vm/plugin_allocate.py",
    "start/host/vm/plugin_preboot.py",
    "stop/host/vm/plugin_disallocate.py",
    "watch/plugin_fence.py",
)


@pytest.fixture
def examples(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "plugins"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("__pycache__"))
    for directory, _dirs, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(Path(directory, name), 0o644)
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(root))
    return root


@pytest.fixture
def sized(lab, examples):
    """0-0: 4096 MB, 0-1: 6144 MB, 0-2: 2048 MB (1 CPU, no kvm_memory_mb)."""
    lab.cli.ok("set", "host", "attr", "vm-container-0-0", "kvm_memory_mb", "4096")
    lab.cli.ok("set", "host", "attr", "vm-container-0-1", "kvm_memory_mb", "6144")
    lab.cli.ok("set", "host", "cpus", "vm-container-0-2", "1")
    return lab


def test_the_tree_holds_exactly_the_documented_files():
    found = sorted(
        str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.py") if "__pycache__" not in p.parts
    )
    assert found == sorted(FILES)


def serial_logs(lab, vm):
    root = etree.fromstring(lab.xml(vm).encode())
    return [
        (s.find("source").get("path"), s.find("target").get("port"))
        for s in root.iterfind("devices/serial")
        if s.get("type") == "file"
    ]


def test_start_moves_the_vm_records_it_and_logs_its_console(sized):
    lab = sized
    vm = lab.add_vm("vm-container-0-0", "mem=1024")

    done = lab.start(vm)

    assert done.code == 0, done.err
    assert done.rows[0]["container"] == "vm-container-0-1"  # most free memory
    listed = lab.listed(vm)[vm]
    assert (listed["container"], listed["status"]) == ("vm-container-0-1", "running")
    assert lab.host_attr(vm, "cairn_allocated_on") == "vm-container-0-1"
    assert serial_logs(lab, vm) == [(f"/var/log/cairn/{vm}.serial", "1")]
    # cairn's own console is still there, on port 0.
    assert lab.xml(vm).count("<serial ") == 2


def test_stop_releases_the_record(sized):
    lab = sized
    vm = lab.add_vm("vm-container-0-0", "mem=1024")
    lab.start(vm)

    done = lab.stop(vm)

    assert done.code == 0, done.err
    assert done.rows[0]["detail"] == "released"
    assert lab.host_attr(vm, "cairn_allocated_on") is None
    assert lab.listed(vm)[vm]["container"] == "vm-container-0-1"  # it stays where it ran


def test_allocations_fill_the_containers_by_free_memory(sized):
    lab = sized
    v1 = lab.add_vm("vm-container-0-2", "name=v1", "mem=4096")
    v2 = lab.add_vm("vm-container-0-2", "name=v2", "mem=4096")
    v3 = lab.add_vm("vm-container-0-2", "name=v3", "mem=2048")
    v4 = lab.add_vm("vm-container-0-2", "name=v4", "mem=4096")

    for vm, expected in [
        (v1, "vm-container-0-1"),  # free 4096 / 6144 / 2048
        (v2, "vm-container-0-0"),  # free 4096 / 2048 / 2048
        (v3, "vm-container-0-2"),  # free 0 / 2048 / 2048: a tie, it stays
    ]:
        done = lab.start(vm)
        assert done.code == 0, f"{vm}: {done.rows}"
        assert lab.host_attr(vm, "cairn_allocated_on") == expected
        assert lab.listed(vm)[vm]["container"] == expected

    full = lab.start(v4)  # free 0 / 2048 / 0
    assert full.code == 1
    detail = full.rows[0]["detail"]
    assert detail.startswith("allocate: ")
    assert "no container has 4096 MB free for v4" in detail
    assert "vm-container-0-1 with 2048 MB" in detail
    assert lab.state(v4) == "undefined"
    assert lab.host_attr(v4, "cairn_allocated_on") is None

    lab.stop(v1)  # gives back 4096 MB on 0-1
    again = lab.start(v4)
    assert again.code == 0, again.rows
    assert lab.host_attr(v4, "cairn_allocated_on") == "vm-container-0-1"
    assert [lab.state(v) for v in (v1, v2, v3, v4)] == ["shutoff", "running", "running", "running"]


def test_a_saved_vm_keeps_its_memory(sized):
    lab = sized
    big = lab.add_vm("vm-container-0-1", "name=big", "mem=6144")
    lab.start(big)
    lab.act("save", "host", "vm", big)
    vm = lab.add_vm("vm-container-0-1", "name=small", "mem=3000")
    lab.start(vm)
    assert lab.host_attr(vm, "cairn_allocated_on") == "vm-container-0-0"


def test_a_kvm_enabled_host_counts_as_a_container(sized):
    lab = sized
    lab.cli.ok("add", "host", "compute-0-0", "appliance=compute", "cpus=32")
    vm = lab.add_vm("vm-container-0-0", "mem=8192")
    assert lab.start(vm).rows[0]["result"] == "failed"  # compute-0-0 may not run VMs yet

    lab.cli.ok("set", "host", "attr", "compute-0-0", "kvm", "true")
    done = lab.start(vm)

    assert done.code == 0, done.rows
    assert lab.listed(vm)[vm]["container"] == "compute-0-0"  # 32 CPUs x 2048 MB


def test_a_bad_kvm_memory_mb_is_refused_when_set(sized):
    # Declared in the registry as a whole number: refused when set, not at start.
    lab = sized
    done = lab.cli("set", "host", "attr", "vm-container-0-1", "kvm_memory_mb", "lots")
    assert done.code == 1
    assert "kvm_memory_mb" in done.err and "'lots' is not a whole number" in done.err
    vm = lab.add_vm("vm-container-0-0")
    assert lab.start(vm).code == 0


def test_failed_start_releases_the_record(sized):
    lab = sized
    vm = lab.add_vm("vm-container-0-0", "disk=file:/top-level.img")
    done = lab.start(vm)
    assert done.code == 1
    assert done.rows[0]["detail"].startswith("disks: ")
    assert "released (disallocate ran)" in done.rows[0]["detail"]
    assert lab.host_attr(vm, "cairn_allocated_on") is None


def test_disallocate_without_a_record_is_fine(lab, cli, monkeypatch, examples):
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", "")
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)  # allocated, but before the plugins were installed
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(examples))

    done = lab.stop(vm)

    assert done.code == 0, done.err
    assert done.rows[0]["detail"] == "released"


def test_preboot_adds_the_serial_log_once_per_start(lab, examples):
    vm = lab.add_vm("vm-container-0-0")
    lab.start(vm)
    lab.stop(vm)
    lab.start(vm)
    assert serial_logs(lab, vm) == [(f"/var/log/cairn/{vm}.serial", "1")]


def test_preboot_keeps_xml_that_already_logs(examples):
    """The preboot example by itself: nothing to add returns None."""
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("example_preboot", EXAMPLES / FILES[1])
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    vm = SimpleNamespace(host=SimpleNamespace(name="v1"))
    bare = "<domain type='kvm'><name>v1</name></domain>"

    once = module.run(session=None, vm=vm, xml=bare)

    assert etree.fromstring(once.encode()).find("devices/serial/target").get("port") == "0"
    assert module.run(session=None, vm=vm, xml=once) is None
