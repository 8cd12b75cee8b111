"""The cluster's certificate authority for libvirt TLS, kept by the frontend.

It lives in `ca_dir()`: $CAIRN_CA_DIR, else `<data dir>/ca` (/var/lib/cairn/ca
for root). It holds cacert.pem and cakey.pem (0600), made once on first need
and reused ever after, and under issued/ every certificate handed out with its
key, so that generating a profile again gives the same certificate (and the
profile stays idempotent) until the names it must carry change, it nears its
end, or the CA changed. What belongs here: making, keeping and checking keys
and certificates. Not here: where a node installs them (profile.py).

Certificates are what libvirt's GnuTLS checks want: the CA has CA:TRUE and
keyCertSign; servers and clients have CA:FALSE, digitalSignature +
keyEncipherment, and serverAuth or clientAuth. Keys are ECDSA P-256.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cairn.errors import CairnError

Kind = Literal["server", "client"]

CA_DAYS = 3650
CERT_DAYS = 1825
RENEW_WITHIN = dt.timedelta(days=30)  # a certificate this close to its end is issued again
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")


def ca_dir() -> Path:
    if os.environ.get("CAIRN_CA_DIR"):
        return Path(os.environ["CAIRN_CA_DIR"])
    from cairn.db.url import data_dir

    return data_dir() / "ca"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, both PEM text."""

    cert_pem: str
    key_pem: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` atomically; the file never exists with a looser mode."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _names(dns: Sequence[str], ips: Sequence[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for name in dict.fromkeys(dns):
        if not _NAME.fullmatch(name):
            raise CairnError(f"{name!r} cannot be put in a certificate: it is not a host name")
        out.append(x509.DNSName(name))
    for ip in dict.fromkeys(ips):
        out.append(x509.IPAddress(ipaddress.ip_address(ip)))
    return out


# Reports never write: keys and certificates are made by one explicit command.
MAKE_KEYS = "make it with 'cairn create keys'"


class Authority:
    """The CA in one directory; `open` makes it when it is not there yet."""

    def __init__(
        self,
        directory: Path,
        cert: x509.Certificate,
        key: ec.EllipticCurvePrivateKey,
        *,
        created: bool = False,
    ):
        self.directory = directory
        self.cert = cert
        self._key = key
        self.created = created  # this Authority was just made

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    # --- the CA itself ---------------------------------------------------------

    @classmethod
    def open(
        cls, directory: Path | None = None, *, common_name: str = "cairn", create: bool = True
    ) -> Authority:
        """The CA in `directory` (default ca_dir()); made once, under a lock.
        Without `create`, a missing CA is an error that says how to make it."""
        directory = directory or ca_dir()
        if not create:
            found = cls._load(directory)
            if found is None:
                raise CairnError(f"there is no cluster CA in {directory} yet: {MAKE_KEYS}")
            return found
        with _locked(directory):
            return cls._load(directory) or cls._create(directory, common_name)

    @classmethod
    def _load(cls, directory: Path) -> Authority | None:
        cert_path, key_path = directory / "cacert.pem", directory / "cakey.pem"
        if not cert_path.exists() and not key_path.exists():
            return None
        if not (cert_path.exists() and key_path.exists()):
            raise CairnError(
                f"the cluster CA in {directory} is incomplete (cacert.pem and cakey.pem go"
                " together); restore the missing file, or move the directory away to make"
                " a new CA (every node then needs its profile applied again)"
            )
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise CairnError(f"cannot read the cluster CA in {directory}: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or (
            key.public_key().public_numbers() != cert.public_key().public_numbers()  # type: ignore[union-attr]
        ):
            raise CairnError(f"the cluster CA in {directory}: cakey.pem does not match cacert.pem")
        return cls(directory, cert, key)

    @classmethod
    def _create(cls, directory: Path, common_name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cairn"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"cairn cluster CA ({common_name})"),
            ]
        )
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        # The key first: a cacert.pem without its key is the state _load refuses.
        _write(directory / "cakey.pem", _key_pem(key), 0o600)
        _write(directory / "cacert.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
        return cls(directory, cert, key, created=True)

    # --- certificates for hosts -------------------------------------------------

    def issue(
        self,
        kind: Kind,
        name: str,
        *,
        dns: Sequence[str] = (),
        ips: Sequence[str] = (),
        create: bool = True,
    ) -> Issued:
        """A `kind` certificate for host `name` with these subjectAltNames.

        The one issued before is returned while it still fits: same names,
        signed by this CA, not near its end. `name` is always the first DNS name.
        """
        if not _NAME.fullmatch(name):
            raise CairnError(f"{name!r} cannot be put in a certificate: it is not a host name")
        wanted = _names([name, *dns], ips)
        issued = self.directory / "issued"
        cert_path = issued / f"{kind}-{name}-cert.pem"
        key_path = issued / f"{kind}-{name}-key.pem"
        if not create:
            kept = self._kept(cert_path, key_path, kind, wanted)
            if kept is None:
                raise CairnError(
                    f"there is no {kind} certificate for {name} with its names"
                    f" ({', '.join(str(n.value) for n in wanted)}) in {issued} yet: make it"
                    f" with 'cairn create keys {name}'"
                )
            return kept
        with _locked(self.directory):
            kept = self._kept(cert_path, key_path, kind, wanted)
            if kept is not None:
                return kept
            issued.mkdir(mode=0o700, exist_ok=True)
            made = self._sign(kind, name, wanted)
            _write(key_path, made.key_pem.encode(), 0o600)
            _write(cert_path, made.cert_pem.encode(), 0o644)
            return made

    def _kept(
        self, cert_path: Path, key_path: Path, kind: Kind, wanted: list[x509.GeneralName]
    ) -> Issued | None:
        try:
            cert_pem, key_pem = cert_path.read_text(), key_path.read_text()
            cert = x509.load_pem_x509_certificate(cert_pem.encode())
            key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        except (OSError, ValueError):
            return None
        if not self.signed(cert) or cert.not_valid_after_utc - _now() < RENEW_WITHIN:
            return None
        if set(subject_alt_names(cert)) != {str(n.value) for n in wanted}:
            return None
        if usage(cert) != kind:
            return None
        if key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ) != cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ):
            return None
        return Issued(cert_pem, key_pem)

    def _sign(self, kind: Kind, name: str, names: list[x509.GeneralName]) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        end = min(now + dt.timedelta(days=CERT_DAYS), self.cert.not_valid_after_utc)
        purpose = (
            ExtendedKeyUsageOID.SERVER_AUTH if kind == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject(name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=True,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), False
            )
            .sign(self._key, hashes.SHA256())
        )
        return Issued(
            cert.public_bytes(serialization.Encoding.PEM).decode(), _key_pem(key).decode()
        )

    def signed(self, cert: x509.Certificate) -> bool:
        """Whether this CA signed `cert`."""
        try:
            cert.verify_directly_issued_by(self.cert)
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True


def subject(name: str) -> x509.Name:
    """The subject of every certificate this CA issues for host `name`."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cairn"),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )


def client_dn(name: str) -> str:
    """The distinguished name of host `name`'s client certificate as libvirt
    matches it in tls_allowed_dn_list: GnuTLS's gnutls_x509_crt_get_dn, the
    attributes in certificate order (not RFC 4514's reversed one): O=cairn,CN=name."""
    if not _NAME.fullmatch(name):
        raise CairnError(f"{name!r} cannot be put in a certificate: it is not a host name")
    return ",".join(attr.rfc4514_string() for attr in subject(name))


def subject_alt_names(cert: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses (as text) a certificate is for."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [*san.get_values_for_type(x509.DNSName)] + [
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)
    ]


def usage(cert: x509.Certificate) -> Kind | None:
    try:
        purposes = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if ExtendedKeyUsageOID.SERVER_AUTH in purposes:
        return "server"
    if ExtendedKeyUsageOID.CLIENT_AUTH in purposes:
        return "client"
    return None


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One cairn at a time makes or issues in `directory` (two profiles at once)."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise CairnError(
            f"cannot use the cluster CA directory {directory}: {exc}"
            " (set CAIRN_CA_DIR to a directory you may write)"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
