"""The Airboss of a real cairn service, on libvirt's test driver, and tenants
with real keys: requests go through its TCP port with real signatures, as a
tenant's `cairn ... key=` sends them.

The lab: containers vm-container-0-0/0-1 (kvm_connection test:///default),
virtual cluster vc (frontend vc, computes vc-compute-0/1) whose frontend the
`owner` key is bound to, cluster wc (frontend wc, wc-compute-0) bound to the
`other` key, and hosted, a VM in no cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import servicekit
from cairn.airboss import client, keys
from testkit import reading

LOOPBACK = 'listen = "127.0.0.1:0"\n'
SUITE_CONFIG = 'vm_storage_dirs = ["/"]\nvm_host_devices = ["/dev/", "pci", "usb", "scsi"]\n'


@dataclass
class Tenant:
    key: Path
    public: keys.PublicKey

    @property
    def fingerprint(self) -> str:
        return self.public.fingerprint


@dataclass
class Lab:
    cli: Any
    hv: Any
    port: int
    owner: Tenant
    other: Tenant
    isos: Path
    keydir: Path

    stop_alone = staticmethod(lambda service: stop_alone(service))

    def tenant(self, name: str) -> Tenant:
        """A new key pair, bound to nothing."""
        return tenant(self.keydir, name)

    host: str = "127.0.0.1"
    server: Any = None  # the Airboss object (cairn.airboss.server.Airboss)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def call(
        self, tenant: Tenant, op: str, target: str, ca: str | None = None, **params: str
    ) -> list[dict[str, str]]:
        return client.call(op, target, params, key=tenant.key, address=self.address, ca=ca)

    def state(self) -> tuple[str, dict[str, int]]:
        """The database (as dump prints it) and every domain's libvirt state."""
        domains = {d.name(): d.state()[0] for d in self.hv.listAllDomains(0)}
        return self.cli.dump(), domains

    def audit(self) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from cairn.db.models import AirbossAudit

        with reading(self.cli.url) as session:
            rows = session.execute(select(AirbossAudit).order_by(AirbossAudit.id)).scalars()
            return [
                {
                    "fingerprint": r.fingerprint,
                    "op": r.op,
                    "target": r.target,
                    "result": r.result,
                    "reason": r.reason,
                    "source": r.source,
                }
                for r in rows
            ]

    def send(self, data: bytes, *, timeout: float = 10.0, port: int | None = None) -> str:
        """Raw bytes to the Airboss port (or another); the error (or "") it answers with."""
        return send_raw(port or self.port, data, timeout=timeout)

    def rows(self, *words: str) -> list[dict[str, Any]]:
        return json.loads(self.cli.ok(*words, "output-format=json"))


def send_raw(port: int, data: bytes, *, timeout: float = 10.0) -> str:
    """`data` sent to the Airboss, the sending side then closed; its reply's
    error ("" for rows, "closed" when it closed without a reply)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with contextlib.suppress(OSError):  # it may close on us before all is sent
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        got = b""
        with contextlib.suppress(ConnectionResetError):  # closed with our bytes unread
            while chunk := s.recv(65536):
                got += chunk
    if len(got) < 4:
        return "closed"
    body = json.loads(got[4:])
    return str(body.get("error", ""))


def bind(cli: Any, tenant: Tenant, frontend: str) -> None:
    """Binds the tenant's public key to the frontend VM, as root does."""
    cli.ok("add", "host", "key", frontend, f"key={tenant.key}.pub")


def tenant(directory: Path, name: str) -> Tenant:
    path = directory / name
    return Tenant(path, keys.generate(path, comment=name))


@pytest.fixture
def airboss_config(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The config file: the suite's, ISOs open to tenants, the Airboss on a free
    loopback port; a test adds [airboss] lines by parametrizing it (indirect)."""
    isos = tmp_path / "isos"
    isos.mkdir()
    path = tmp_path / "cairn.toml"
    path.write_text(
        SUITE_CONFIG
        + f'tenant_iso_dirs = ["{isos}"]\n'
        + "[airboss]\nrequest_seconds = 2\n"
        + (extra if "listen" in (extra := getattr(request, "param", "")) else LOOPBACK + extra)
    )
    monkeypatch.setenv("CAIRN_CONFIG", str(path))
    return path


@pytest.fixture
def lab(cli: Any, hv: Any, airboss_config: Path, tmp_path: Path) -> Iterator[Lab]:
    c = cli
    c.ok("set", "network", "private", "subnet=198.18.0.0/24", "bridge=none")
    for rank, name in enumerate(("vm-container-0-0", "vm-container-0-1")):
        c.ok("add", "host", name, "appliance=vm-container", "rack=0", f"rank={rank}", "cpus=4")
        c.ok("add", "host", "interface", name, "eth0", f"ip=198.18.0.{10 + rank}", "subnet=private")
    c.ok("set", "attr", "kvm_connection", "test:///default")
    c.ok("add", "cluster", "vc", "computes=2", "subnet=198.19.8.0/24", "mem=64", "public=none")
    c.ok("add", "cluster", "wc", "computes=1", "subnet=198.19.9.0/24", "mem=64", "public=none")
    c.ok("add", "host", "vm", "vm-container-0-0", "mem=64", "name=hosted")
    keydir = tmp_path / "keys"
    keydir.mkdir()
    owner, other = tenant(keydir, "owner"), tenant(keydir, "other")
    bind(cli, owner, "vc")
    bind(cli, other, "wc")
    service, own = _service()
    assert service.airboss is not None, "the Airboss did not start: see the log"
    yield Lab(
        cli,
        hv,
        service.airboss.port,
        owner,
        other,
        tmp_path / "isos",
        keydir,
        server=service.airboss,
    )
    if own:
        stop_alone(service)


def stop_alone(service: Any) -> None:
    """Stops the Airboss of a Service that never served, and closes what it holds."""
    if service.airboss is not None:
        service.airboss.stop()
    os.close(service._wake_r)
    os.close(service._wake_w)


def _service() -> tuple[Any, bool]:
    """The service whose Airboss the test talks to: the test's cairn service,
    or (CAIRN_TEST_SERVICE=off) a Service object that serves only the Airboss."""
    if not servicekit.IN_PROCESS:
        current = servicekit.ensure()
        assert current is not None
        return current.service, False
    from cairn.airboss.server import start
    from cairn.service.address import key_env, socket_path
    from cairn.service.server import Service

    env = key_env()
    service = Service(socket_path(env), env, watch=False, freeze=False)
    service.airboss = start(service)
    return service, True
