"""The Airboss's signed request: its framing, signing, and opening.

What belongs here: the bytes of a request and of a reply, and nothing about
what a request may do (`checks`) or how it travels (the server and client).

A request on the wire (all lengths big-endian, unsigned)::

    magic      8 bytes   b"AIRBOSS1"
    length     4 bytes   N, the length of `signed` (at most MAX_SIGNED)
    signed     N bytes   fingerprint (ASCII) LF body
    siglen     2 bytes   M, the length of the signature (at most MAX_SIGNATURE)
    signature  M bytes   over magic + length + signed, the exact bytes sent

`fingerprint` is the key's "SHA256:..." (at most 80 characters), so that the
server can find the one key to verify with before reading anything else.
`body` is a UTF-8 JSON object with exactly these members, all strings but
`ts`: {"v": 1, "op", "target", "params": {str: str}, "ts": UTC seconds
(int), "nonce": 32 or more hex digits (>= 128 random bits), "fp": the same
fingerprint}. Ed25519 signs plainly; RSA signs with PSS (MGF1, SHA-256,
salt of the digest's length) over SHA-256. The server verifies the
signature over the bytes it received before it parses the body: nothing is
re-encoded, so no two parsers can disagree about what was signed.

A reply (not signed: the tunnel or TLS protects it)::

    length 4 bytes, then a UTF-8 JSON object: {"rows": [{str: str}, ...]} or
    {"error": "one line"}

After an accepted console request the connection carries the console's raw
bytes both ways.
"""

from __future__ import annotations

import json
import re
import secrets
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from cairn.airboss.keys import PrivateKeyType, PublicKey, fingerprint
from cairn.errors import CairnError

MAGIC = b"AIRBOSS1"
VERSION = 1
PREFIX = len(MAGIC) + 4  # magic and the signed part's length
MAX_SIGNED = 8192
MAX_SIGNATURE = 1024  # an RSA-8192 signature
MAX_REQUEST = PREFIX + MAX_SIGNED + 2 + MAX_SIGNATURE
MAX_REPLY = 4 * 1024 * 1024
MAX_FINGERPRINT = 80
WINDOW = 60  # seconds a request's timestamp may be off the server's clock
NONCE_BITS = 128

_FIELDS = frozenset({"v", "op", "target", "params", "ts", "nonce", "fp"})
_NONCE = re.compile(r"^[0-9a-f]{32,64}$")
_FP = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}$")
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


class Refused(CairnError):
    """A request the Airboss will not run; the message is the one-line reason."""


@dataclass(frozen=True)
class Request:
    """A request whose signature verified: what a tenant asked, and with which key."""

    op: str
    target: str
    params: Mapping[str, str]
    timestamp: int
    nonce: str
    fingerprint: str


@dataclass(frozen=True)
class Frame:
    """A request's parts, framed but neither verified nor parsed."""

    fingerprint: str
    signed: bytes  # magic + length + signed: what the signature covers
    body: bytes
    signature: bytes


