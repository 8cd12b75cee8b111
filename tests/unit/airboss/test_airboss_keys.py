"""Tenant keys: what is accepted, what is refused, fingerprints as ssh-keygen prints them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

from cairn.airboss import keys
from cairn.errors import CairnError


def _ssh_keygen_fingerprint(pub: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(pub)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[1]


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_generate_writes_0600_and_a_pub_file_ssh_keygen_reads(tmp_path: Path, kind) -> None:
    path = tmp_path / "owner"
    public = keys.generate(path, kind=kind, bits=2048, comment="owner@lab")
    assert path.stat().st_mode & 0o777 == 0o600
    line = (tmp_path / "owner.pub").read_text()
    assert line.startswith(public.algorithm + " ") and line.rstrip().endswith("owner@lab")
    assert _ssh_keygen_fingerprint(tmp_path / "owner.pub") == public.fingerprint
    assert keys.read_public(tmp_path / "owner.pub").fingerprint == public.fingerprint
    private = keys.load_private(path)
    assert keys.fingerprint(private.public_key()) == public.fingerprint


def test_ssh_keygen_keys_load_and_fingerprint_the_same(tmp_path: Path) -> None:
    path = tmp_path / "id"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "pw", "-f", str(path)],
        check=True,
    )
    public = keys.read_public(tmp_path / "id.pub")
    assert public.fingerprint == _ssh_keygen_fingerprint(tmp_path / "id.pub")
    private = keys.load_private(path, "pw")
    assert keys.fingerprint(private.public_key()) == public.fingerprint
    with pytest.raises(CairnError, match="needs its passphrase"):
        keys.load_private(path)
    with pytest.raises(CairnError, match="wrong passphrase"):
        keys.load_private(path, "nope")


def test_passphrase_protects_a_generated_key(tmp_path: Path) -> None:
    keys.generate(tmp_path / "k", passphrase="secret words")
    assert b"bcrypt" in _decoded(tmp_path / "k")  # OpenSSH's KDF: the key is encrypted
    with pytest.raises(CairnError, match="passphrase"):
        keys.load_private(tmp_path / "k")
    keys.load_private(tmp_path / "k", "secret words")


def _decoded(path: Path) -> bytes:
    import base64

    lines = path.read_text().splitlines()[1:-1]
    return base64.b64decode("".join(lines))


def test_generate_refuses_an_existing_file_and_leaves_it(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("mine")
    with pytest.raises(CairnError, match="exists"):
        keys.generate(tmp_path / "k")
    assert (tmp_path / "k").read_text() == "mine"
    assert not (tmp_path / "k.pub").exists()
    (tmp_path / "j.pub").write_text("mine")
    with pytest.raises(CairnError, match="exists"):
        keys.generate(tmp_path / "j")
    assert not (tmp_path / "j").exists()


def test_generate_refuses_small_rsa(tmp_path: Path) -> None:
    with pytest.raises(CairnError, match="2048"):
        keys.generate(tmp_path / "k", kind="rsa", bits=1024)
    assert list(tmp_path.iterdir()) == []


def _pem_public(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _ssh_public(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )


def test_rsa_1024_is_refused_in_one_line() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    for text in (_ssh_public(small), _pem_public(small)):
        with pytest.raises(CairnError, match="RSA of 1024 bits") as e:
            keys.parse_public(text)
        assert "\n" not in str(e.value)


def test_rsa_2048_in_pem_is_accepted() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert keys.parse_public(_pem_public(key)).algorithm == "ssh-rsa"


def test_dsa_and_ecdsa_are_refused() -> None:
    d = dsa.generate_private_key(key_size=2048)
    with pytest.raises(CairnError, match="DSA"):
        keys.parse_public(_pem_public(d))
    e = ec.generate_private_key(ec.SECP256R1())
    for text in (_ssh_public(e), _pem_public(e)):
        with pytest.raises(CairnError, match=r"ECDSA|ecdsa"):
            keys.parse_public(text)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_ssh_dss_line_is_refused() -> None:
    # an ssh-dss key as ssh-keygen wrote them (cryptography may no longer read them)
    d = dsa.generate_private_key(key_size=1024)
    try:
        line = _ssh_public(d)
    except (ValueError, TypeError):
        pytest.skip("this cryptography cannot write ssh-dss")
    with pytest.raises(CairnError, match=r"DSA|dss|accepted"):
        keys.parse_public(line + " old@rocks")


@pytest.mark.parametrize(
    "text",
    ["", "ssh-ed25519", "ssh-ed25519 !!!notbase64", "hello world", "ssh-ed25519 AAAA\nssh-rsa B"],
)
def test_garbage_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(CairnError) as e:
        keys.parse_public(text)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o610])
def test_a_private_key_others_can_reach_is_refused(tmp_path: Path, mode: int) -> None:
    keys.generate(tmp_path / "k")
    (tmp_path / "k").chmod(mode)
    with pytest.raises(CairnError, match="chmod 600"):
        keys.load_private(tmp_path / "k")


def test_a_small_or_dsa_private_key_is_refused(tmp_path: Path) -> None:
    for name, key in (
        ("rsa1024", rsa.generate_private_key(public_exponent=65537, key_size=1024)),
        ("dsa", dsa.generate_private_key(key_size=2048)),
    ):
        path = tmp_path / name
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
        with pytest.raises(CairnError, match="accepted"):
            keys.load_private(path)


def test_a_missing_private_key_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(CairnError, match="cannot read the private key"):
        keys.load_private(tmp_path / "none")
