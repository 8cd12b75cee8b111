"""Property tests: no raw-XML value can restructure a domain or slip past both checks.

Whatever text arrives as kvm_device_N, kvm_cpu_pinning or cpu_mode, the outcome is a
FragmentError, a SchemaError, or a valid document with the builder's own skeleton.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from domainxml_seed import (
    SEED_CPU_MODE,
    SEED_DEVICE_AS_BASH_GIVES_IT,
    SEED_DEVICE_QUOTED,
    SEED_PINNING,
)
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from cairn.domainxml import schema
from cairn.domainxml.cpumode import parse_cpu_mode
from cairn.domainxml.domain import build_domain, to_xml
from cairn.domainxml.fragments import (
    CPU_CHILD_ROOTS,
    DEVICE_ROOTS,
    DOMAIN_CHILD_ROOTS,
    FragmentError,
    parse_fragment,
)
from cairn.domainxml.spec import DomainSpec

TAGS = [*sorted(DEVICE_ROOTS | DOMAIN_CHILD_ROOTS | CPU_CHILD_ROOTS), "devices", "domain", "os"]
TOKENS = st.sampled_from(
    [
        *["<", ">", "/>", "</", "&", "&amp;", "&e;", "'", '"', "=", " ", "\\\n", "\\ ", ":"],
        *["</devices>", "</domain>", "<devices>", "<!DOCTYPE d>", "<?x?>", "<![CDATA[x]]>"],
        *["<!--c-->", "mode=", "type='pci'", "vcpu='0'", "cpuset='1'", "host-model", "exact"],
        *["<hostdev mode='subsystem' type='pci'>", "</hostdev>", "<vcpupin vcpu='0'/>"],
        *TAGS,
    ]
)
# Well-formed elements with plausible names and attributes, so that values get past the
# fragment parser often enough to exercise the schema and the builder.
INNER_TAGS = ["source", "address", "target", "model", "vcpupin", "emulatorpin", "vendor"]
ATTRIBUTES = st.dictionaries(
    st.sampled_from(["mode", "type", "managed", "vcpu", "cpuset", "bus", "slot", "function"])
    | st.sampled_from(["dev", "name", "policy", "sockets", "cores", "threads", "fallback"]),
    st.sampled_from(["subsystem", "pci", "yes", "0", "1", "0x06", "0x02", "0x0", "vda"])
    | st.sampled_from(["virtio", "require", "allow", "core2duo", "&amp;", "&lt;/x&gt;", "a b"]),
    max_size=3,
)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def render(tag: str, attributes: dict[str, str], inner: list[str], text: str) -> str:
        attrs = "".join(f" {name}='{value}'" for name, value in attributes.items())
        return f"<{tag}{attrs}>{text}{''.join(inner)}</{tag}>"

    return st.builds(
        render,
        st.sampled_from(TAGS + INNER_TAGS),
        ATTRIBUTES,
        st.lists(children, max_size=3),
        st.sampled_from(["", "core2duo", "Intel", " \\\n "]),
    )


LEAF = st.builds(
    lambda tag, attributes: f"<{tag}{''.join(f' {k}={v!r}' for k, v in attributes.items())}/>",
    st.sampled_from(TAGS + INNER_TAGS),
    ATTRIBUTES,
)
XMLISH = st.recursive(LEAF, _element, max_leaves=8)
VALUES = st.one_of(
    st.text(max_size=60),
    st.lists(TOKENS, max_size=14).map("".join),
    st.lists(XMLISH, min_size=1, max_size=3).map(" ".join),
    st.lists(XMLISH | TOKENS, max_size=6).map("".join),
)
GLUE = st.sampled_from(["", " ", "\\ ", "\\\n  ", "\n"])
NUMBER = st.sampled_from(["0", "1", "3", "7", "x", "-1", "0x06", "0-3"])
VCPUPIN = st.builds("<vcpupin vcpu='{}' cpuset='{}'/>".format, NUMBER, NUMBER)
HOSTDEV = st.builds(
    "<hostdev mode='subsystem' type='pci' managed='yes'>{3}<source>{3}"
    "<address bus='{0}' slot='{1}' function='{2}'/>{3}</source>{3}</hostdev>".format,
    *[NUMBER] * 3,
    GLUE,
)
CPU_CHILD = (
    XMLISH
    | st.sampled_from(["<model>core2duo</model>", "<vendor>Intel</vendor>"])
    | st.builds("<topology sockets='{}' cores='{}' threads='{}'/>".format, *[NUMBER] * 3)
)
MODES = ["host-model", "host-passthrough", "custom", " exact ", "minimum", "bogus"]


def half_garbage(plausible: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Plausible values half of the time, so some documents get as far as the schema."""
    return st.one_of(st.deferred(lambda: VALUES), st.deferred(lambda: plausible))


