"""Where the service for this caller listens, and which cairn it must be.

Light on purpose (the client imports it): no SQLAlchemy, psycopg or
libvirt, and not even `pathlib`, `hashlib` or `json`. A service is keyed by
everything in the environment that changes what a command does (the
database, plugin path, CA directory, home): callers with the same key share
a service, a different key gets its own socket.
"""

from __future__ import annotations

import os

import cairn
from cairn.db.url import database_url

PROTOCOL = 1


def key_env() -> dict[str, str]:
    """What a command run for this caller depends on, besides its words."""
    return {
        "CAIRN_DB_URL": database_url(),
        "CAIRN_PLUGIN_PATH": os.environ.get("CAIRN_PLUGIN_PATH", ""),
        "CAIRN_CA_DIR": os.environ.get("CAIRN_CA_DIR", ""),
        "CAIRN_SQL_COUNT": os.environ.get("CAIRN_SQL_COUNT", ""),
        "HOME": os.path.expanduser("~"),
    }


def socket_path(env: dict[str, str]) -> str:
    """$CAIRN_SOCKET, else one socket per key in a directory only its owner
    can enter: $CAIRN_RUNTIME_DIR, else /run/cairn for root, else
    $XDG_RUNTIME_DIR/cairn or /tmp/cairn-UID."""
    if os.environ.get("CAIRN_SOCKET"):
        return os.environ["CAIRN_SOCKET"]
    text = "\0".join(f"{k}={v}" for k, v in sorted(env.items()))
    return os.path.join(runtime_dir(), f"{_fnv(text.encode()):016x}.sock")


def runtime_dir() -> str:
    if os.environ.get("CAIRN_RUNTIME_DIR"):
        return os.environ["CAIRN_RUNTIME_DIR"]
    if os.geteuid() == 0:
        return "/run/cairn"
    base = os.environ.get("XDG_RUNTIME_DIR")
    return os.path.join(base, "cairn") if base else f"/tmp/cairn-{os.geteuid()}"


def version() -> str:
    """This cairn's release and a fingerprint of its code (how many modules,
    their total size, the newest change): a client and a service that differ
    in either refuse each other."""
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
