"""The report/host/vm/config/plugin_<section>.py plugins (cairn.plugins.hooks), seen
through `cairn report host vm config`: each section can be changed, None changes
nothing, and a plugin that fails, renames the domain, breaks the schema or could be
written by others is refused in one line naming its file."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from cairn.domainxml import schema

VM = "hosted-vm-0-0-0"
HOOK = ("report", "host", "vm", "config")


class Plugins:
    """A plugin dir under tmp_path, named by CAIRN_PLUGIN_PATH."""

    def __init__(self, root: Path):
        self.root = root
        self.hook = root.joinpath(*HOOK)
        self.hook.mkdir(parents=True)
        for depth in range(len(HOOK) + 1):
            root.joinpath(*HOOK[:depth]).chmod(0o755)

    def write(self, filename: str, body: str, mode: int = 0o644) -> Path:
        path = self.hook / filename
        path.write_text(textwrap.dedent(body))
        path.chmod(mode)
        return path


def error_line(result: Any) -> str:
    assert result.code == 1, f"expected a refusal, got {result}"
    lines = result.err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {result.err!r}"
    assert lines[0].startswith("error - "), lines[0]
    return lines[0]


def report(cli: Any) -> etree._Element:
    out = cli.ok("report", "host", "vm", "config", VM)
    root = etree.fromstring(out.encode())
    schema.validate(root, what="a report changed by plugins")
    assert root.findtext("name") == VM
    return root


@pytest.fixture
def cli(example_cluster: Any) -> Any:
    # The container reaches the private network, so a VM may be on it.
    example_cluster.ok("add", "host", "interface", "vm-container-0-0", "eth0", "subnet=private")
    example_cluster.ok("add", "host", "vm", "vm-container-0-0", "num-macs=2", "subnet=private")
    example_cluster.ok("set", "host", "vm", "cdrom", VM, "cdrom=/isos/a.iso")
    return example_cluster


@pytest.fixture
def plugins(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Plugins:
    # After `cli`, which sets CAIRN_PLUGIN_PATH="".
    made = Plugins(tmp_path / "plugins")
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", str(made.root))
    return made


@pytest.fixture
def baseline(cli: Any) -> str:
    return cli.ok("report", "host", "vm", "config", VM)


# -- each section --------------------------------------------------------------------------


def test_bootloader_adds_bios_useserial(cli: Any, baseline: str, plugins: Plugins) -> None:
    plugins.write(
        "plugin_bootloader.py",
        """
        from lxml import etree

        def run(elements, vm):
            assert [e.tag for e in elements] == ["os"]
            etree.SubElement(elements[0], "bios", useserial="yes")
            return elements
        """,
    )
    root = report(cli)
    assert root.find("os/bios").attrib == {"useserial": "yes"}
    assert [b.get("dev") for b in root.findall("os/boot")] == ["cdrom", "network", "hd"]
    assert etree.fromstring(baseline.encode()).find("os/bios") is None


def test_device_adds_an_rng(cli: Any, baseline: str, plugins: Plugins) -> None:
    plugins.write(
        "plugin_device.py",
        """
        from lxml import etree

        RNG = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"

        def run(elements, vm):
            assert [e.tag for e in elements] == ["serial", "console", "graphics"]
            return [*elements, etree.fromstring(RNG)]
        """,
    )
    devices = report(cli).find("devices")
    tags = [d.tag for d in devices]
    assert tags == [
        "disk",
        "disk",
        "interface",
        "interface",
        "serial",
        "console",
        "graphics",
        "rng",
    ]
    assert devices.find("rng/backend").text == "/dev/urandom"


def test_global_changes_memory(cli: Any, plugins: Plugins) -> None:
    plugins.write(
        "plugin_global.py",
        """
        def run(elements, vm):
            (domain,) = elements
            assert domain.tag == "domain"
            domain.find("memory").text = str(vm.memory_mb * 2 * 1024)
            return [domain]
        """,
    )
    assert report(cli).findtext("memory") == str(2048 * 1024)  # KiB: twice the default 1024 MB


def test_cpumem_disk_interface_sections(cli: Any, plugins: Plugins) -> None:
    plugins.write(
        "plugin_cpumem.py",
        """
        from lxml import etree

        def run(elements, vm):
            assert [e.tag for e in elements] == ["memory", "vcpu", "cpu"]
            elements[1].text = "3"
            tune = etree.Element("cputune")
            etree.SubElement(tune, "vcpupin", vcpu="0", cpuset="1")
            return [*elements, tune]
        """,
    )
    plugins.write(
        "plugin_disk.py",
        """
        def run(elements, vm):
            assert [e.get("device") for e in elements] == ["disk", "cdrom"]
            for disk in elements:
                disk.find("driver").set("cache", "none")
            return elements
        """,
    )
    plugins.write(
        "plugin_interface.py",
        """
        def run(elements, vm):
            assert [e.tag for e in elements] == ["interface", "interface"]
            return [elements[0]]
        """,
    )
    root = report(cli)
    assert root.findtext("vcpu") == "3"
    assert root.find("cputune/vcpupin").attrib == {"vcpu": "0", "cpuset": "1"}
    assert [d.find("driver").get("cache") for d in root.findall("devices/disk")] == ["none"] * 2
    (nic,) = root.findall("devices/interface")
    assert nic.find("source").get("bridge") == "br0"
    tags = [c.tag for c in root]
    assert tags.index("memory") < tags.index("vcpu") < tags.index("cputune") < tags.index("os")
    assert [tags.count(t) for t in ("os", "devices", "cpu")] == [1, 1, 1]


def test_sections_run_in_order_and_global_sees_the_others(
    cli: Any, plugins: Plugins, monkeypatch: pytest.MonkeyPatch
) -> None:
    for section in ("bootloader", "cpumem", "disk", "interface", "device"):
        plugins.write(
            f"plugin_{section}.py",
            f"""
            def run(elements, vm):
                import os
                with open(os.environ["PLUGIN_LOG"], "a") as log:
                    log.write("{section}\\n")
                return None
            """,
        )
    plugins.write(
        "plugin_global.py",
        """
        import os
        from lxml import etree

        def run(elements, vm):
            with open(os.environ["PLUGIN_LOG"]) as log:
                seen = log.read().split()
            description = etree.SubElement(elements[0], "description")
            description.text = " ".join(seen)
            return elements
        """,
    )
    monkeypatch.setenv("PLUGIN_LOG", str(plugins.root.parent / "log"))
    root = report(cli)
    assert root.findtext("description") == "bootloader cpumem disk interface device"


def test_the_vm_view(cli: Any, plugins: Plugins) -> None:
    cli.ok("set", "host", "attr", VM, "site_note", "a<b & 'c'")
    cli.ok("set", "host", "vm", VM, "mem=1024", "cpus=2")
    plugins.write(
        "plugin_global.py",
        """
        from lxml import etree

        def run(elements, vm):
            text = repr((vm.name, vm.uuid, vm.container, vm.slice, vm.memory_mb, vm.cpus,
                         vm.cdrom, vm.attrs["site_note"], vm.attrs["appliance"]))
            etree.SubElement(elements[0], "description").text = text
            return elements
        """,
    )
    root = report(cli)
    uuid = root.findtext("uuid")
    assert root.findtext("description") == repr(
        (VM, uuid, "vm-container-0-0", 0, 1024, 2, "/isos/a.iso", "a<b & 'c'", "hosted-vm")
    )


def test_the_vm_view_cannot_be_changed(cli: Any, plugins: Plugins) -> None:
    path = plugins.write(
        "plugin_global.py",
        """
        def run(elements, vm):
            vm.attrs["kvm_device_0"] = "<rng/>"
        """,
    )
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} failed: TypeError" in line


def test_several_plugin_dirs_apply_in_path_order(
    cli: Any, plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    second = Plugins(tmp_path / "second")
    body = """
        from lxml import etree

        def run(elements, vm):
            found = elements[0].find("description")
            if found is None:
                found = etree.SubElement(elements[0], "description")
                found.text = ""
            found.text += "{name} "
            return elements
        """
    plugins.write("plugin_global.py", body.replace("{name}", "first"))
    second.write("plugin_global.py", body.replace("{name}", "second"))
    monkeypatch.setenv("CAIRN_PLUGIN_PATH", f"{plugins.root}::{second.root}")
    assert report(cli).findtext("description") == "first second "


# -- None, refusals ------------------------------------------------------------------------


def test_none_changes_nothing(cli: Any, baseline: str, plugins: Plugins) -> None:
    for section in ("bootloader", "cpumem", "disk", "interface", "device", "global"):
        plugins.write(
            f"plugin_{section}.py",
            """
            def run(elements, vm):
                assert elements and vm.name
                return None
            """,
        )
    assert cli.ok("report", "host", "vm", "config", VM) == baseline


def test_an_empty_list_removes_the_section(cli: Any, plugins: Plugins) -> None:
    plugins.write("plugin_device.py", "def run(elements, vm):\n    return []\n")
    assert [d.tag for d in report(cli).find("devices")] == [
        "disk",
        "disk",
        "interface",
        "interface",
    ]


def test_a_rename_in_place_is_refused(cli: Any, plugins: Plugins) -> None:
    path = plugins.write(
        "plugin_bootloader.py",
        """
        def run(elements, vm):
            elements[0].getparent().find("name").text = "someone-else"
            return None
        """,
    )
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert str(path) in line and "someone-else" in line


def test_a_renamed_domain_is_refused(cli: Any, plugins: Plugins) -> None:
    path = plugins.write(
        "plugin_global.py",
        """
        def run(elements, vm):
            elements[0].find("name").text = "someone-else"
            return elements
        """,
    )
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} changed the domain name to 'someone-else'" in line


def test_a_plugin_that_raises_is_named(cli: Any, plugins: Plugins) -> None:
    path = plugins.write(
        "plugin_disk.py",
        """
        def run(elements, vm):
            raise RuntimeError("storage is down")
        """,
    )
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} failed: RuntimeError: storage is down" in line


def test_a_plugin_that_refuses_with_a_cairn_error(cli: Any, plugins: Plugins) -> None:
    path = plugins.write(
        "plugin_cpumem.py",
        """
        from cairn.errors import CairnError

        def run(elements, vm):
            raise CairnError("no memory left on " + vm.container)
        """,
    )
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} refused: no memory left on vm-container-0-0" in line


def test_a_schema_invalid_result_is_a_clean_error(cli: Any, plugins: Plugins) -> None:
    plugins.write(
        "plugin_device.py",
        """
        from lxml import etree

        def run(elements, vm):
            return [*elements, etree.Element("gizmo", speed="fast")]
        """,
    )
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"domain XML of {VM} is refused by libvirt's schema" in line
    assert "gizmo" in line


@pytest.mark.parametrize(
    ("section", "body", "words"),
    [
        ("disk", "return ['<disk/>']", "must return lxml elements or None"),
        ("global", "return []", "must return one <domain> element"),
        ("global", "return [elements[0], elements[0].find('os')]", "one <domain> element"),
        ("global", "return [elements[0].find('devices')]", "one <domain> element"),
    ],
)
def test_bad_return_values(cli: Any, plugins: Plugins, section: str, body: str, words: str) -> None:
    path = plugins.write(f"plugin_{section}.py", f"def run(elements, vm):\n    {body}\n")
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert str(path) in line and words in line


def test_a_plugin_returning_a_number_is_named(cli: Any, plugins: Plugins) -> None:
    path = plugins.write("plugin_device.py", "def run(elements, vm):\n    return 42\n")
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert str(path) in line


def test_a_plugin_without_run(cli: Any, plugins: Plugins) -> None:
    path = plugins.write("plugin_global.py", "RUN = 1\n")
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} defines no run(**kwargs) function" in line


def test_a_plugin_that_does_not_load(cli: Any, plugins: Plugins) -> None:
    path = plugins.write("plugin_global.py", "def run(elements, vm)\n    return None\n")
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} failed to load: SyntaxError" in line


# -- trust -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o666, 0o646, 0o664, 0o620])
def test_a_plugin_others_may_write_is_refused(cli: Any, plugins: Plugins, mode: int) -> None:
    path = plugins.write("plugin_global.py", "def run(elements, vm):\n    return None\n", mode)
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} is refused: {path} is writable by group or others" in line
    assert f"chmod go-w {path}" in line
    path.chmod(0o600)
    report(cli)


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757, 0o1777])
def test_a_plugin_in_a_dir_others_may_write_is_refused(
    cli: Any, plugins: Plugins, mode: int
) -> None:
    path = plugins.write("plugin_device.py", "def run(elements, vm):\n    return None\n")
    plugins.hook.chmod(mode)
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"plugin {path} is refused: {plugins.hook} is writable by group or others" in line
    plugins.hook.chmod(0o755)
    report(cli)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_plugin_owned_by_someone_else_is_refused(cli: Any, plugins: Plugins) -> None:
    path = plugins.write("plugin_global.py", "def run(elements, vm):\n    return None\n")
    os.chown(path, 4242, -1)
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert f"{path} is owned by uid 4242" in line


@pytest.mark.parametrize(
    "filename",
    [
        "plugin_allocate_extra.py",
        "xplugin_disk.py",
        "plugin_disk_extra.py",
        "plugin_disk.py.orig",
        "plugin_disk.pyc",
        "Plugin_disk.py",
        "plugin_disk",
        "plugin_global.py~",
        "plugin_.py",
        "plugin_allocate.py",
    ],
)
def test_only_exact_names_are_plugins(
    cli: Any, baseline: str, plugins: Plugins, filename: str
) -> None:
    # Were it loaded, it would be refused (writable by others) and break the report.
    plugins.write(filename, "raise SystemExit('loaded')\n", 0o666)
    assert cli.ok("report", "host", "vm", "config", VM) == baseline


def test_a_directory_with_a_plugin_name_is_not_a_plugin(
    cli: Any, baseline: str, plugins: Plugins
) -> None:
    (plugins.hook / "plugin_global.py").mkdir()
    assert cli.ok("report", "host", "vm", "config", VM) == baseline
