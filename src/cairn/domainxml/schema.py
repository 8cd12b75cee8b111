"""Validation of built domains against libvirt's own RelaxNG schema (domain.rng).

The schema comes from the system's libvirt packages, so a document is checked against
what the installed libvirt accepts.  It is loaded once per process, on first use.
Nothing here builds XML or decides what a domain should hold.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

from lxml import etree

from cairn.domainxml.domain import to_xml
from cairn.errors import CairnError

__all__ = [
    "HOST_NAME",
    "SCHEMA_PATH",
    "UNICAST_MAC",
    "UUID",
    "Checked",
    "SchemaError",
    "load_schema",
    "schema_available",
    "validate",
]

SCHEMA_PATH = Path("/usr/share/libvirt/schemas/domain.rng")
# `dpkg -S` on Debian 12: the schemas ship with the library package itself.
SCHEMA_PACKAGE = "libvirt0"
_RNG = "{http://relaxng.org/ns/structure/1.0}"
# Schema definitions not named after their element.
_DEFINES = {"cpu": "guestcpu"}
_EXTRA = re.compile(r"Extra element (\S+) in interleave")


class SchemaError(CairnError):
    """A domain document libvirt's schema refuses, or a schema that cannot be loaded."""


def schema_available(path: Path | None = None) -> bool:
    """True if the schema file exists (loading it may still fail)."""
    return (path or SCHEMA_PATH).is_file()


def validate(
    element: etree._Element, *, what: str = "domain XML", path: Path | None = None
) -> None:
    """Raise SchemaError naming the first error if `element` is not a valid <domain>."""
    path = path or SCHEMA_PATH
    schema = load_schema(path)
    if schema.validate(element):
        return
    # Again on a reparsed copy, so that error line numbers are those of to_xml's text.
    document = etree.fromstring(to_xml(element))
    schema.validate(document)
    raise SchemaError(
        f"{what} is refused by libvirt's schema {path}: {_first_error(document, schema, path)};"
        " check the raw XML attributes (kvm_device_N, kvm_cpu_pinning, cpu_mode) against"
        " https://libvirt.org/formatdomain.html"
    )


class Checked:
    """`validate` for many domains built alike (one call of `vms.config.build`):
    a document is checked against the schema once per shape, the shapes that
    passed remembered.

    A shape is the document with the values that differ from VM to VM, and
    that libvirt's schema accepts whatever their value in their class,
    replaced by a mark: the domain's <name> (a cairn host name: the schema
    takes any one-line text) and <uuid> (a UUID's form), each <interface>'s
    <mac address> of unicast form, and the VM's name inside a disk's
    <source file> (an absolute path either way). Two documents of one shape
    differ only there, so the second is valid when the first was; anything
    else, from a user's raw XML to a disk path, a bridge or a size, is part of
    the shape and so validated with it. A VM of the same shape as one whose
    document failed is checked again in full, for its own error message.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._passed: set[bytes] = set()

    def validate(self, element: etree._Element, *, what: str = "domain XML") -> None:
        shape = _shape(element)
        if shape is not None and shape in self._passed:
            return
        validate(element, what=what, path=self._path)
        if shape is not None:
            self._passed.add(shape)


_MARK = "cairn-value"
HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?")
UUID = re.compile(r"[a-fA-F0-9]{8}-([a-fA-F0-9]{4}-){3}[a-fA-F0-9]{12}")
UNICAST_MAC = re.compile(r"[a-fA-F0-9][02468aAcCeE](:[a-fA-F0-9]{2}){5}")


def _shape(domain: etree._Element) -> bytes | None:
    """The document's shape (see `Checked`), or None if it has none."""
    name, uuid = domain.find("name"), domain.find("uuid")
    if name is None or uuid is None or domain.tag != "domain":
        return None
    vm = name.text or ""
    if not HOST_NAME.fullmatch(vm) or not UUID.fullmatch(uuid.text or ""):
        return None
    texts = [(name, vm), (uuid, uuid.text)]
    attributes: list[tuple[etree._Element, str, str]] = []
    for mac in domain.iterfind("devices/interface/mac"):
        address = mac.get("address", "")
        if UNICAST_MAC.fullmatch(address):
            attributes.append((mac, "address", address))
    for source in domain.iterfind("devices/disk/source"):
        file = source.get("file", "")
        if file.startswith("/") and vm in file:
            attributes.append((source, "file", file))
    try:
        for element, _ in texts:
            element.text = _MARK
        for element, key, value in attributes:
            element.set(key, value.replace(vm, _MARK) if key == "file" else _MARK)
        return bytes(etree.tostring(domain))
    finally:
        for element, text in texts:
            element.text = text
        for element, key, value in attributes:
            element.set(key, value)


