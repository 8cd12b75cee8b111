"""Safe parsing of user-supplied raw XML: the values of kvm_cpu_pinning, kvm_device_N
and the part of cpu_mode after the colon.

A value becomes a tuple of detached elements whose root tags were checked against a
caller-given set; it can never change the structure around the place it is put.
Each distinct value is parsed and checked once (an appliance's kvm_device_0 is
the same text for all its VMs); the elements are then shared by every caller,
which copies them before changing or placing them (`_tree.adopt` does).
What belongs here: parsing, the refusal messages and the sets of allowed root tags.
What does not: where the elements go (the builders) or which attribute feeds which
set (the designer).
"""

from __future__ import annotations

import copy
import functools
import re

from lxml import etree

from cairn.errors import CairnError

__all__ = [
    "CPU_CHILD_ROOTS",
    "DEVICE_ROOTS",
    "DOMAIN_CHILD_ROOTS",
    "FEATURE_ROOTS",
    "ROOTS",
    "FragmentError",
    "parse_fragment",
]

DOMAIN_CHILD_ROOTS = frozenset(
    {"cputune", "numatune", "memtune", "blkiotune", "iothreads", "iothreadids"}
    | {"memoryBacking", "resource"}
)
DEVICE_ROOTS = frozenset(
    {"disk", "controller", "lease", "filesystem", "interface", "input", "sound", "hostdev"}
    | {"graphics", "video", "console", "serial", "parallel", "channel", "smartcard", "hub"}
    | {"redirdev", "redirfilter", "rng", "tpm", "shmem", "memory", "iommu", "vsock"}
    | {"watchdog", "memballoon", "panic", "audio", "crypto"}
)
CPU_CHILD_ROOTS = frozenset(
    {"model", "vendor", "topology", "feature", "cache", "numa", "maxphysaddr"}
)
FEATURE_ROOTS = frozenset(
    {"acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "xen"}
    | {"pvspinlock", "pmu", "vmport", "gic", "smm", "ioapic", "vmcoreinfo", "htm"}
    | {"msrs", "nested-hv", "ccf-assist", "cfpc", "sbbc", "ibs", "hpt", "tseg"}
    | {"async-teardown", "ras", "tcg", "sev", "s390-pv", "ps2"}
)
# The allowed roots by the place the elements go (a Knob's `place`).
ROOTS = {
    "devices": DEVICE_ROOTS,
    "domain": DOMAIN_CHILD_ROOTS,
    "features": FEATURE_ROOTS,
    "cpu": CPU_CHILD_ROOTS,
}

_WRAPPER = "cairn-fragment-value"
_PREFIX = f"<{_WRAPPER}>"
_PREDEFINED_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})

# Shell line continuations that survived single quotes: a backslash and the whitespace
# after it.  Next to a tag boundary the run goes away; elsewhere (between attributes,
# inside text) one space stands in for the line break it replaced.
_CONTINUATION = re.compile(r"\\[ \t\r\n]+")
# Parts of the text the scans below must not look into.
_OPAQUE = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.DOTALL)
_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)
_ENTITY_REF = re.compile(r"&([^\s&;#<>]*);")
_UNQUOTED_ATTR = re.compile(r"""(\s[\w.:-]+\s*=\s*)([^\s'"<>=/]+)""")
_START_TAG = re.compile(r"<[A-Za-z_][\w.:-]*[^<>]*>")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_MISMATCH = re.compile(r"Opening and ending tag mismatch: (\S+) line \d+ and (\S+)")
_POSITION = re.compile(r",\s*line \d+, column \d+\s*$")

_FIX = "give complete XML elements, each tag closed and attribute values in quotes"


class FragmentError(CairnError):
    """A raw-XML value cannot be used; the message says which value and how to fix it."""


def parse_fragment(
    text: str, *, allowed_roots: frozenset[str], what: str
) -> tuple[etree._Element, ...]:
    """Parse `text` as one or more sibling elements whose tags are in `allowed_roots`.

    `what` names the value in messages, e.g. "attribute kvm_device_0 of host vm-0-0-0".
    The elements are shared with other callers that gave the same text: copy
    one before changing it.
    """
    try:
        return _parsed_once(text, allowed_roots)
    except FragmentError:
        return _parse(text, allowed_roots, what)  # fails again, naming `what`


@functools.lru_cache(maxsize=1024)
def _parsed_once(text: str, allowed_roots: frozenset[str]) -> tuple[etree._Element, ...]:
    return _parse(text, allowed_roots, "the value")


