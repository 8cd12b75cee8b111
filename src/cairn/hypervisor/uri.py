"""Libvirt URIs of containers from the kvm_connection template, and which URIs
cairn may use at all. No libvirt import, so attribute checks can use it when a
template is set.

kvm_connection is data that anyone who may write the database controls, and
some libvirt URIs run programs or read files of the URI's choosing
(`qemu+ext:///system?command=/any/program`, `?keyfile=`, `?pkipath=`), as
whoever runs cairn: root, even for a read-only `list host vm status=yes` or
the watch service. So a URI is checked when the template is set and again
before any connection is opened (`check_uri`):

- driver `qemu` (`test` for tests), transport tls, ssh, unix, none, or tcp;
  anything else (ext, libssh, ...) is refused;
- query options: only those that name no program or file (`no_tty`, `mode`)
  unless the administrator's config file lists more in
  `kvm_connection_options = ["socket", "keyfile"]` (cairn.config).
"""

from __future__ import annotations

import re
import string
from urllib.parse import parse_qsl, urlsplit

from cairn.errors import CairnError

_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
# driver[+transport]:// as libvirt reads it: qemu:///system, qemu+ssh://h/system
_URI = re.compile(r"[a-z][a-z0-9]*(\+[a-z0-9]+)?://", re.IGNORECASE)

DRIVERS = frozenset({"qemu", "test"})
TRANSPORTS = frozenset({"", "tls", "ssh", "unix", "tcp"})
SAFE_OPTIONS = frozenset({"no_tty", "mode"})
OPTIONS_KEY = "kvm_connection_options"


def uri_for(template: str, host: str) -> str:
    """`template` with `{host}` replaced by `host`, e.g. qemu+ssh://{host}/system.

    `host` must be a DNS name or IPv4 address (labels of letters, digits and
    '-', joined by '.'), so it cannot add a path, query, user or port to the
    URI. The only field allowed is a bare `{host}`; `{{`/`}}` are literal braces.
    A template without `{host}` (e.g. test:///default) is the same for every host.
    The result passes `check_uri`.
    """
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise CairnError(f"invalid container host name {host!r}: use letters, digits, '-', '.'")
    if not _URI.match(template):
        raise CairnError(
            f"invalid kvm_connection template {template!r}: not a libvirt URI such as"
            " qemu+ssh://{host}/system, qemu+tls://{host}/system or qemu:///system"
        )
    parts: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise CairnError(f"invalid kvm_connection template {template!r}: {exc}") from None
    for literal, field, spec, conversion in parsed:
        parts.append(literal)
        if field is None:
            continue
        if field != "host" or spec or conversion:
            raise CairnError(
                f"invalid kvm_connection template {template!r}: only {{host}} may be substituted"
            )
        parts.append(host)
    uri = "".join(parts)
    check_uri(uri, what=f"kvm_connection {template!r}")
    return uri


def allowed_options() -> frozenset[str]:
    """SAFE_OPTIONS and those the administrator's config file allows."""
    from cairn.config import config, config_path

    extra = config().get(OPTIONS_KEY, [])
    if not isinstance(extra, list) or not all(isinstance(o, str) for o in extra):
        raise CairnError(
            f'{OPTIONS_KEY} in {config_path()} must be a list of option names, such as ["socket"]'
        )
    return SAFE_OPTIONS | frozenset(extra)


def check_uri(uri: str, *, what: str = "") -> None:
    """Refuse a URI whose transport or options could run a program or read a file
    of its choosing (see the module's docstring). `what` names it in errors."""
    said = what or repr(uri)
    parts = urlsplit(uri)
    driver, _, transport = parts.scheme.lower().partition("+")
    if driver not in DRIVERS:
        raise CairnError(
            f"{said}: libvirt driver {driver!r} is not one cairn uses; use qemu"
            " (qemu+tls://{host}/system, qemu+ssh://{host}/system, qemu:///system)"
        )
    if transport not in TRANSPORTS:
        raise CairnError(
            f"{said}: transport {transport!r} is refused (it can run programs);"
            " use tls, ssh, unix or tcp, e.g. qemu+tls://{host}/system"
        )
    if parts.fragment:
        raise CairnError(f"{said}: a libvirt URI has no #fragment; remove it")
    if not parts.query:
        return
    allowed = allowed_options()
    for name, _value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() not in allowed:
            from cairn.config import config_path

            raise CairnError(
                f"{said}: URI option {name}= is refused (options may name programs or"
                f" files); an administrator may allow it with {OPTIONS_KEY} ="
                f' ["{name}"] in {config_path()}'
            )