PIN_VALUES = half_garbage(
    st.builds(
        "<cputune>{1}{0}{1}</cputune>".format, st.lists(VCPUPIN, max_size=4).map("".join), GLUE
    )
)
DEVICE_VALUES = half_garbage(
    HOSTDEV
    | st.sampled_from(["<watchdog model='i6300esb' action='reset'/>", "<serial type='pty'/>"])
)
CPU_VALUES = half_garbage(
    st.builds("{}:{}".format, st.sampled_from(MODES), st.lists(CPU_CHILD, max_size=3).map("".join))
)
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def outcome(spec: DomainSpec) -> str:
    domain = build_domain(spec)
    try:
        schema.validate(domain)
    except schema.SchemaError:
        event("refused by schema")
        return "refused by schema"
    assert domain.tag == "domain"
    for tag in ("name", "uuid", "memory", "vcpu", "os", "devices"):
        assert len(domain.findall(tag)) == 1, tag
    assert domain.findtext("name") == spec.name
    assert domain.find("devices/devices") is None
    event("valid")
    return "valid"


@SETTINGS
@example(device=SEED_DEVICE_QUOTED, pinning=SEED_PINNING, cpu_mode="host-model")
@example(device=SEED_DEVICE_AS_BASH_GIVES_IT, pinning=SEED_PINNING, cpu_mode="host-model")
@example(device="<serial type='pty'/>", pinning="<cputune/>", cpu_mode=SEED_CPU_MODE)
@given(device=DEVICE_VALUES, pinning=PIN_VALUES, cpu_mode=CPU_VALUES)
def test_raw_values_never_restructure(
    minimal: DomainSpec, device: str, pinning: str, cpu_mode: str
) -> None:
    try:
        devices = parse_fragment(device, allowed_roots=DEVICE_ROOTS, what="kvm_device_0")
        tuning = parse_fragment(pinning, allowed_roots=DOMAIN_CHILD_ROOTS, what="pinning")
        cpu = parse_cpu_mode(cpu_mode, "cpu_mode")
    except FragmentError as error:
        assert "\n" not in str(error)
        event("refused as a fragment")
        return
    spec = replace(minimal, devices_extra=devices, domain_extra=tuning, cpu=cpu)
    if outcome(spec) == "valid":
        domain = build_domain(spec)
        assert len(domain.find("devices")) >= len(devices)


@SETTINGS
@given(value=st.one_of(st.deferred(lambda: VALUES), DEVICE_VALUES, PIN_VALUES))
def test_each_value_alone(minimal: DomainSpec, value: str) -> None:
    for roots in (DEVICE_ROOTS, DOMAIN_CHILD_ROOTS):
        try:
            elements = parse_fragment(value, allowed_roots=roots, what="value")
        except FragmentError as error:
            assert str(error).startswith("value")
            continue
        assert all(e.tag in roots and e.getparent() is None for e in elements)
        if roots is DEVICE_ROOTS:
            outcome(replace(minimal, devices_extra=elements))
        else:
            outcome(replace(minimal, domain_extra=elements))


@SETTINGS
@given(parts=st.lists(st.sampled_from(["\\ ", "\\\n", "\\\t", "\\\r\n", " ", "\n"]), max_size=6))
def test_continuations_never_reach_the_output(
    minimal: DomainSpec, build: Callable[[DomainSpec], etree._Element], parts: list[str]
) -> None:
    glue = "".join(parts)
    value = f"<cputune>{glue}<vcpupin vcpu='0'{glue or ' '}cpuset='0'/>{glue}</cputune>{glue}"
    elements = parse_fragment(value, allowed_roots=DOMAIN_CHILD_ROOTS, what="pinning")
    assert "\\" not in to_xml(build(replace(minimal, domain_extra=elements)))