def _parse(text: str, allowed_roots: frozenset[str], what: str) -> tuple[etree._Element, ...]:
    text = _join_continuations(text)
    if not text.strip():
        raise FragmentError(f"{what} is empty; {_FIX}, or remove it")
    _refuse_markup(text, what)
    wrapper = _parse_wrapped(text, what)
    if wrapper.text is not None and wrapper.text.strip():
        _refuse_text(wrapper.text, what)
    allowed = ", ".join(sorted(allowed_roots))
    elements: list[etree._Element] = []
    for child in wrapper:
        if not isinstance(child.tag, str):
            raise FragmentError(f"{what} holds something other than elements; {_FIX}")
        qname = etree.QName(child)
        if qname.namespace is not None:
            raise FragmentError(
                f"{what}: element <{qname.localname}> is in namespace {qname.namespace!r};"
                " remove the namespace prefix or xmlns attribute"
            )
        if child.tag not in allowed_roots:
            raise FragmentError(f"{what}: <{child.tag}> is not allowed here; use one of: {allowed}")
        if child.tail is not None and child.tail.strip():
            _refuse_text(child.tail, what)
        elements.append(_detached(child))
    return tuple(elements)


def _join_continuations(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() > 0 else ">"
        after = text[match.end()] if match.end() < len(text) else "<"
        return "" if before in "> \t\r\n" or after == "<" else " "

    return _CONTINUATION.sub(replace, text)


def _refuse_markup(text: str, what: str) -> None:
    scanned = _OPAQUE.sub("", text)
    declaration = _DECLARATION.search(scanned)
    if declaration:
        raise FragmentError(
            f"{what} contains a <!{declaration.group(1).upper()} declaration;"
            " DTDs and entity definitions are refused, give plain elements only"
        )
    if "<?" in scanned:
        raise FragmentError(
            f"{what} contains a processing instruction or XML declaration (<?...?>);"
            " remove it and give plain elements only"
        )
    for ref in _ENTITY_REF.finditer(scanned):
        if ref.group(1) not in _PREDEFINED_ENTITIES:
            raise FragmentError(
                f"{what} uses the entity reference &{ref.group(1)};, which is refused;"
                " only &amp; &lt; &gt; &quot; &apos; and numeric references (&#65;) work"
            )


def _parse_wrapped(text: str, what: str) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        return etree.fromstring(f"{_PREFIX}{text}</{_WRAPPER}>", parser)
    except etree.XMLSyntaxError as error:
        _refuse_unquoted(text, what)
        raise FragmentError(
            f"{what} is not well-formed XML ({_reason(error, text)}); {_FIX}"
        ) from None
    except ValueError:  # lone surrogates and other text lxml cannot encode
        raise FragmentError(f"{what} contains characters that XML cannot hold; {_FIX}") from None


def _reason(error: etree.XMLSyntaxError, text: str) -> str:
    message = _POSITION.sub("", " ".join(str(error.msg).split()))
    # Say in the value's terms what libxml2 says about the wrapper around it.
    mismatch = _MISMATCH.match(message)
    if mismatch and mismatch.group(1) == _WRAPPER:
        message = f"</{mismatch.group(2)}> closes an element the value did not open"
    elif mismatch and mismatch.group(2) == _WRAPPER:
        message = f"<{mismatch.group(1)}> is never closed"
    elif message.startswith("Extra content at the end"):
        message = "the value closes more elements than it opens"
    line, column = error.position
    lines = text.splitlines() or [""]
    if line == 1:
        column -= len(_PREFIX)
    # An error found at the wrapper's end tag lies just past the value.
    line = min(line, len(lines))
    column = max(0, min(column, len(lines[line - 1]) + 1))
    return f"{message}, at line {line} column {column}"


def _refuse_unquoted(text: str, what: str) -> None:
    for tag in _START_TAG.finditer(_OPAQUE.sub("", text)):
        if _UNQUOTED_ATTR.search(_QUOTED.sub("''", tag.group(0))):
            quoted = _UNQUOTED_ATTR.sub(r"\1'\2'", tag.group(0))
            raise FragmentError(
                f"{what}: the attribute values lost their quotes ({tag.group(0)});"
                " the shell removes quotes nested in a value quoted with the same kind, so"
                " quote the whole value with the other kind, here double quotes:"
                f' value="{quoted}..."'
            )


def _refuse_text(text: str, what: str) -> None:
    shown = " ".join(text.split())[:40]
    raise FragmentError(
        f"{what} has text outside any element ({shown!r}); {_FIX}, with nothing between them"
    )


def _detached(element: etree._Element) -> etree._Element:
    clone = copy.deepcopy(element)
    clone.tail = None
    # Indentation from the user's value is noise; dropping it lets to_xml indent cleanly.
    for node in clone.iter():
        if node is not clone and node.tail is not None and not node.tail.strip():
            node.tail = None
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
    return clone
