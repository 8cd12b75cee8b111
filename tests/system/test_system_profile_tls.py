"""This machine made a TLS container by its own profile, then used through qemu+tls://.

`cairn report host profile localhost` (kvm=true, kvm_connection
qemu+tls://{host}/system) is applied to this machine as root: it installs the
cluster CA, a server certificate for this host and, this machine being the one
that runs cairn, the client certificate; it makes libvirtd listen for TLS (here,
without systemd, by restarting it as `libvirtd -d --listen`). Then cairn starts
and stops a real VM through qemu+tls://<hostname>/system. A second run of the
script must change nothing.

The CA is the real one (`<data dir>/ca`, /var/lib/cairn/ca), so that later runs
issue nothing new and do not restart libvirtd again. libvirtd still serves
qemu:///system afterwards (it listens on its unix socket too).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cairn.db.hostfacts import local_hostname

pytestmark = pytest.mark.system

HOSTS = Path("/etc/hosts")


@pytest.fixture
def as_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but not root: the TLS profile test must run", pytrace=False)
        pytest.skip("applying a profile to this machine needs root")


@pytest.fixture
def resolvable(as_root: None) -> Iterator[str]:
    """This machine's short host name, resolving (127.0.0.1 is added to /etc/hosts
    for the test only if it did not)."""
    name = local_hostname()
    found = subprocess.run(["getent", "hosts", name], capture_output=True).returncode == 0
    line = f"127.0.0.1 {name}  # cairn system test\n"
    if not found:
        with HOSTS.open("a") as fh:
            fh.write(line)
    try:
        yield name
    finally:
        if not found:
            HOSTS.write_text(HOSTS.read_text().replace(line, ""))


def libvirtd_pid() -> str:
    own = ["--ns", str(os.getpid()), "--nslist", "pid"]  # not a testbed container's
    return subprocess.run(["pgrep", *own, "-x", "libvirtd"], capture_output=True, text=True).stdout


def apply(script: Path, shell: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([shell, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{shell} {script} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_a_vm_starts_and_stops_through_tls_after_the_profile_is_applied(
    lab: Any, resolvable: str, tmp_path: Path
) -> None:
    import libvirt

    name = resolvable
    lab.cli.ok("set", "host", "attr", "localhost", "kvm", "true")
    lab.cli.ok("set", "host", "attr", "localhost", "kvm_connection", "qemu+tls://{host}/system")
    script = tmp_path / "profile.sh"
    lab.cli.ok("create", "keys", "localhost")  # a report writes nothing
    script.write_text(lab.cli.ok("report", "host", "profile", "localhost", "format=sh"))

    # If applying restarts libvirtd, the shared `virt` connection reopens by itself.
    first = apply(script, "bash")
    assert "cairn: profile of" in first.stdout
    for path, mode in [
        ("/etc/pki/CA/cacert.pem", 0o644),
        ("/etc/pki/libvirt/servercert.pem", 0o644),
        ("/etc/pki/libvirt/private/serverkey.pem", 0o600),
        ("/etc/pki/libvirt/clientcert.pem", 0o644),
        ("/etc/pki/libvirt/private/clientkey.pem", 0o600),
    ]:
        assert Path(path).stat().st_mode & 0o777 == mode, path

    # Idempotent: the same profile again (made again, by another shell) changes nothing.
    script.write_text(lab.cli.ok("report", "host", "profile", "localhost", "format=sh"))
    pid = libvirtd_pid()
    second = apply(script, "sh")
    assert "nothing to change" in second.stdout, second.stdout
    assert libvirtd_pid() == pid

    # cairn reaches this machine through TLS only: the URI it uses is qemu+tls.
    uri = f"qemu+tls://{name}/system"
    tls = libvirt.open(uri)
    try:
        vm = lab.add_vm("tls")
        lab.attr(vm, "cpu_mode", "none")  # nested KVM cannot run host-passthrough
        assert lab.verb("start", "host", "vm", vm)["result"] == "started"
        assert tls.lookupByName(vm).state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert lab.state(vm) == libvirt.VIR_DOMAIN_RUNNING  # the same libvirtd, over its socket
        assert lab.status(vm) == "running"

        lab.verb("stop", "host", "vm", vm)
        assert tls.lookupByName(vm).state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert lab.status(vm) == "shutoff"
    finally:
        tls.close()
    # libvirtd still serves qemu:///system for the tests that follow.
    assert lab.virt.getVersion() > 0
