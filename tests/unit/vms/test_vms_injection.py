"""Raw-XML attribute values cannot break the domain XML (STYLE.md: raw-XML attributes are
parsed and inserted as elements, their root tag checked).

Whatever value is set as kvm_device_0, kvm_cpu_pinning or cpu_mode through the CLI,
either `set host attr` refuses it in one line, or `report host vm config` still gives
one valid document with one <devices>, one <os> and the VM's own name (or refuses in
one line: some well-formed values are only refused by libvirt's schema, see the
xfail in tests/unit/commands/test_vm_report.py). SQLite only, to stay fast.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from cairn.domainxml import schema

VM = "hosted-vm-0-0-0"
TOKENS = [
    "<",
    ">",
    "/>",
    "</",
    "'",
    '"',
    "=",
    ":",
    " ",
    "\n",
    "\t",
    "\r",
    "\\\n",
    "\\ ",
    "\\",
    "&",
    ";",
    "&xxe;",
    "&amp;",
    "&lt;",
    "&#60;",
    "&#x3c;",
    "&#0;",
    "<!DOCTYPE d [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>",
    "<!ENTITY e 'x'>",
    "<?xml version='1.0'?>",
    "<?pi data?>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<devices>",
    "</devices>",
    "<os>",
    "</os>",
    "<name>evil</name>",
    "</domain>",
    "<domain type='kvm'>",
    "<cputune>",
    "</cputune>",
    "<vcpupin vcpu='0' cpuset='4'/>",
    '<vcpupin vcpu="1" cpuset="5"/>',
    "<vcpupin vcpu=0 cpuset=4/>",
    "<rng model='virtio'>",
    "<backend model='random'>/dev/urandom</backend>",
    "</rng>",
    "<panic model='isa'/>",
    "<hostdev mode='subsystem' type='pci' managed='yes'>",
    "<source><address bus='0x06' slot='0x02' function='0x0'/></source>",
    "</hostdev>",
    "<model fallback='allow'>core2duo</model>",
    "<vendor>Intel</vendor>",
    "<topology sockets='1' cores='2'/>",
    "<x:rng xmlns:x='urn:x'/>",
    "<rng xmlns='http://libvirt.org/schemas/domain/qemu/1.0'/>",
    "exact",
    "exact:",
    "minimum:",
    "host-model",
    "host-passthrough",
    "custom:",
    "pin_all",
    "\u2028",
    "é",
    "\u202e",
]
TAGS = [
    "rng",
    "backend",
    "panic",
    "watchdog",
    "hostdev",
    "source",
    "address",
    "cputune",
    "vcpupin",
    "emulatorpin",
    "memoryBacking",
    "hugepages",
    "model",
    "vendor",
    "topology",
    "feature",
    "devices",
    "os",
    "name",
    "domain",
    "script",
]
ATTRS = ["model", "type", "vcpu", "cpuset", "mode", "policy", "name", "sockets", "cores"]
soup = st.lists(st.sampled_from(TOKENS), max_size=14).map("".join)
xml_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
text = st.one_of(
    st.text(xml_chars, max_size=12).map(escape),
    st.sampled_from(["4", "0-3", "virtio", "isa", "&amp;", "&#60;", "'", '"']),
)
attributes = st.dictionaries(st.sampled_from(ATTRS), text, max_size=3).map(
    lambda attrs: "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
)
elements = st.recursive(
    st.builds(lambda tag, attrs: f"<{tag}{attrs}/>", st.sampled_from(TAGS), attributes),
    lambda inner: st.builds(
        lambda tag, attrs, body: f"<{tag}{attrs}>{''.join(body)}</{tag}>",
        st.sampled_from(TAGS),
        attributes,
        st.lists(st.one_of(inner, text), max_size=3),
    ),
    max_leaves=6,
)
BAD_ROOTS = ["devices", "os", "name", "domain", "script", "cpu", "vcpu", "memory"]
GOOD_ROOTS = {
    "kvm_device_0": ["rng", "panic", "watchdog", "hostdev", "memballoon", "serial", "input"],
    "kvm_cpu_pinning": ["cputune", "memoryBacking", "numatune", "memtune", "iothreads"],
    "cpu_mode": ["model", "vendor", "topology", "feature", "cache"],
}
HEADS = {
    "kvm_device_0": [""],
    "kvm_cpu_pinning": [""],
    "cpu_mode": ["exact:", "minimum: ", "strict:", "custom:", "host-model:", "host-passthrough:"],
}


def well_formed(name: str) -> st.SearchStrategy[str]:
    """Mostly well-formed values of the kind `name` takes, with a soup token now and then,
    so that set's refusals, report's output and report's refusals are all reached."""
    # sampled_from is uniform over its list: repeats weigh the good choices.
    root = st.sampled_from(GOOD_ROOTS[name] * 6 + BAD_ROOTS)
    top = st.builds(
        lambda tag, attrs, body: f"<{tag}{attrs}>{''.join(body)}</{tag}>",
        root,
        attributes,
        st.lists(st.one_of(elements, text), max_size=3),
    )
    return st.builds(
        lambda head, parts, splice: head + "\n".join(parts) + splice,
        st.sampled_from(HEADS[name] * 12 + ["", "pin_all", "bogus:"]),
        st.lists(top, min_size=1, max_size=3),
        st.sampled_from([""] * len(TOKENS) * 3 + TOKENS),
    )


