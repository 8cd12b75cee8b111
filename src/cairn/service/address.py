"""Where the service for this caller listens, and which cairn it must be.

Light on purpose (the client imports it): no SQLAlchemy, psycopg or
libvirt, and not even `pathlib`, `hashlib` or `json`. A service is keyed by
everything in the environment that changes what a command does (the
database, plugin path, CA directory, home): callers with the same key share
a service, a different key gets its own socket. The files beside the
socket (the service's log and lock) are its owner's alone, as the socket is.
"""

from __future__ import annotations

import os

import cairn
from cairn.db.url import database_url

PROTOCOL = 1
# Schemes a service can serve; any other URL is refused by the command itself.
SCHEMES = frozenset({"sqlite", "postgresql", "mysql", "mariadb"})


def key_env() -> dict[str, str]:
    """What a command run for this caller depends on, besides its words."""
    return {
        "CAIRN_DB_URL": database_url(),
        "CAIRN_PLUGIN_PATH": os.environ.get("CAIRN_PLUGIN_PATH", ""),
        "CAIRN_CA_DIR": os.environ.get("CAIRN_CA_DIR", ""),
        "CAIRN_SQL_COUNT": os.environ.get("CAIRN_SQL_COUNT", ""),
        # The config file says what VMs may reach and what may run.
        "CAIRN_CONFIG": os.environ.get("CAIRN_CONFIG", ""),
        "HOME": os.path.expanduser("~"),
        # A command that acts on this machine's network (sync config starts
        # dnsmasq; sync host network makes bridges) must run in the caller's
        # namespace: `ip netns exec X cairn ...` gets a service of its own.
        "netns": _netns(),
    }


def _netns() -> str:
    try:
        return os.readlink("/proc/self/ns/net")
    except OSError:
        return ""


def socket_path(env: dict[str, str]) -> str:
    """$CAIRN_SOCKET, else one socket per key in a directory only its owner
    can enter: $CAIRN_RUNTIME_DIR, else /run/cairn for root, else
    $XDG_RUNTIME_DIR/cairn or /tmp/cairn-UID."""
    if os.environ.get("CAIRN_SOCKET"):
        return os.environ["CAIRN_SOCKET"]
    text = "\0".join(f"{k}={v}" for k, v in sorted(env.items()))
    return os.path.join(runtime_dir(), f"{_fnv(text.encode()):016x}.sock")


def served(url: str) -> bool:
    """Whether a service may be started for `url`: one of another scheme
    would only refuse every command, and stay."""
    scheme, sep, _ = url.partition("://")
    return bool(sep) and scheme.split("+")[0] in SCHEMES


def open_private(path: str) -> int:
    """A descriptor of the file at `path` for appending, created 0600; one
    made before by a cairn that created it 0644 is made 0600 too."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    if os.fstat(fd).st_uid == os.geteuid():  # else not ours to change (CAIRN_SOCKET)
        os.fchmod(fd, 0o600)
    return fd


def runtime_dir() -> str:
    if os.environ.get("CAIRN_RUNTIME_DIR"):
        return os.environ["CAIRN_RUNTIME_DIR"]
    if os.geteuid() == 0:
        return "/run/cairn"
    base = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(base, "cairn") if base else f"/tmp/cairn-{os.geteuid()}"


_version: str | None = None


def version() -> str:
    """This cairn's release and a fingerprint of its code (how many modules,
    their total size, the newest change): a client and a service that differ
    in either refuse each other.

    Taken once per process, at its first hello: it stands for the code this
    process runs, which it imported by then (the client all of it; a service
    the fingerprint it started with), not for files changed since. Sources
    changed under a running service still meet a new `cairn` process, whose
    fingerprint is new. Scanning the tree took about 2.4 ms, twice per
    connection."""
    global _version
    if _version is None:
        _version = _scan()
    return _version


def _scan() -> str:
    count = size = newest = 0
    stack = [os.path.dirname(cairn.__file__)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    st = entry.stat()
                    count, size = count + 1, size + st.st_size
                    newest = max(newest, st.st_mtime_ns)
                elif entry.is_dir() and entry.name != "__pycache__":
                    stack.append(entry.path)
    return f"{cairn.__version__}/{PROTOCOL}/{count}.{size:x}.{newest:x}"


def _fnv(data: bytes) -> int:
    """FNV-1a, 64 bits: a stable name for a key, without importing hashlib."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h
