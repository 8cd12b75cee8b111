"""Tenant keys: reading, checking, fingerprinting and making them.

What belongs here: turning a public key (the OpenSSH one-line form
`ssh-ed25519 AAAA... comment`, or PEM) into a typed `PublicKey`, its
fingerprint as `ssh-keygen -l` prints it, loading a private key the way
OpenSSH does (refusing a file that group or others may read), and making a
new pair. Only Ed25519 and RSA of 2048 to 8192 bits are accepted: Rocks'
1024-bit RSA is refused, and so are DSA and ECDSA. Not here: where keys are
kept (the `tenant_keys` table) or what a key may do (`checks`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from cairn.errors import CairnError

RSA_MIN_BITS = 2048
# Bigger keys make every verification slow for no gain: a bound on the work a
# request costs the server.
RSA_MAX_BITS = 8192
MAX_PUBLIC_KEY = 16384  # characters of a public key file
MAX_PRIVATE_KEY = 65536

PublicKeyType = ed25519.Ed25519PublicKey | rsa.RSAPublicKey
PrivateKeyType = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
Kind = Literal["ed25519", "rsa"]

_ACCEPTED = "only Ed25519 keys and RSA keys of 2048 to 8192 bits are accepted"


@dataclass(frozen=True)
class PublicKey:
    """A tenant's public key, of a kind the Airboss accepts."""

    key: PublicKeyType
    comment: str = ""

    @property
    def algorithm(self) -> str:
        return "ssh-ed25519" if isinstance(self.key, ed25519.Ed25519PublicKey) else "ssh-rsa"

    @property
    def openssh(self) -> str:
        """The OpenSSH one-line form, without the comment."""
        return self.key.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ).decode("ascii")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key)


def fingerprint(key: PublicKeyType) -> str:
    """`SHA256:` and the unpadded base64 of the SHA-256 of the key's SSH wire
    form, exactly as `ssh-keygen -l` prints it."""
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def _checked(key: object, what: str) -> None:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        if RSA_MIN_BITS <= key.key_size <= RSA_MAX_BITS:
            return
        raise CairnError(f"{what} is RSA of {key.key_size} bits: {_ACCEPTED}")
    raise CairnError(f"{what} is {_kind_name(key)}: {_ACCEPTED}")


def _kind_name(key: object) -> str:
    name = type(key).__name__.lstrip("_").removeprefix("Rust")
    for word, kind in (("DSA", "DSA"), ("Elliptic", "ECDSA"), ("EC", "ECDSA"), ("Ed448", "Ed448")):
        if word in name:
            return kind
    return "of an unknown kind"


def parse_public(text: str, what: str = "the public key") -> PublicKey:
    """The key in `text`: one OpenSSH line (`ssh-ed25519 AAAA... comment`) or a
    PEM public key. Raises CairnError in one line for anything else."""
    text = text.strip()
    if not text:
        raise CairnError(f"{what} is empty: give an OpenSSH public key (ssh-ed25519 AAAA...)")
    if len(text) > MAX_PUBLIC_KEY:
        raise CairnError(f"{what} is longer than {MAX_PUBLIC_KEY} characters: not a public key")
    data = text.encode("utf-8", "replace")
    comment = ""
    try:
        if text.startswith("-----BEGIN"):
            key: object = serialization.load_pem_public_key(data)
        else:
            if "\n" in text:
                raise ValueError("more than one line")
            fields = text.split(None, 2)
            if len(fields) < 2:
                raise ValueError("no key after the type")
            comment = fields[2] if len(fields) == 3 else ""
            key = serialization.load_ssh_public_key(" ".join(fields[:2]).encode("ascii", "replace"))
    except UnsupportedAlgorithm:
        kind = text.split(None, 1)[0][:40]
        raise CairnError(f"{what} is of type {kind!r}: {_ACCEPTED}") from None
    except ValueError:
        raise CairnError(
            f"{what} is not an OpenSSH public key line (ssh-ed25519 AAAA... comment) nor PEM"
        ) from None
    _checked(key, what)
    assert isinstance(key, ed25519.Ed25519PublicKey | rsa.RSAPublicKey)
    return PublicKey(key, comment.strip())


