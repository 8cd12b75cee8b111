"""The cluster CA behind qemu+tls:// profiles: made once, reused, and issuing
certificates that a TLS client (cryptography's verifier, like GnuTLS in libvirt)
accepts for the right names."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509 import verification

from cairn.container.ca import Authority, ca_dir, subject_alt_names, usage
from cairn.errors import CairnError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def load(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def test_the_ca_is_made_once_and_reused(tmp_path: Path) -> None:
    first = Authority.open(tmp_path / "ca", common_name="fe")
    again = Authority.open(tmp_path / "ca", common_name="fe")

    assert first.created and not again.created
    assert again.cert_pem == first.cert_pem
    assert mode(tmp_path / "ca") == 0o700
    assert mode(tmp_path / "ca" / "cakey.pem") == 0o600
    assert mode(tmp_path / "ca" / "cacert.pem") == 0o644
    ca = load(first.cert_pem)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_ca_dir_is_cairn_ca_dir_else_under_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from cairn.db.url import data_dir

    monkeypatch.delenv("CAIRN_CA_DIR", raising=False)
    assert ca_dir() == data_dir() / "ca"
    monkeypatch.setenv("CAIRN_CA_DIR", "/srv/ca")
    assert ca_dir() == Path("/srv/ca")


def test_a_server_certificate_chains_to_the_ca_for_its_names(tmp_path: Path) -> None:
    ca = Authority.open(tmp_path)
    made = ca.issue("server", "node-0-0", dns=["node-0-0.cluster"], ips=["10.1.0.5"])
    cert = load(made.cert_pem)

    assert subject_alt_names(cert) == ["node-0-0", "node-0-0.cluster", "10.1.0.5"]
    assert usage(cert) == "server"
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "node-0-0"
    cert.verify_directly_issued_by(load(ca.cert_pem))
    store = verification.Store([load(ca.cert_pem)])
    for name in (
        verification.DNSName("node-0-0"),
        verification.IPAddress(__import__("ipaddress").ip_address("10.1.0.5")),
    ):
        verifier = verification.PolicyBuilder().store(store).build_server_verifier(name)
        verifier.verify(cert, [])
    with pytest.raises(verification.VerificationError):
        verifier = (
            verification.PolicyBuilder()
            .store(store)
            .build_server_verifier(verification.DNSName("other-host"))
        )
        verifier.verify(cert, [])
    key_file = tmp_path / "issued" / "server-node-0-0-key.pem"
    assert key_file.read_text() == made.key_pem
    assert mode(key_file) == 0o600


def test_a_client_certificate_is_for_client_authentication(tmp_path: Path) -> None:
    ca = Authority.open(tmp_path)
    cert = load(ca.issue("client", "frontend").cert_pem)
    assert usage(cert) == "client"
    verifier = verification.PolicyBuilder().store(verification.Store([load(ca.cert_pem)]))
    verifier.build_client_verifier().verify(cert, [])


def test_an_issued_certificate_is_reused_until_its_names_change(tmp_path: Path) -> None:
    ca = Authority.open(tmp_path)
    first = ca.issue("server", "n1", ips=["10.0.0.1"])
    assert Authority.open(tmp_path).issue("server", "n1", ips=["10.0.0.1"]) == first
    changed = ca.issue("server", "n1", ips=["10.0.0.2"])
    assert changed != first
    assert subject_alt_names(load(changed.cert_pem)) == ["n1", "10.0.0.2"]


def test_a_certificate_of_another_ca_is_issued_again(tmp_path: Path) -> None:
    old = Authority.open(tmp_path / "a").issue("server", "n1")
    other = tmp_path / "b"
    (other / "issued").mkdir(parents=True)
    (other / "issued" / "server-n1-cert.pem").write_text(old.cert_pem)
    (other / "issued" / "server-n1-key.pem").write_text(old.key_pem)
    ca = Authority.open(other)
    again = ca.issue("server", "n1")
    assert again != old
    load(again.cert_pem).verify_directly_issued_by(load(ca.cert_pem))


def test_half_a_ca_is_refused_not_replaced(tmp_path: Path) -> None:
    Authority.open(tmp_path)
    (tmp_path / "cacert.pem").unlink()
    key = (tmp_path / "cakey.pem").read_bytes()
    with pytest.raises(CairnError, match="incomplete"):
        Authority.open(tmp_path)
    assert (tmp_path / "cakey.pem").read_bytes() == key


def test_names_that_are_not_host_names_are_refused(tmp_path: Path) -> None:
    ca = Authority.open(tmp_path)
    with pytest.raises(CairnError, match="not a host name"):
        ca.issue("server", "../../etc/x")
    with pytest.raises(CairnError, match="not a host name"):
        ca.issue("server", "ok", dns=["bad name"])