# Values libvirt accepts, with holes where any text goes: what is inside must stay text.
TEMPLATES = {
    "kvm_device_0": [
        "<panic model='isa'/>{splice}",
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>{splice}",
        "<serial type='pty'><target port='1'/><alias name={attr}/></serial>",
        "<input type='tablet' bus='usb'><alias name={attr}/></input>",
    ],
    "kvm_cpu_pinning": [
        "pin_all",
        "<cputune><vcpupin vcpu='0' cpuset='4'/></cputune>{splice}",
        "<memoryBacking><hugepages/></memoryBacking>{splice}",
        "<cputune>\\\n<vcpupin vcpu='1' cpuset='2'/>\\ </cputune>",
    ],
    "cpu_mode": [
        "exact: <model fallback='allow'>{text}</model>{splice}",
        "custom:<model>{text}</model><vendor>{text}</vendor>",
        "minimum:<model>core2duo</model><feature policy='require' name={attr}/>",
        "host-model",
        "host-passthrough{splice}",
    ],
}
hole = st.one_of(st.text(xml_chars, max_size=20), st.sampled_from(TOKENS))


def templated(name: str) -> st.SearchStrategy[str]:
    return st.builds(
        lambda template, t, a, splice: template.format(
            text=escape(t), attr=quoteattr(a), splice=splice
        ),
        st.sampled_from(TEMPLATES[name]),
        hole,
        hole,
        st.sampled_from([""] * len(TOKENS) * 3 + TOKENS),
    )


def values(name: str) -> st.SearchStrategy[str]:
    return st.one_of(templated(name), well_formed(name), soup, st.text(max_size=40))


def one_error_line(result: Any) -> None:
    assert result.code in (1, 2), result  # 2: a usage error, such as a NUL in a word
    assert result.err.startswith("error - "), result.err
    assert result.err.endswith("\n") and result.err.count("\n") == 1, result.err


@pytest.fixture
def vm_cli(sqlite_example_cluster: Any) -> Any:
    sqlite_example_cluster.ok("add", "host", "vm", "vm-container-0-0", "cpus=4")
    return sqlite_example_cluster


def check(cli: Any, name: str, value: str) -> str:
    """Set `value` as `name` of the VM and check the outcome; says which outcome it was."""
    cli("remove", "host", "attr", VM, name)
    result = cli("set", "host", "attr", VM, name, f"value={value}")
    if result.code != 0:
        one_error_line(result)
        return "refused by set"
    result = cli("report", "host", "vm", "config", VM)
    if result.code != 0:
        one_error_line(result)
        return "refused by report"
    assert result.out.count("<domain ") == 1
    root = etree.fromstring(result.out.encode())
    schema.validate(root, what=f"report with {name}={value!r}")
    assert root.tag == "domain"
    assert len(root.findall("devices")) == 1
    assert len(root.findall("os")) == 1
    assert [n.text for n in root.iter("name")] == [VM]
    assert "root:" not in result.out  # no external entity was read
    return "reported"


NAMES = ["kvm_device_0", "kvm_cpu_pinning", "cpu_mode"]


@pytest.mark.parametrize("name", NAMES)
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_value_breaks_the_document(vm_cli: Any, name: str, data: st.DataObject) -> None:
    event(check(vm_cli, name, data.draw(values(name), label="value")))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("<!DOCTYPE d [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]><rng>&xxe;</rng>", "set"),
        ("<rng model='virtio'>&xxe;</rng>", "set"),
        ("</devices><devices>", "set"),
        ("<rng model='virtio'/></devices><os><type>hvm</type></os><devices>", "set"),
        ("exact: </cpu><devices/><cpu>", "set"),
        ("<name>evil</name>", "set"),
        ("<panic model='isa'/><!-- </devices> -->", None),
        ("<cputune><![CDATA[</cputune></domain>]]></cputune>", None),
        ("<cputune>\\\n<vcpupin vcpu='0' cpuset='4'/>\\\n</cputune>", None),
        ("pin_all", None),
    ],
)
def test_hand_picked_values(vm_cli: Any, name: str, value: str, outcome: str | None) -> None:
    got = check(vm_cli, name, value)
    if outcome == "set":
        assert got == "refused by set"
