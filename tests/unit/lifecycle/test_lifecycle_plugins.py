"""plugin_allocate and plugin_preboot through `start host vm`, plugin loading
and the trust rules on plugin files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

MOVE_TO_0_2 = """
from cairn.vms.define import change

def run(*, session, vm):
    change(session, vm, physnode="vm-container-0-2")
"""

RECORD_ATTR = """
from cairn.attrs.scopes import Scope
from cairn.attrs.store import Owner, put

def run(*, session, vm):
    owner = Owner(Scope.HOST, vm.host.id, vm.host.name)
    put(session, owner, "allocated_by_test", "on " + vm.container.name, replace=True)
"""


def private_host(tmp_path: Path) -> str:
    """A libvirt URI that works but is not the shared test host `hv` looks at."""
    node = tmp_path / "elsewhere.xml"
    node.write_text("<node/>")
    return f"test://{node}"


class TestAllocate:
    def test_moves_the_vm_to_another_container(self, lab, plugins, tmp_path):
        # Container 0-0 is reachable but is not the host the test looks at:
        # the VM shows up there only if it was started on 0-2.
        lab.cli.ok(
            "set", "host", "attr", "vm-container-0-0", "kvm_connection", private_host(tmp_path)
        )
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("allocate", MOVE_TO_0_2)

        done = lab.start(vm)

        assert done.code == 0, done.err
        assert done.rows == [
            {"host": vm, "container": "vm-container-0-2", "result": "started", "detail": ""}
        ]
        assert lab.state(vm) == "running"
        listed = lab.listed(vm)[vm]
        assert (listed["container"], listed["status"]) == ("vm-container-0-2", "running")

    def test_without_the_move_the_vm_stays_on_its_container(self, lab, plugins, tmp_path):
        # The control for the test above: 0-0 really is another host.
        lab.cli.ok(
            "set", "host", "attr", "vm-container-0-0", "kvm_connection", private_host(tmp_path)
        )
        vm = lab.add_vm("vm-container-0-0")
        plugins.logger("allocate")
        done = lab.start(vm)
        assert done.code == 0, done.err
        assert done.rows[0]["container"] == "vm-container-0-0"
        assert lab.state(vm) == "undefined"
        assert plugins.calls("allocate") == [f"allocate {vm}"]

    def test_writes_to_the_database_are_kept(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-1")
        plugins.write("allocate", RECORD_ATTR)
        done = lab.start(vm)
        assert done.code == 0, done.err
        assert lab.host_attr(vm, "allocated_by_test") == "on vm-container-0-1"

    def test_a_raise_stops_the_start_and_rolls_back_its_writes(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-1")
        plugins.write("allocate", RECORD_ATTR + "    raise RuntimeError('pool is full')\n")
        plugins.logger("disallocate")

        done = lab.start(vm)

        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert detail.startswith("allocate: ")
        assert str(plugins.path("allocate")) in detail
        assert "RuntimeError: pool is full" in detail
        assert lab.state(vm) == "undefined"
        assert lab.host_attr(vm, "allocated_by_test") is None
        assert plugins.calls("disallocate") == []  # nothing was allocated

    def test_one_vm_failing_keeps_the_writes_of_the_others(self, lab, plugins):
        a = lab.add_vm("vm-container-0-0")
        b = lab.add_vm("vm-container-0-1")
        plugins.write(
            "allocate",
            RECORD_ATTR + f"    if vm.host.name == {b!r}:\n        raise RuntimeError('no')\n",
        )
        done = lab.start(a, b)
        assert done.code == 1
        assert [r["result"] for r in done.rows] == ["started", "failed"]
        assert lab.host_attr(a, "allocated_by_test") == "on vm-container-0-0"
        assert lab.host_attr(b, "allocated_by_test") is None

    def test_moving_to_a_host_that_cannot_run_vms_is_refused(self, lab, plugins):
        lab.cli.ok("add", "host", "compute-0-0", "appliance=compute")
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("allocate", MOVE_TO_0_2.replace("vm-container-0-2", "compute-0-0"))
        done = lab.start(vm)
        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert detail.startswith("allocate: ")
        assert "cannot run VMs" in detail
        assert lab.state(vm) == "undefined"
        assert lab.listed(vm)[vm]["container"] == "vm-container-0-0"

    def test_plugins_of_every_plugin_dir_run_in_path_order(self, lab, plugins, monkeypatch):
        second = plugins.root.parent / "second"
        other = type(plugins)(second, plugins.log)
        plugins.write(
            "allocate", "def run(*, session, vm):\n    open(LOG, 'a').write('first\\n')\n"
        )
        other.write("allocate", "def run(*, session, vm):\n    open(LOG, 'a').write('second\\n')\n")
        monkeypatch.setenv("CAIRN_PLUGIN_PATH", f"{second}:{plugins.root}")
        vm = lab.add_vm("vm-container-0-0")
        assert lab.start(vm).code == 0
        assert plugins.calls() == ["second", "first"]


PREBOOT_KEEPS = """
def run(*, session, vm, xml):
    with open(LOG + ".xml", "w") as f:
        f.write(xml)
