"""The Airboss off loopback speaks TLS with a certificate of the cluster CA,
and the tenant's client checks it against the CA's certificate it was given."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
from pathlib import Path

import pytest

from cairn.container.ca import Authority
from cairn.errors import CairnError


def _address() -> str:
    for word in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split():
        if "." in word and not word.startswith("127."):
            return word
    return ""


HERE = _address()
pytestmark = pytest.mark.skipif(not HERE, reason="this machine has no IPv4 address off loopback")


@pytest.mark.parametrize(
    "airboss_config", [f'listen = "{HERE}:0"\ntls_names = ["{HERE}"]\n'], indirect=True
)
def test_tls_off_loopback_checked_against_the_cluster_ca(lab, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="asyncio")
    lab.host = HERE
    ca = str(Path(os.environ["CAIRN_CA_DIR"]) / "cacert.pem")
    rows = lab.call(lab.owner, "macs", "vc", ca=ca)
    assert {r["host"] for r in rows} == {"vc", "vc-compute-0", "vc-compute-1"}
    with pytest.raises(CairnError, match="ca=PATH"):
        lab.call(lab.owner, "macs", "vc")
    stranger = Authority.open(tmp_path / "other-ca")
    with pytest.raises(CairnError, match=r"TLS with the Airboss .* failed"):
        lab.call(lab.owner, "macs", "vc", ca=str(stranger.directory / "cacert.pem"))
    # plain bytes to a TLS port: no answer, nothing run
    with socket.create_connection((HERE, lab.port), timeout=10) as s:
        s.sendall(b"AIRBOSS1" + b"\0" * 64)
        s.shutdown(socket.SHUT_WR)
        assert b"rows" not in s.recv(4096)  # a TLS alert or a close, never an answer
    for junk in (b"\x16\x03\x01\x00\x05hello", b"GET / HTTP/1.1\r\n\r\n", b""):
        with socket.create_connection((HERE, lab.port), timeout=10) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            assert b"rows" not in s.recv(4096)
    assert [a["result"] for a in lab.audit()] == ["accepted"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