@functools.cache
def load_schema(path: Path) -> etree.RelaxNG:
    """The RelaxNG schema at `path`, parsed once per process."""
    try:
        return etree.RelaxNG(_grammar(path))
    except etree.RelaxNGParseError as error:
        raise SchemaError(f"libvirt's domain schema {path} cannot be loaded: {error}") from None


def _first_error(document: etree._Element, schema: etree.RelaxNG, path: Path) -> str:
    """`line N: message (at /x/y)` for the first error, as specific as the schema allows."""
    line, message, where = _fault(document, schema, path, depth=0)
    return f"line {line}: {' '.join(message.split())} (at {where})"


def _fault(
    node: etree._Element, schema: etree.RelaxNG, path: Path, depth: int
) -> tuple[int, str, str]:
    """(line, message, path) of the first error `schema` found in `node`.

    libxml2 reports a bad child of an interleave (most of <domain>, <devices>, <cpu>)
    only as "Extra element X in interleave", without a line; validating that child
    against its own definition names the real fault, e.g. "Invalid attribute bogus for
    element hostdev".  So descend into such children while their definitions exist.
    """
    errors = list(schema.error_log)
    first = errors[0]
    extra = _EXTRA.match(first.message)
    if extra:
        children = list(node.iterchildren(extra.group(1)))
        for child in children:
            part = _part_schema(path, child.tag) if depth < 8 else None
            if part is not None and not part.validate(child):
                return _fault(child, part, path, depth + 1)
        # Each one is fine alone: one too many, most likely the last.
        culprit = children[-1] if children else node
        return _line(culprit), first.message, _where(culprit)
    located = first if first.path else next((e for e in errors if e.path), first)
    inner = located.path.split("/", 2)[2] if located.path and located.path.count("/") > 1 else ""
    where = _where(node) + (f"/{inner}" if inner else "")
    return located.line or _line(node), first.message, where


def _line(element: etree._Element) -> int:
    line = element.sourceline  # lxml-stubs: int | None, or ... on some versions
    return line if isinstance(line, int) else 0


def _where(node: etree._Element) -> str:
    return str(node.getroottree().getpath(node))


@functools.cache
def _part_schema(path: Path, tag: str) -> etree.RelaxNG | None:
    """The schema with its start moved to the definition of `tag`, if there is one."""
    grammar = copy.deepcopy(_grammar(path))
    start = grammar.find(f"{_RNG}start/{_RNG}ref")
    if start is None:
        return None
    start.set("name", _DEFINES.get(tag, tag))
    try:
        return etree.RelaxNG(grammar)
    except etree.RelaxNGParseError:
        return None


@functools.cache
def _grammar(path: Path) -> etree._ElementTree:
    if not path.is_file():
        raise SchemaError(
            f"libvirt's domain schema {path} is missing; install the Debian package"
            f" {SCHEMA_PACKAGE} (apt-get install {SCHEMA_PACKAGE}), which provides it"
        )
    try:
        return etree.parse(str(path))
    except etree.XMLSyntaxError as error:
        raise SchemaError(f"libvirt's domain schema {path} cannot be parsed: {error}") from None