def sign(
    private: PrivateKeyType,
    op: str,
    target: str,
    params: Mapping[str, str] | None = None,
    *,
    now: float | None = None,
) -> bytes:
    """The wire bytes of a request `op` on `target`, signed with `private`."""
    fp = fingerprint(private.public_key())
    body = json.dumps(
        {
            "v": VERSION,
            "op": op,
            "target": target,
            "params": dict(params or {}),
            "ts": int(time.time() if now is None else now),
            "nonce": secrets.token_hex(NONCE_BITS // 8),
            "fp": fp,
        },
        separators=(",", ":"),
    ).encode("utf-8")
    signed = fp.encode("ascii") + b"\n" + body
    if len(signed) > MAX_SIGNED:
        raise CairnError(f"the request is longer than {MAX_SIGNED} bytes: shorten its values")
    covered = MAGIC + struct.pack(">I", len(signed)) + signed
    signature = _signature(private, covered)
    return covered + struct.pack(">H", len(signature)) + signature


def _signature(private: PrivateKeyType, data: bytes) -> bytes:
    if isinstance(private, ed25519.Ed25519PrivateKey):
        return private.sign(data)
    return private.sign(data, _PSS, hashes.SHA256())


def signed_length(prefix: bytes) -> int:
    """N from the first PREFIX bytes of a request; Refused when they are not a
    request's or N is out of bounds."""
    if len(prefix) != PREFIX or prefix[: len(MAGIC)] != MAGIC:
        raise Refused("not an Airboss request (bad magic)")
    n: int = struct.unpack(">I", prefix[len(MAGIC) :])[0]
    if not 0 < n <= MAX_SIGNED:
        raise Refused(f"request of {n} bytes: at most {MAX_SIGNED}")
    return n


def signature_length(two: bytes) -> int:
    """M from its 2 bytes; Refused when out of bounds."""
    m: int = struct.unpack(">H", two)[0]
    if not 0 < m <= MAX_SIGNATURE:
        raise Refused(f"signature of {m} bytes: at most {MAX_SIGNATURE}")
    return m


def frame(wire: bytes) -> Frame:
    """The parts of a whole request; Refused when its framing is wrong."""
    n = signed_length(wire[:PREFIX])
    end = PREFIX + n
    if len(wire) < end + 2:
        raise Refused("truncated request")
    m = signature_length(wire[end : end + 2])
    if len(wire) != end + 2 + m:
        raise Refused("truncated request" if len(wire) < end + 2 + m else "trailing bytes")
    fp, lf, body = wire[PREFIX:end].partition(b"\n")
    if not lf or not _FP.match(fp.decode("ascii", "replace")):
        raise Refused("no key fingerprint in the request")
    return Frame(fp.decode("ascii"), wire[:end], body, wire[end + 2 :])


def verify(public: PublicKey, data: bytes, signature: bytes) -> bool:
    """True when `signature` is `public`'s over `data`."""
    try:
        if isinstance(public.key, ed25519.Ed25519PublicKey):
            public.key.verify(signature, data)
        else:
            assert isinstance(public.key, rsa.RSAPublicKey)
            public.key.verify(signature, data, _PSS, hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def open_(wire: bytes, public_for_fingerprint: Callable[[str], PublicKey | None]) -> Request:
    """The request in `wire`, after its signature verified against the key that
    `public_for_fingerprint` gives for its fingerprint. Refused (one line) when
    the framing is wrong, the key unknown, the signature bad or the body not a
    well-formed request."""
    return parse(verified(frame(wire), public_for_fingerprint))


def verified(f: Frame, public_for_fingerprint: Callable[[str], PublicKey | None]) -> Frame:
    public = public_for_fingerprint(f.fingerprint)
    if public is None:
        raise Refused(f"key {f.fingerprint} is not bound to any cluster")
    if public.fingerprint != f.fingerprint or not verify(public, f.signed, f.signature):
        raise Refused(f"bad signature for key {f.fingerprint}")
    return f


def parse(f: Frame) -> Request:
    """The request in a verified frame's body."""
    try:
        body: Any = json.loads(f.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("the request's body is not JSON") from None
    if not isinstance(body, dict) or set(body) != _FIELDS:
        raise Refused(f"the request must have exactly: {', '.join(sorted(_FIELDS))}")
    if body["v"] != VERSION:
        raise Refused(f"request version {body['v']!r}: this Airboss speaks {VERSION}")
    params = body["params"]
    strings = (body["op"], body["target"], body["nonce"], body["fp"])
    if (
        not all(isinstance(s, str) for s in strings)
        or not isinstance(params, dict)
        or not all(isinstance(v, str) for v in params.values())
        or type(body["ts"]) is not int
    ):
        raise Refused("the request's op, target, nonce, fp and params must be strings, ts an int")
    if body["fp"] != f.fingerprint:
        raise Refused("the request's fingerprint differs from its frame's")
    if not _NONCE.match(body["nonce"]):
        raise Refused("the nonce must be 32 to 64 lowercase hex digits")
    return Request(body["op"], body["target"], params, body["ts"], body["nonce"], body["fp"])


def check_time(request: Request, now: float | None = None) -> None:
    """Refused when the request's timestamp is more than WINDOW seconds off."""
    skew = request.timestamp - (time.time() if now is None else now)
    if abs(skew) > WINDOW:
        side = "ahead of" if skew > 0 else "behind"
        raise Refused(
            f"request timestamp {abs(int(skew))} s {side} the Airboss's clock"
            f" (at most {WINDOW} s): check the clock"
        )


def reply(rows: list[dict[str, str]] | None = None, error: str | None = None) -> bytes:
    """The wire bytes of a reply: rows, or a one-line error."""
    body = json.dumps({"error": error} if error is not None else {"rows": rows or []})
    data = body.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def reply_length(four: bytes) -> int:
    n: int = struct.unpack(">I", four)[0]
    if n > MAX_REPLY:
        raise CairnError(f"the Airboss sent a reply of {n} bytes: at most {MAX_REPLY}")
    return n


def read_reply(data: bytes) -> list[dict[str, str]]:
    """The rows of a reply body; CairnError with the Airboss's reason."""
    try:
        body: Any = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CairnError("the Airboss sent a reply that is not JSON") from None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        raise CairnError(body["error"])
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
        raise CairnError("the Airboss sent a reply without rows")
    return [{str(k): str(v) for k, v in row.items()} for row in body["rows"]]