"""

PREBOOT_MEMORY = """
from lxml import etree

def run(*, session, vm, xml):
    root = etree.fromstring(xml.encode())
    memory = root.find("memory")
    memory.set("unit", "MiB")
    memory.text = "96"
    return etree.tostring(root, encoding="unicode")
"""


class TestPreboot:
    def test_sees_the_domain_xml(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("preboot", PREBOOT_KEEPS)
        done = lab.start(vm)
        assert done.code == 0, done.err
        seen = etree.fromstring(Path(str(plugins.log) + ".xml").read_bytes())
        assert seen.tag == "domain"
        assert seen.get("type") == "test"  # cairn asked the container's capabilities
        assert seen.findtext("name") == vm
        assert seen.findtext("memory") == str(64 * 1024)  # KiB
        assert lab.state(vm) == "running"

    def test_returned_xml_is_what_starts(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("preboot", PREBOOT_MEMORY)
        done = lab.start(vm)
        assert done.code == 0, done.err
        live = etree.fromstring(lab.xml(vm).encode())
        assert (live.findtext("memory"), live.find("memory").get("unit")) == ("98304", "KiB")
        assert lab.conn.lookupByName(vm).info()[1] == 96 * 1024
        # Only this start: the database still says 64 MB.
        assert lab.listed(vm)[vm]["mem"] == 64

    def test_returning_none_keeps_cairns_xml(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("preboot", "def run(*, session, vm, xml):\n    return None\n")
        assert lab.start(vm).code == 0
        assert lab.conn.lookupByName(vm).info()[1] == 64 * 1024

    def test_plugins_of_every_dir_chain_their_xml(self, lab, plugins, monkeypatch):
        second = type(plugins)(plugins.root.parent / "second", plugins.log)
        plugins.write("preboot", PREBOOT_MEMORY)
        second.write("preboot", PREBOOT_KEEPS)
        monkeypatch.setenv("CAIRN_PLUGIN_PATH", f"{plugins.root}:{second.root}")
        vm = lab.add_vm("vm-container-0-0")
        assert lab.start(vm).code == 0
        seen = etree.fromstring(Path(str(plugins.log) + ".xml").read_bytes())
        assert seen.find("memory").get("unit") == "MiB"

    @pytest.mark.parametrize(
        ("returned", "message"),
        [
            (
                "xml.replace('<name>' + vm.host.name, '<name>other-vm')",
                "must return a <domain> named",
            ),
            ("'<network><name>' + vm.host.name + '</name></network>'", "not <network>"),
            ("xml[:-20]", "not well-formed"),
            ("xml.encode()", "returned bytes, not XML text"),
            ("42", "returned int, not XML text"),
        ],
        ids=["other-name", "not-domain", "not-well-formed", "bytes", "int"],
    )
    def test_bad_xml_fails_the_start_cleanly(self, lab, plugins, returned, message):
        vm = lab.add_vm("vm-container-0-0")
        other = lab.add_vm("vm-container-0-1", "name=fine-vm")
        plugins.write(
            "preboot",
            f"def run(*, session, vm, xml):\n"
            f"    if vm.host.name == {other!r}:\n        return None\n"
            f"    return {returned}\n",
        )
        plugins.logger("disallocate")

        done = lab.start(vm, other)

        assert done.code == 1
        row = done.by_host()[vm]
        assert row["result"] == "failed"
        assert row["detail"].startswith("preboot: ")
        assert message in row["detail"]
        assert str(plugins.path("preboot")) in row["detail"]
        assert "Traceback" not in done.err
        assert lab.state(vm) == "undefined"
        assert plugins.calls("disallocate") == [f"disallocate {vm} start-failed"]
        assert done.by_host()[other]["result"] == "started"

    def test_xml_with_entities_is_refused(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write(
            "preboot",
            """
            def run(*, session, vm, xml):
                head = '<!DOCTYPE domain [<!ENTITY big "x">]>'
                return head + xml.replace("<on_crash>destroy", "<on_crash>&big;destroy")
            """,
        )
        done = lab.start(vm)
        assert done.code == 1
        assert "DOCTYPE or entities" in done.by_host()[vm]["detail"]
        assert lab.state(vm) == "undefined"

    def test_a_raise_names_the_plugin_file(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("preboot", "def run(*, session, vm, xml):\n    raise KeyError('gpu')\n")
        done = lab.start(vm)
        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert f"plugin {plugins.path('preboot')} failed: KeyError" in detail
        assert lab.state(vm) == "undefined"

    def test_a_cairn_error_is_reported_as_refused(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write(
            "preboot",
            "from cairn.errors import CairnError\n"
            "def run(*, session, vm, xml):\n    raise CairnError('no GPU free on this rack')\n",
        )
        done = lab.start(vm)
        assert done.code == 1
        detail = done.by_host()[vm]["detail"]
        assert f"plugin {plugins.path('preboot')} refused: no GPU free on this rack" in detail

    def test_not_run_when_resuming_a_saved_vm(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.logger("allocate")
        plugins.logger("preboot")
        lab.start(vm)
        lab.act("save", "host", "vm", vm)
        assert lab.start(vm).code == 0
        assert lab.state(vm) == "running"
        assert plugins.calls() == [f"allocate {vm}", f"preboot {vm}"]


class TestLoading:
    def test_a_syntax_error_names_the_file_and_starts_nothing(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("allocate", "def run(*, session, vm)\n    pass\n")
        done = lab.start(vm)
        assert done.code == 1
        assert done.err.startswith("error - ")
        assert f"plugin {plugins.path('allocate')} failed to load: SyntaxError" in done.err
        assert lab.state(vm) == "undefined"

    def test_a_plugin_without_run_is_reported(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.write("preboot", "def start(**kwargs):\n    pass\n")
        done = lab.start(vm)
        assert done.code == 1
        assert f"plugin {plugins.path('preboot')} defines no run(**kwargs) function" in done.err
        assert lab.state(vm) == "undefined"

    def test_only_exact_names_are_plugins(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        path = plugins.write("preboot", "def run(**kw):\n    raise RuntimeError('ran')\n")
        path.rename(path.with_name("plugin_preboot_old.py"))
        done = lab.start(vm)
        assert done.code == 0, done.err
        assert lab.state(vm) == "running"

    def test_a_broken_stop_plugin_leaves_the_vm_running(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        lab.start(vm)
        plugins.write("disallocate", "import no_such_module_here\n")
        done = lab.stop(vm)
        assert done.code == 1
        assert f"plugin {plugins.path('disallocate')} failed to load" in done.err
        assert lab.state(vm) == "running"


class TestTrust:
    """Plugin files and their dirs must not be writable by group or others."""

    @pytest.mark.parametrize("file_mode", [0o664, 0o666, 0o646], ids=oct)
    def test_a_writable_file_is_refused(self, lab, plugins, file_mode):
        vm = lab.add_vm("vm-container-0-0")
        path = plugins.write("preboot", "def run(**kw):\n    return None\n", mode=file_mode)
        done = lab.start(vm)
        assert done.code == 1
        assert f"plugin {path} is refused: {path} is writable by group or others" in done.err
        assert f"chmod go-w {path}" in done.err
        assert lab.state(vm) == "undefined"

    @pytest.mark.parametrize("dir_mode", [0o775, 0o757, 0o777], ids=oct)
    def test_a_file_in_a_writable_dir_is_refused(self, lab, plugins, dir_mode):
        vm = lab.add_vm("vm-container-0-0")
        path = plugins.write("allocate", "def run(**kw):\n    return None\n")
        os.chmod(path.parent, dir_mode)
        done = lab.start(vm)
        assert done.code == 1
        assert f"{path.parent} is writable by group or others" in done.err
        assert f"chmod go-w {path.parent}" in done.err
        assert lab.state(vm) == "undefined"

    def test_a_writable_stop_plugin_refuses_the_stop(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        lab.start(vm)
        plugins.write("disallocate", "def run(**kw):\n    pass\n", mode=0o666)
        done = lab.stop(vm)
        assert done.code == 1
        assert "is writable by group or others" in done.err
        assert lab.state(vm) == "running"

    @pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
    def test_a_file_owned_by_someone_else_is_refused(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        path = plugins.write("preboot", "def run(**kw):\n    return None\n")
        os.chown(path, 65534, 65534)
        done = lab.start(vm)
        assert done.code == 1
        assert f"{path} is owned by uid 65534, not by root or you" in done.err
        assert lab.state(vm) == "undefined"

    def test_read_only_files_in_safe_dirs_are_trusted(self, lab, plugins):
        vm = lab.add_vm("vm-container-0-0")
        plugins.logger("preboot")
        os.chmod(plugins.path("preboot"), 0o400)
        assert lab.start(vm).code == 0
        assert plugins.calls("preboot") == [f"preboot {vm}"]

    def test_a_symlink_into_a_writable_dir_is_refused(self, lab, plugins, tmp_path):
        vm = lab.add_vm("vm-container-0-0")
        drop = tmp_path / "drop"
        drop.mkdir()
        os.chmod(drop, 0o777)
        target = drop / "preboot.py"
        target.write_text(
            "def run(**kw):\n    raise RuntimeError('anyone could have written this')\n"
        )
        os.chmod(target, 0o644)
        link = plugins.write("preboot", "")
        link.unlink()
        link.symlink_to(target)
        done = lab.start(vm)
        assert done.code == 1
        assert "is writable by group or others" in done.err


class TestSectionPlugins:
    """report/host/vm/config/plugin_<section>.py shape the XML that start uses too."""

    def test_a_cpumem_plugin_changes_the_started_domain(self, lab, plugins):
        plugins.write_section(
            "cpumem",
            """
            def run(*, elements, vm):
                for e in elements:
                    if e.tag == "vcpu":
                        e.text = str(vm.cpus * 2)
                return elements
            """,
        )
        plugins.write("preboot", PREBOOT_KEEPS)
        vm = lab.add_vm("vm-container-0-0", "cpus=2")

        done = lab.start(vm)

        assert done.code == 0, done.err
        assert lab.conn.lookupByName(vm).info()[3] == 4
        seen = etree.fromstring(Path(str(plugins.log) + ".xml").read_bytes())
        assert seen.findtext("vcpu") == "4"  # preboot gets the XML after them
        report = lab.cli.ok("report", "host", "vm", "config", vm)
        assert etree.fromstring(report.encode()).findtext("vcpu") == "4"

    def test_a_writable_section_plugin_fails_the_start(self, lab, plugins):
        path = plugins.write_section("device", "def run(*, elements, vm):\n    return None\n")
        os.chmod(path, 0o666)
        vm = lab.add_vm("vm-container-0-0")
        done = lab.start(vm)
        assert done.code == 1
        # Refused for the VM's row or for the whole command: either way, named.
        said = done.err + " ".join(r["detail"] for r in done.rows)
        assert f"{path} is writable by group or others" in said
        assert lab.state(vm) == "undefined"
