"""The signed request: what verifies, and every way a request is refused before parsing."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.airboss import envelope, keys
from cairn.airboss.envelope import Refused


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[keys.PrivateKeyType, keys.PublicKey]:
    path = tmp_path_factory.mktemp("k") / "owner"
    public = keys.generate(path)
    return keys.load_private(path), public


@pytest.fixture(scope="module")
def rsa_pair(tmp_path_factory) -> tuple[keys.PrivateKeyType, keys.PublicKey]:
    path = tmp_path_factory.mktemp("k") / "rocks"
    public = keys.generate(path, kind="rsa", bits=2048)
    return keys.load_private(path), public


def _lookup(*publics: keys.PublicKey):
    return {p.fingerprint: p for p in publics}.get


@pytest.mark.parametrize("which", ["pair", "rsa_pair"])
def test_a_signed_request_opens_as_sent(request, which: str) -> None:
    private, public = request.getfixturevalue(which)
    wire = envelope.sign(private, "power", "vc-compute-0", {"action": "on"}, now=1_000)
    got = envelope.open_(wire, _lookup(public))
    assert (got.op, got.target, dict(got.params), got.timestamp) == (
        "power",
        "vc-compute-0",
        {"action": "on"},
        1_000,
    )
    assert got.fingerprint == public.fingerprint
    assert len(got.nonce) * 4 >= 128


def test_two_requests_have_different_nonces(pair) -> None:
    private, public = pair
    a = envelope.open_(envelope.sign(private, "macs", "vc"), _lookup(public))
    b = envelope.open_(envelope.sign(private, "macs", "vc"), _lookup(public))
    assert a.nonce != b.nonce


def test_every_flipped_byte_is_refused(pair) -> None:
    private, public = pair
    wire = envelope.sign(private, "power", "vc-compute-0", {"action": "off"})
    for i in range(len(wire)):
        bad = bytearray(wire)
        bad[i] ^= 0x01
        with pytest.raises(Refused) as e:
            envelope.open_(bytes(bad), _lookup(public))
        assert "\n" not in str(e.value)


def test_another_keys_signature_is_refused(pair, rsa_pair) -> None:
    _, public = pair
    other_private, other_public = rsa_pair
    wire = envelope.sign(other_private, "power", "vc-compute-0")
    # the frame names the other key: unknown to a lookup that has only the owner's
    with pytest.raises(Refused, match="not bound"):
        envelope.open_(wire, _lookup(public))
    # a frame that claims the owner's fingerprint, signed by the other key
    f = envelope.frame(wire)
    forged_signed = (
        public.fingerprint.encode()
        + b"\n"
        + f.body.replace(other_public.fingerprint.encode(), public.fingerprint.encode())
    )
    covered = envelope.MAGIC + struct.pack(">I", len(forged_signed)) + forged_signed
    sig = other_private.sign(covered, envelope._PSS, envelope.hashes.SHA256())
    forged = covered + struct.pack(">H", len(sig)) + sig
    with pytest.raises(Refused, match="bad signature"):
        envelope.open_(forged, _lookup(public, other_public))


def _resigned(private, body: bytes) -> bytes:
    fp = keys.fingerprint(private.public_key()).encode()
    signed = fp + b"\n" + body
    covered = envelope.MAGIC + struct.pack(">I", len(signed)) + signed
    sig = envelope._signature(private, covered)
    return covered + struct.pack(">H", len(sig)) + sig


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b: b | {"extra": "x"}, "exactly"),
        (lambda b: {k: v for k, v in b.items() if k != "nonce"}, "exactly"),
        (lambda b: b | {"v": 2}, "version"),
        (lambda b: b | {"ts": "1000"}, "must be strings"),
        (lambda b: b | {"params": {"a": 1}}, "must be strings"),
        (lambda b: b | {"nonce": "abc"}, "nonce"),
        (lambda b: b | {"fp": "SHA256:" + "A" * 43}, "differs"),
    ],
)
def test_a_well_signed_but_malformed_body_is_refused(pair, change, reason: str) -> None:
    private, public = pair
    f = envelope.frame(envelope.sign(private, "power", "x"))
    body = json.dumps(change(json.loads(f.body))).encode()
    with pytest.raises(Refused, match=reason):
        envelope.open_(_resigned(private, body), _lookup(public))


def test_signed_non_json_is_refused(pair) -> None:
    private, public = pair
    with pytest.raises(Refused, match="not JSON"):
        envelope.open_(_resigned(private, b"\xff\xfe{"), _lookup(public))


def test_framing_is_checked_before_any_key_is_looked_up(pair) -> None:
    private, _ = pair
    wire = envelope.sign(private, "power", "x")
    looked: list[str] = []

    def lookup(fp: str):
        looked.append(fp)
        return None

    for bad in (
        b"",
        b"GET / HTTP/1.1\r\n\r\n",
        wire[:-1],
        wire + b"x",
        envelope.MAGIC + struct.pack(">I", envelope.MAX_SIGNED + 1),
        envelope.MAGIC + struct.pack(">I", 0),
        b"AIRBOSS1" + wire[8:12] + b"no-fingerprint\n{}" + wire[12 + 100 :],
    ):
        with pytest.raises(Refused):
            envelope.open_(bad, lookup)
    assert looked == []


def test_the_time_window(pair) -> None:
    private, public = pair
    got = envelope.open_(envelope.sign(private, "macs", "vc", now=10_000), _lookup(public))
    envelope.check_time(got, now=10_060)
    envelope.check_time(got, now=9_940)
    with pytest.raises(Refused, match="61 s behind"):
        envelope.check_time(got, now=10_061)
    with pytest.raises(Refused, match="ahead"):
        envelope.check_time(got, now=9_900)


def test_replies_round_trip_and_errors_are_raised() -> None:
    rows = [{"host": "vc-compute-0", "mac": "52:54:00:00:00:01"}]
    data = envelope.reply(rows)
    assert envelope.reply_length(data[:4]) == len(data) - 4
    assert envelope.read_reply(data[4:]) == rows
    with pytest.raises(envelope.CairnError, match=r"^not yours$"):
        envelope.read_reply(envelope.reply(error="not yours")[4:])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz_garbage_never_escapes_as_anything_but_refused(data: bytes) -> None:
    with pytest.raises(Refused):
        envelope.open_(data, lambda fp: None)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=8))
def test_fuzz_corrupted_requests_are_refused(pair, position: int, junk: bytes) -> None:
    private, public = pair
    wire = envelope.sign(private, "power", "vc-compute-0", {"action": "on"})
    i = position % len(wire)
    bad = wire[:i] + junk + wire[i + len(junk) :]
    if bad == wire:
        return
    with pytest.raises(Refused):
        envelope.open_(bad, _lookup(public))


def test_sign_refuses_oversized_values(pair, tmp_path: Path) -> None:
    private, _ = pair
    with pytest.raises(envelope.CairnError, match="longer than"):
        envelope.sign(private, "cdrom", "x", {"cdrom": "a" * envelope.MAX_SIGNED})