def read_public(path: Path) -> PublicKey:
    """The public key in file `path` (an OpenSSH .pub file or PEM)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read(MAX_PUBLIC_KEY + 1)
    except OSError as e:
        raise CairnError(f"cannot read the public key {path}: {e.strerror}") from None
    return parse_public(text, f"the public key {path}")


def load_private(path: Path, passphrase: str | None = None) -> PrivateKeyType:
    """The private key in file `path` (OpenSSH or PEM format), refused as OpenSSH
    refuses it when group or others may read or write the file."""
    try:
        with open(path, "rb") as f:
            mode = os.fstat(f.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise CairnError(
                    f"the private key {path} is open to others (mode {stat.S_IMODE(mode):04o}):"
                    f" chmod 600 {path}"
                )
            data = f.read(MAX_PRIVATE_KEY + 1)
    except OSError as e:
        raise CairnError(f"cannot read the private key {path}: {e.strerror}") from None
    if len(data) > MAX_PRIVATE_KEY:
        raise CairnError(f"{path} is longer than {MAX_PRIVATE_KEY} bytes: not a private key")
    password = passphrase.encode("utf-8") if passphrase else None
    load = (
        serialization.load_ssh_private_key
        if b"BEGIN OPENSSH PRIVATE KEY" in data
        else serialization.load_pem_private_key
    )
    try:
        key: object = load(data, password)
    except TypeError:
        # cryptography's word for "encrypted, and no passphrase" or the other way round
        if password is None:
            raise CairnError(f"the private key {path} needs its passphrase") from None
        raise CairnError(f"the private key {path} has no passphrase: give none") from None
    except UnsupportedAlgorithm:
        raise CairnError(f"the private key {path} is of a kind cairn cannot read") from None
    except ValueError:
        if password is not None:
            raise CairnError(f"the private key {path}: wrong passphrase, or not a key") from None
        raise CairnError(f"{path} is not a private key (OpenSSH or PEM)") from None
    _checked(key, f"the private key {path}")
    assert isinstance(key, ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey)
    return key


def generate(
    path: Path,
    kind: Kind = "ed25519",
    bits: int = 3072,
    passphrase: str | None = None,
    comment: str = "",
) -> PublicKey:
    """Make a key pair: the private key in `path` (OpenSSH format, mode 0600,
    encrypted with `passphrase` when given) and the public one in PATH.pub.
    Neither file may exist already; nothing is left behind on failure."""
    if kind == "rsa":
        if not RSA_MIN_BITS <= bits <= RSA_MAX_BITS:
            raise CairnError(f"bits={bits}: RSA keys have {RSA_MIN_BITS} to {RSA_MAX_BITS} bits")
        private: PrivateKeyType = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    elif kind == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise CairnError(f"key kind {kind!r}: use ed25519 or rsa")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    secret = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption
    )
    public = PublicKey(private.public_key(), comment)
    line = f"{public.openssh} {comment}".rstrip() + "\n"
    pub_path = path.with_name(path.name + ".pub")
    _write_new(path, secret, 0o600)
    try:
        _write_new(pub_path, line.encode("ascii", "replace"), 0o644)
    except CairnError:
        path.unlink()
        raise
    return public


def _write_new(path: Path, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError:
        raise CairnError(f"{path} exists: remove it or choose another key=") from None
    except OSError as e:
        raise CairnError(f"cannot write {path}: {e.strerror}") from None
    try:
        os.fchmod(fd, mode)  # the umask does not get to widen or narrow it
        os.write(fd, data)
    except OSError as e:
        os.close(fd)
        path.unlink()
        raise CairnError(f"cannot write {path}: {e.strerror}") from None
    os.close(fd)
