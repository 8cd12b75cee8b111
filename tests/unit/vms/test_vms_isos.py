"""The ISO files a tenant may put in a CDROM drive (cairn.vms.isos): only
regular *.iso files under tenant_iso_dirs, with no symbolic link leading out,
and the real path given back. Real files and links in tmp_path, a real config
file named by CAIRN_CONFIG."""

from __future__ import annotations

import pytest

from cairn.errors import CairnError
from cairn.vms.isos import tenant_iso


@pytest.fixture
def isos(tmp_path, monkeypatch):
    allowed = tmp_path / "iso"
    allowed.mkdir()
    (allowed / "centos.iso").write_bytes(b"x")
    (tmp_path / "secret.iso").write_bytes(b"s")
    config = tmp_path / "cairn.toml"
    config.write_text(f'tenant_iso_dirs = ["{allowed}"]\n')
    monkeypatch.setenv("CAIRN_CONFIG", str(config))
    return allowed


def test_an_iso_in_the_directory_is_taken_as_its_real_path(isos):
    (isos / "sub").mkdir()
    (isos / "sub" / "link.iso").symlink_to(isos / "centos.iso")
    assert tenant_iso(str(isos / "centos.iso")) == str(isos / "centos.iso")
    assert tenant_iso(str(isos / "sub" / "link.iso")) == str(isos / "centos.iso")
    assert tenant_iso(str(isos / "sub" / ".." / "centos.iso")) == str(isos / "centos.iso")


@pytest.mark.parametrize(
    "make",
    [
        lambda d: (d / "out.iso").symlink_to(d.parent / "secret.iso") or d / "out.iso",
        lambda d: (d / "etc").symlink_to("/etc") or d / "etc" / "passwd",
        lambda d: d.parent / "secret.iso",
        lambda d: d / ".." / "secret.iso",
    ],
    ids=["link-to-a-file-out", "link-to-a-dir-out", "outside", "dotdot-out"],
)
def test_a_path_that_leads_out_is_refused(isos, make):
    with pytest.raises(CairnError, match="not under a directory open to tenants"):
        tenant_iso(str(make(isos)))


def test_what_is_not_an_iso_file_is_refused(isos):
    (isos / "notes.txt").write_text("x")
    (isos / "dir.iso").mkdir()
    for path in ("notes.txt", "dir.iso", "missing.iso"):
        with pytest.raises(CairnError, match=r"is not an ISO file \(a regular file named"):
            tenant_iso(str(isos / path))
    with pytest.raises(CairnError, match="is not an absolute path"):
        tenant_iso("centos.iso")


def test_no_directory_is_open_unless_listed(isos, tmp_path, monkeypatch):
    config = tmp_path / "none.toml"
    config.write_text("")
    monkeypatch.setenv("CAIRN_CONFIG", str(config))
    with pytest.raises(CairnError, match="no directory of ISO files is open to tenants"):
        tenant_iso(str(isos / "centos.iso"))
    config.write_text('tenant_iso_dirs = ["relative/dir"]\n')
    with pytest.raises(CairnError, match="must be a list of absolute, normalised paths"):
        tenant_iso(str(isos / "centos.iso"))
