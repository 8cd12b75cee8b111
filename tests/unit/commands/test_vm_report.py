"""`cairn report host vm config`: the domain XML of VMs with every attribute of the seed
(COMMANDS.md "Attributes that shape the VM"; seed/advanced-configuration.txt).

Every document a test reads is validated against libvirt's RelaxNG schema. The seed's
command lines are run through a real bash, exactly as the seed prints them (with
`rocks` replaced by `cairn`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import create_engine, insert, select

from cairn.attrs.escape import escape
from cairn.db.engine import normalise
from cairn.db.models import Appliance, ApplianceAttr, GlobalAttr
from cairn.domainxml import schema

CAIRN_BIN = Path(sys.executable).parent
VM = "hosted-vm-0-2-0"  # the VM of the seed's examples

# seed/advanced-configuration.txt, verbatim but for rocks -> cairn (one line each; the
# backslashes are followed by a space, not a newline, as printed there).
SEED_PINNING = (
    "cairn set host attr hosted-vm-0-2-0 kvm_cpu_pinning value='<cputune>\\"
    ' <vcpupin vcpu="0" cpuset="4"/>\\ <vcpupin vcpu="1" cpuset="5"/>\\'
    ' <vcpupin vcpu="2" cpuset="6"/>\\ <vcpupin vcpu="3" cpuset="7"/>\\ </cputune>\''
)
SEED_HOSTDEV = (
    "cairn set host attr hosted-vm-0-2-0 kvm_device_0 value='<hostdev mode='subsystem'"
    " type='pci' managed='yes'>\\ <source>\\ <address bus='0x06' slot='0x02'"
    " function='0x0'/>\\ </source>\\ </hostdev>'"
)
# The same, quoted as the refusal of SEED_HOSTDEV says: the whole value in double quotes.
QUOTED_HOSTDEV = (
    "cairn set host attr hosted-vm-0-2-0 kvm_device_0 value=\"<hostdev mode='subsystem'"
    " type='pci' managed='yes'>\\ <source>\\ <address bus='0x06' slot='0x02'"
    " function='0x0'/>\\ </source>\\ </hostdev>\""
)
SEED_CPU_MODE = (
    "exact: <model fallback='allow'>core2duo</model><vendor>Intel</vendor>"
    "<topology sockets='1' cores='2'/>"
)


def error_line(result: Any) -> str:
    assert result.code == 1, f"expected a refusal, got {result}"
    lines = result.err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {result.err!r}"
    assert lines[0].startswith("error - "), lines[0]
    return lines[0]


def documents(text: str) -> list[etree._Element]:
    """Each <domain> of a report, parsed and validated against libvirt's schema."""
    parts = [p for p in text.split("</domain>\n") if p.strip()]
    assert text.endswith("</domain>\n")
    out = []
    for part in parts:
        root = etree.fromstring((part + "</domain>").encode())
        schema.validate(root, what="a reported document")
        out.append(root)
    return out


def domain(cli: Any, name: str = VM) -> etree._Element:
    (root,) = documents(cli.ok("report", "host", "vm", "config", name))
    assert root.findtext("name") == name
    return root


@dataclass
class Ran:
    code: int
    out: str
    err: str


