"""A host's network plan checks the database's rows again where they land in
shell (the container profile) and in `ip` commands: a bridge, device, id or
address written into the database past cairn's commands is refused with one
line naming the host, never written into the profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit import one_error_line, write_behind

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBhbGciOiJIUzI1NiJ9eyJzdWIiOiIxMjM0NTY3ODkwIn0 root@fe"

BAD_ROWS = [
    "UPDATE networks SET bridge = 'br0' || CHR(10) || 'EVIL' WHERE name = 'private'",
    "UPDATE networks SET bridge = 'br;EVIL' WHERE name = 'lab'",
    "UPDATE interfaces SET name = 'eth0 EVIL' WHERE ip = '10.1.0.5'",
    "UPDATE interfaces SET ip = '10.1.0.5 EVIL' WHERE ip = '10.1.0.5'",
    "UPDATE interfaces SET ip = '10.1.0.6' || CHR(10) || 'EVIL' WHERE ip = '10.1.0.6'",
]


@pytest.fixture
def containers(example_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """vm-container-0-0 and -0-1 on private and on lab, a VXLAN network over it."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519.pub").write_text(KEY + "\n")
    monkeypatch.setenv("HOME", str(home))
    c = example_cluster
    c.ok("add", "network", "lab", "subnet=10.9.0.0/24", "isolation=vxlan", "id=900")
    for n, host in enumerate(("vm-container-0-0", "vm-container-0-1"), start=5):
        c.ok("add", "host", "interface", host, "eth0", f"ip=10.1.0.{n}", "subnet=private")
        c.ok("add", "host", "interface", host, "eth1", f"ip=10.9.0.{n}", "subnet=lab")
    return c


@pytest.mark.parametrize("statement", BAD_ROWS)
def test_a_bad_row_never_reaches_the_profile(containers, statement):
    c = containers
    good = c.ok("report", "host", "profile", "vm-container-0-0")
    assert "br-vx900" in good and "10.1.0.6" in good  # the plan is there: bridges and peers
    if "sqlite" in c.url:
        statement = statement.replace("CHR(10)", "CHAR(10)")
    write_behind(c.url, statement)
    done = c("report", "host", "profile", "vm-container-0-0")
    line = one_error_line(done.err)
    assert "host vm-container-0-0: a bad row in the database" in line
    assert "EVIL" not in done.out