def bash(cli: Any, line: str) -> Ran:
    """Runs `line` with a real bash, `cairn` on the PATH and the test's database."""
    env = {
        **os.environ,
        "CAIRN_DB_URL": cli.url,
        "PATH": f"{CAIRN_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    done = subprocess.run(
        ["bash", "-c", line], env=env, capture_output=True, text=True, timeout=120
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def text_of(element: etree._Element) -> str:
    return etree.tostring(element, encoding="unicode")


def insert_broken(url: str, table: Any, name: str, value: str, **owner: Any) -> None:
    """Store an attribute the way cairn stores it (escaped), bypassing the set-time check."""
    engine = create_engine(normalise(url))
    try:
        with engine.begin() as conn:
            conn.execute(insert(table).values(name=name, value=escape(value), **owner))
    finally:
        engine.dispose()


@pytest.fixture
def vm_cli(example_cluster: Any) -> Any:
    cli = example_cluster
    cli.ok("add", "host", "vm-container-0-2", "appliance=vm-container", "rack=0", "rank=2")
    assert cli.ok("add", "host", "vm", "vm-container-0-2").startswith(f"added {VM} ")
    return cli


# -- the document as a whole ---------------------------------------------------------------


def test_a_default_vm_is_a_valid_kvm_domain(vm_cli: Any) -> None:
    root = domain(vm_cli)
    assert root.tag == "domain" and root.get("type") == "kvm"
    assert [c.tag for c in root] == [
        "name",
        "uuid",
        "metadata",  # cairn's mark and the start order (container boot/shutdown read it)
        "memory",
        "vcpu",
        "os",
        "features",
        "cpu",
        "devices",
    ]
    assert root.find("os/type").get("machine") == "pc"
    assert root.findtext("os/type") == "hvm"
    assert [c.tag for c in root.find("features")] == ["acpi", "apic", "pae"]
    # The new database's global cpu_mode=host-passthrough.
    assert text_of(root.find("cpu")).strip() == '<cpu mode="host-passthrough"/>'
    assert [d.tag for d in root.find("devices")] == [
        "disk",
        "interface",
        "serial",
        "console",
        "graphics",
    ]


def test_several_vms_give_several_valid_documents(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("add", "host", "vm", "vm-container-0-0", "login")
    cli.ok("add", "host", "vm", "vm-container-0-1")
    roots = documents(cli.ok("report", "host", "vm", "config", "hosted-vm", "login"))
    names = sorted(r.findtext("name") for r in roots)
    assert names == ["hosted-vm-0-1-0", "hosted-vm-0-2-0", "login-0-0-0"]
    assert len({r.findtext("uuid") for r in roots}) == 3


def test_a_host_that_is_not_a_vm_is_refused(vm_cli: Any) -> None:
    line = error_line(vm_cli("report", "host", "vm", "config", "compute-0-0"))
    assert "compute-0-0 is not a virtual machine" in line
    assert vm_cli("report", "host", "vm", "config").code == 2


# -- boot order and cdrom ------------------------------------------------------------------


def test_boot_order_follows_the_cdrom(vm_cli: Any) -> None:
    cli = vm_cli
    root = domain(cli)
    assert [b.get("dev") for b in root.findall("os/boot")] == ["network", "hd"]
    assert [d.get("device") for d in root.findall("devices/disk")] == ["disk"]
    cli.ok("set", "host", "vm", "cdrom", VM, "cdrom=/isos/centos.iso")
    root = domain(cli)
    assert [b.get("dev") for b in root.findall("os/boot")] == ["cdrom", "network", "hd"]
    disks = root.findall("devices/disk")
    assert [d.get("device") for d in disks] == ["disk", "cdrom"]
    assert disks[1].find("target").attrib == {"dev": "hdc", "bus": "ide"}
    cli.ok("set", "host", "vm", "cdrom", VM, "cdrom=none")
    root = domain(cli)
    assert [b.get("dev") for b in root.findall("os/boot")] == ["network", "hd"]
    assert [d.get("device") for d in root.findall("devices/disk")] == ["disk"]


def test_q35_puts_the_cdrom_on_sata(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("set", "host", "attr", VM, "kvm_machine_type", "q35")
    cli.ok("set", "host", "vm", "cdrom", VM, "cdrom=/isos/centos.iso")
    root = domain(cli)
    assert root.find("os/type").get("machine") == "q35"
    (cdrom,) = [d for d in root.findall("devices/disk") if d.get("device") == "cdrom"]
    assert cdrom.find("target").get("bus") == "sata"
    assert cdrom.find("target").get("dev").startswith("sd")
    assert not any(t.get("bus") == "ide" for t in root.iter("target"))


def test_a_q35_cdrom_avoids_the_names_of_sata_disks(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("set", "host", "vm", VM, "disk=file:/a.img,sdc,sata")
    cli.ok("set", "host", "attr", VM, "kvm_machine_type", "q35")
    cli.ok("set", "host", "vm", "cdrom", VM, "cdrom=/dev/sr0")
    targets = [d.find("target").get("dev") for d in domain(cli).findall("devices/disk")]
    assert targets[0] == "sdc" and len(set(targets)) == 2


def test_a_bad_machine_type_is_refused_when_set(vm_cli: Any) -> None:
    line = error_line(vm_cli("set", "host", "attr", VM, "kvm_machine_type", "q35'/><x"))
    assert "kvm_machine_type" in line


# -- cpu_mode ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["host-model", "host-passthrough"])
def test_cpu_mode_alone(vm_cli: Any, mode: str) -> None:
    vm_cli.ok("set", "host", "attr", VM, "cpu_mode", mode)
    cpu = domain(vm_cli).find("cpu")
    assert cpu.attrib == {"mode": mode} and len(cpu) == 0


def test_the_seed_cpu_mode_is_a_custom_cpu_with_match_exact(vm_cli: Any) -> None:
    vm_cli.ok("set", "host", "attr", VM, "cpu_mode", SEED_CPU_MODE)
    cpu = domain(vm_cli).find("cpu")
    assert cpu.attrib == {"mode": "custom", "match": "exact"}
    assert [c.tag for c in cpu] == ["model", "vendor", "topology"]
    assert cpu.find("model").attrib == {"fallback": "allow"}
    assert cpu.findtext("model") == "core2duo"
    assert cpu.findtext("vendor") == "Intel"
    topology = cpu.find("topology")
    assert (topology.get("sockets"), topology.get("cores")) == ("1", "2")


@pytest.mark.parametrize("match", ["minimum", "strict"])
def test_other_matches_of_custom(vm_cli: Any, match: str) -> None:
    vm_cli.ok("set", "host", "attr", VM, "cpu_mode", f"{match}:<model>core2duo</model>")
    cpu = domain(vm_cli).find("cpu")
    assert cpu.attrib == {"mode": "custom", "match": match}
    assert cpu.findtext("model") == "core2duo"


def test_without_cpu_mode_there_is_no_cpu_element(vm_cli: Any) -> None:
    vm_cli.ok("remove", "attr", "cpu_mode")
    assert domain(vm_cli).find("cpu") is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("fast", ["'fast' is not a CPU mode"]),
        ("exact: <model>core2duo", ["never closed"]),
        ("host-model: <devices/>", ["<devices> is not allowed"]),
    ],
)
def test_a_bad_cpu_mode_is_refused_when_set(vm_cli: Any, value: str, words: list[str]) -> None:
    line = error_line(vm_cli("set", "host", "attr", VM, "cpu_mode", value))
    assert "cpu_mode" in line
    for word in words:
        assert word in line
    assert domain(vm_cli).find("cpu").get("mode") == "host-passthrough"


# -- kvm_cpu_pinning -----------------------------------------------------------------------


def test_pin_all_pins_each_vcpu_to_its_cpu(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("set", "host", "vm", VM, "cpus=4")
    cli.ok("set", "host", "attr", VM, "kvm_cpu_pinning", "pin_all")
    root = domain(cli)
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in root.findall("cputune/vcpupin")]
    assert pins == [("0", "0"), ("1", "1"), ("2", "2"), ("3", "3")]
    assert len(root.findall("cputune")) == 1
    # A tuning element sits after <vcpu>, where virsh dumpxml shows it.
    tags = [c.tag for c in root]
    assert tags.index("cputune") == tags.index("vcpu") + 1
    # pin_all follows the number of CPUs.
    cli.ok("set", "host", "vm", VM, "cpus=2")
    assert len(domain(cli).findall("cputune/vcpupin")) == 2


def test_the_seed_pinning_through_bash(vm_cli: Any) -> None:
    done = bash(vm_cli, SEED_PINNING)
    assert done.code == 0, done.err
    root = domain(vm_cli)
    text = etree.tostring(root, encoding="unicode")
    assert "\\" not in text
    pins = [(p.get("vcpu"), p.get("cpuset")) for p in root.findall("cputune/vcpupin")]
    assert pins == [("0", "4"), ("1", "5"), ("2", "6"), ("3", "7")]
    # report host attr gives the value back exactly as bash handed it over.
    original = vm_cli.ok("report", "host", "attr", VM, "attr=kvm_cpu_pinning")
    assert original.rstrip("\n") == SEED_PINNING.split("value='", 1)[1][:-1]


def test_pins_of_vcpus_the_vm_lacks_are_pointed_out(vm_cli: Any) -> None:
    """The seed pins 4 vCPUs; on a 1-vCPU VM libvirt would drop 3 pins silently."""
    assert bash(vm_cli, SEED_PINNING).code == 0
    result = vm_cli("report", "host", "vm", "config", VM)
    assert result.code == 0
    (warning,) = [line for line in result.err.splitlines() if "kvm_cpu_pinning" in line]
    assert warning.startswith(f"warning - attribute kvm_cpu_pinning of host {VM}")
    assert "pins vcpu 1, 2, 3, but the VM has 1 vCPU" in warning
    vm_cli.ok("set", "host", "vm", VM, "cpus=4")
    result = vm_cli("report", "host", "vm", "config", VM)
    assert result.code == 0 and "kvm_cpu_pinning" not in result.err


def test_the_seed_hostdev_through_bash_says_the_quotes_were_lost(vm_cli: Any) -> None:
    done = bash(vm_cli, SEED_HOSTDEV)
    line = error_line(done)
    assert "kvm_device_0" in line and VM in line
    assert "lost their quotes" in line
    assert "double quotes" in line
    assert "kvm_device_0" not in vm_cli.ok("list", "host", "attr", VM)


def test_the_hostdev_quoted_through_bash(vm_cli: Any) -> None:
    done = bash(vm_cli, QUOTED_HOSTDEV)
    assert done.code == 0, done.err
    root = domain(vm_cli)
    (hostdev,) = root.findall("devices/hostdev")
    assert hostdev.attrib == {"mode": "subsystem", "type": "pci", "managed": "yes"}
    address = hostdev.find("source/address")
    assert address.attrib == {"bus": "0x06", "slot": "0x02", "function": "0x0"}
    assert "\\" not in etree.tostring(root, encoding="unicode")
    assert root.find("hostdev") is None


def test_other_pinning_xml_is_a_child_of_domain(vm_cli: Any) -> None:
    vm_cli.ok(
        "set",
        "host",
        "attr",
        VM,
        "kvm_cpu_pinning",
        "<cputune><vcpupin vcpu='0' cpuset='2'/></cputune><memoryBacking><hugepages/>"
        "</memoryBacking>",
    )
    root = domain(vm_cli)
    assert root.find("cputune/vcpupin").attrib == {"vcpu": "0", "cpuset": "2"}
    assert root.find("memoryBacking/hugepages") is not None


def test_pinning_may_not_replace_what_cairn_writes(vm_cli: Any) -> None:
    line = error_line(
        vm_cli("set", "host", "attr", VM, "kvm_cpu_pinning", "<devices><disk/></devices>")
    )
    assert "kvm_cpu_pinning" in line and "<devices> is not allowed" in line


# -- kvm_device_N --------------------------------------------------------------------------

PANIC = "<panic model='isa'/>"
RNG = "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
WATCHDOG = "<watchdog model='i6300esb' action='reset'/>"


def test_devices_in_number_order_with_a_warning_about_the_gap(vm_cli: Any) -> None:
    cli = vm_cli
    # Set out of order; kvm_device_10 sorts after _3 by number, not by text.
    cli.ok("set", "host", "attr", VM, "kvm_device_3", WATCHDOG)
    cli.ok("set", "host", "attr", VM, "kvm_device_0", RNG)
    cli.ok("set", "host", "attr", VM, "kvm_device_1", PANIC)
    result = cli("report", "host", "vm", "config", VM)
    assert result.code == 0, result.err
    (root,) = documents(result.out)
    assert [d.tag for d in root.find("devices")][-3:] == ["rng", "panic", "watchdog"]
    # (The VM is on no network: its user-mode note is not this test's business.)
    warnings = [w for w in result.err.splitlines() if "user-mode networking" not in w]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning - ")
    assert "kvm_device_3" in warnings[0] and "gap" in warnings[0] and VM in warnings[0]


def test_no_warning_without_a_gap(vm_cli: Any) -> None:
    cli = vm_cli
    for number, device in enumerate([RNG, PANIC] * 6):
        cli.ok("set", "host", "attr", VM, f"kvm_device_{number}", device)
    result = cli("report", "host", "vm", "config", VM)
    other = [w for w in result.err.splitlines() if "user-mode networking" not in w]
    assert result.code == 0 and other == []
    (root,) = documents(result.out)
    assert [d.tag for d in root.find("devices")][-12:] == ["rng", "panic"] * 6


def test_several_elements_in_one_device_value(vm_cli: Any) -> None:
    vm_cli.ok("set", "host", "attr", VM, "kvm_device_0", f"{RNG}\n{PANIC}")
    tags = [d.tag for d in domain(vm_cli).find("devices")]
    assert tags[-2:] == ["rng", "panic"]


def test_a_device_outside_devices_is_refused(vm_cli: Any) -> None:
    for value in ("<cputune/>", "</devices><devices>", "<os><type>hvm</type></os>"):
        line = error_line(vm_cli("set", "host", "attr", VM, "kvm_device_0", value))
        assert "kvm_device_0" in line
    assert len(domain(vm_cli).findall("devices")) == 1


@pytest.mark.parametrize(
    "name", ["kvm_device_x", "kvm_device_00", "kvm_device_01", "kvm_device", "kvm_devices_0"]
)
def test_a_device_name_cairn_would_never_read_is_refused(vm_cli: Any, name: str) -> None:
    before = vm_cli.dump()
    line = error_line(vm_cli("set", "host", "attr", VM, name, "<serial type='pty'/>"))
    assert line.startswith(f"error - {name} is not a device attribute cairn reads")
    assert "kvm_device_N" in line
    assert vm_cli.dump() == before


def test_a_device_name_stored_before_it_was_refused_is_not_read_and_said(vm_cli: Any) -> None:
    engine = create_engine(normalise(vm_cli.url))
    with engine.connect() as conn:
        app = conn.execute(select(Appliance.id).where(Appliance.name == "hosted-vm")).scalar_one()
    engine.dispose()
    insert_broken(vm_cli.url, ApplianceAttr, "kvm_device_01", RNG, appliance_id=app)
    result = vm_cli("report", "host", "vm", "config", VM)
    assert result.code == 0
    assert "<rng" not in result.out
    assert f"warning - host {VM}: attribute kvm_device_01 is not read; name it kvm_device_N" in (
        result.err
    )


@pytest.mark.parametrize("value", ["pin-all", "PIN_ALL", "pinall", "all"])
def test_a_misspelt_pin_all_is_refused_saying_what_is_accepted(vm_cli: Any, value: str) -> None:
    line = error_line(vm_cli("set", "host", "attr", VM, "kvm_cpu_pinning", value))
    assert f"{value!r} is neither pin_all nor XML elements" in line
    vm_cli.ok("set", "host", "attr", VM, "kvm_cpu_pinning", " pin_all\n")
    assert len(domain(vm_cli).findall("cputune/vcpupin")) >= 1


def test_a_schema_invalid_device_is_refused_when_set(vm_cli: Any) -> None:
    result = vm_cli("set", "host", "attr", VM, "kvm_device_0", "<hostdev/>")
    error_line(result)


def test_a_schema_error_names_the_attribute_and_scope(vm_cli: Any) -> None:
    cli = vm_cli
    # Well-formed but refused by libvirt's schema; `set` would refuse it, so it is
    # stored past cairn's checks, as a value from an older cairn would be.
    engine = create_engine(normalise(cli.url))
    with engine.connect() as conn:
        app = conn.execute(select(Appliance.id).where(Appliance.name == "hosted-vm")).scalar_one()
    engine.dispose()
    insert_broken(cli.url, ApplianceAttr, "kvm_device_0", "<hostdev/>", appliance_id=app)
    line = error_line(cli("report", "host", "vm", "config", VM))
    assert "kvm_device_0" in line and "appliance scope" in line and VM in line


# -- HVM_Features, bios --------------------------------------------------------------------


def test_hvm_features_replace_the_default_features(vm_cli: Any) -> None:
    vm_cli.ok(
        "set",
        "host",
        "attr",
        VM,
        "HVM_Features",
        "<acpi/><apic/><hyperv mode='custom'><relaxed state='on'/></hyperv>",
    )
    features = domain(vm_cli).find("features")
    assert [f.tag for f in features] == ["acpi", "apic", "hyperv"]
    assert features.find("hyperv/relaxed").get("state") == "on"


def test_hvm_features_refuse_other_elements(vm_cli: Any) -> None:
    line = error_line(vm_cli("set", "host", "attr", VM, "HVM_Features", "<devices/>"))
    assert "HVM_Features" in line


def test_bios_useserial(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("set", "host", "attr", VM, "kvm_bios_useserial", "yes")
    assert domain(cli).find("os/bios").attrib == {"useserial": "yes"}
    cli.ok("set", "host", "attr", VM, "kvm_bios_useserial", "off")
    assert domain(cli).find("os/bios") is None
    line = error_line(cli("set", "host", "attr", VM, "kvm_bios_useserial", "sometimes"))
    assert "kvm_bios_useserial" in line


# -- interfaces ----------------------------------------------------------------------------


def test_where_each_nic_attaches(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("add", "network", "nat", "libvirt-network=default")
    cli.ok(
        "add", "host", "interface", "vm-container-0-0", "eth8", "ip=10.1.255.240", "subnet=private"
    )
    cli.ok("add", "host", "vm", "vm-container-0-0", "name=nics", "num-macs=4", "subnet=private")
    cli.ok("set", "host", "interface", "nics", "eth1", "subnet=nat")
    # A network with no bridge is one no container can put a VM on: refused.
    refused = cli("set", "host", "interface", "nics", "eth2", "subnet=storage")
    assert refused.code == 1 and "network storage has no bridge for VMs" in refused.err
    nics = domain(cli, "nics").findall("devices/interface")
    seen = [
        (n.get("type"), n.find("source").attrib if n.find("source") is not None else None)
        for n in nics
    ]
    assert seen == [
        ("bridge", {"bridge": "br0"}),
        ("network", {"network": "default"}),
        ("user", None),  # no network
        ("user", None),  # no network
    ]
    assert all(n.find("model").get("type") == "virtio" for n in nics)
    macs = [n.find("mac").get("address") for n in nics]
    assert len(set(macs)) == 4


def test_a_libvirt_network_wins_over_a_bridge(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("add", "network", "both", "bridge=br9", "libvirt-network=isolated")
    cli.ok("set", "host", "interface", VM, "eth0", "subnet=both")
    nic = domain(cli).find("devices/interface")
    assert nic.get("type") == "network" and nic.find("source").get("network") == "isolated"


# -- scopes and their errors ---------------------------------------------------------------


def test_values_at_appliance_and_global_scope_reach_the_vm(vm_cli: Any) -> None:
    cli = vm_cli
    cli.ok("set", "attr", "cpu_mode", "host-model")
    cli.ok("set", "appliance", "attr", "hosted-vm", "kvm_device_0", RNG)
    cli.ok("set", "os", "attr", "linux", "kvm_device_1", PANIC)
    cli.ok("set", "appliance", "attr", "hosted-vm", "kvm_cpu_pinning", "pin_all")
    root = domain(cli)
    assert root.find("cpu").get("mode") == "host-model"
    assert [d.tag for d in root.find("devices")][-2:] == ["rng", "panic"]
    assert len(root.findall("cputune/vcpupin")) == 1
    # The host's own value wins over the appliance's.
    cli.ok("set", "host", "attr", VM, "kvm_device_0", WATCHDOG)
    assert [d.tag for d in domain(cli).find("devices")][-2:] == ["watchdog", "panic"]
    # Another appliance's attributes do not reach it.
    cli.ok("set", "appliance", "attr", "login", "kvm_device_2", RNG)
    assert [d.tag for d in domain(cli).find("devices")][-2:] == ["watchdog", "panic"]


def test_a_broken_appliance_value_names_attribute_host_and_scope(vm_cli: Any) -> None:
    engine = create_engine(normalise(vm_cli.url))
    with engine.connect() as conn:
        app = conn.execute(select(Appliance.id).where(Appliance.name == "hosted-vm")).scalar_one()
    engine.dispose()
    insert_broken(
        vm_cli.url, ApplianceAttr, "kvm_device_0", "<hostdev mode='subsystem'", appliance_id=app
    )
    line = error_line(vm_cli("report", "host", "vm", "config", VM))
    assert f"attribute kvm_device_0 of host {VM} (appliance scope)" in line
    assert "not well-formed" in line


def test_a_broken_global_cpu_mode_names_attribute_host_and_scope(vm_cli: Any) -> None:
    vm_cli.ok("remove", "attr", "cpu_mode")
    insert_broken(vm_cli.url, GlobalAttr, "cpu_mode", "turbo")
    line = error_line(vm_cli("report", "host", "vm", "config", VM))
    assert f"attribute cpu_mode of host {VM} (global scope)" in line
    assert "'turbo' is not a CPU mode" in line


def test_a_broken_global_pinning_names_attribute_host_and_scope(vm_cli: Any) -> None:
    insert_broken(vm_cli.url, GlobalAttr, "kvm_cpu_pinning", "<cputune><vcpupin/>")
    line = error_line(vm_cli("report", "host", "vm", "config", VM))
    assert f"attribute kvm_cpu_pinning of host {VM} (global scope)" in line
