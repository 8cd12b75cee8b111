"""The DHCP and PXE files checked where they are made, and where they go:
IPv4 and IPv6 networks side by side, rows written into the database past the
commands (a bad row is left out with a warning; nothing lands outside the
directory), the boot actions hosts install with, and what dir= may be. No
dnsmasq is started: every case here ends before one would be."""

from __future__ import annotations

import os
import posixpath

import pytest

from testkit import one_error_line, write_behind

MAC = "52:54:00:00:00:aa"


def _lab(c) -> None:
    """Network lab (DHCP) with n1 on it, installing with boot action install."""
    c.ok("add", "network", "lab", "subnet=198.18.5.0/24", "dhcp=yes")
    c.ok("add", "host", "n1", "appliance=compute")
    c.ok("add", "host", "interface", "n1", "eth0", f"mac={MAC}", "ip=198.18.5.9", "subnet=lab")
    c.ok("add", "bootaction", "install", "kernel=vmlinuz", "ramdisk=initrd.img", "args=quiet")
    c.ok("set", "host", "boot", "n1", "action=install")


def _files(out: str) -> dict[str, str]:
    """{name: text} of the files `report host dhcpd` prints."""
    found: dict[str, str] = {}
    name = None
    for line in out.splitlines(keepends=True):
        if line.startswith("# --- "):
            name = line[6:].strip()
            found[name] = ""
        elif name is not None:
            found[name] += line
    return found


def test_ipv4_and_ipv6_dhcp_networks_side_by_side(cli, tmp_path):
    _lab(cli)
    cli.ok("add", "network", "six", "subnet=fd00:5::/64", "dhcp=yes")
    cli.ok("add", "host", "n2", "appliance=compute")
    cli.ok("add", "host", "interface", "n2", "eth0", "mac=52:54:00:00:00:bb", "ip=fd00:5::9")
    cli.ok("set", "host", "interface", "subnet", "n2", "eth0", "six")
    done = cli("report", "host", "dhcpd", f"dir={tmp_path}")
    assert done.code == 0, done.err
    files = _files(done.out)
    assert files["dhcp-hosts"] == f"{MAC},198.18.5.9,n1\n"
    assert "network six is IPv6: cairn serves DHCPv4 only; skipped" in done.err
    assert not any("52-54-00-00-00-bb" in name for name in files)


# (SQL past the commands, the host or row the warning names). Each puts EVIL
# (or a path out of the directory) where a file would carry it.
BAD_ROWS = [
    (f"UPDATE interfaces SET mac = '../../../EVIL' WHERE mac = '{MAC}'", "host 'n1'"),
    (f"UPDATE interfaces SET ip = '198.18.5.9,EVIL' WHERE mac = '{MAC}'", "host 'n1'"),
    ("UPDATE hosts SET name = 'n1' || CHR(10) || 'EVIL' WHERE name = 'n1'", "left out of DHCP"),
    ("UPDATE bootactions SET args = 'quiet' || CHR(10) || 'EVIL'", "boot action 'install'"),
    ("UPDATE bootactions SET kernel = '../../EVIL'", "boot action 'install'"),
    ("UPDATE bootactions SET ramdisk = 'i EVIL'", "boot action 'install'"),
    ("UPDATE networks SET name = 'lab,EVIL' WHERE name = 'lab'", "network 'lab,EVIL'"),
    ("UPDATE networks SET dhcp_range = '198.18.5.1-198.18.5.9' || CHR(10) || 'EVIL'", "lab"),
    ("UPDATE interfaces SET name = 'eth0 EVIL' WHERE ip = '198.18.5.1'", "network lab"),
]


@pytest.mark.parametrize(("statement", "named"), BAD_ROWS)
def test_a_bad_row_is_left_out_of_the_files_with_a_warning(cli, tmp_path, statement, named):
    _lab(cli)
    cli.ok("add", "host", "fe", "appliance=frontend")
    cli.ok("add", "host", "interface", "fe", "eth0", "ip=198.18.5.1", "subnet=lab")
    if "sqlite" in cli.url:
        statement = statement.replace("CHR(10)", "CHAR(10)")
    write_behind(cli.url, statement)
    done = cli("report", "host", "dhcpd", "frontend=fe", f"dir={tmp_path}")
    assert done.code == 0, done.err
    assert "EVIL" not in done.out
    for name in _files(done.out):
        assert posixpath.normpath(name) == name and not name.startswith(("/", "..")), name
    warnings = [line for line in done.err.splitlines() if line.startswith("warning - ")]
    assert any(named in line for line in warnings), done.err


def test_a_boot_action_that_hosts_install_with_stays(cli):
    _lab(cli)
    cli.ok("add", "bootaction", "rescue", "kernel=rescue")
    before = cli.dump()
    line = one_error_line(cli("remove", "bootaction", "install").err)
    assert "boot action install is used by n1, which boot install with it" in line
    cli.ok("set", "host", "attr", "n1", "installaction", "rescue")
    assert "used by n1" in one_error_line(cli("remove", "bootaction", "rescue").err)
    cli.ok("remove", "bootaction", "install")  # n1 installs with rescue now
    cli.ok("set", "host", "boot", "n1", "action=os")
    cli.ok("remove", "bootaction", "rescue")  # n1 boots its own disk
    assert "bootaction" not in cli.dump() and "bootaction" in before


def test_nothing_is_written_when_nothing_is_served(cli, tmp_path):
    """No network has DHCP: dir= is neither made nor touched, whatever it is."""
    missing, private = tmp_path / "new", tmp_path / "home"
    private.mkdir(mode=0o700)
    (private / "secret").write_text("mine")
    for directory in (missing, private):
        done = cli("sync", "config", f"dir={directory}")
        assert done.code == 0, done.err
        assert "not started: no network has dhcp=yes" in done.out
    assert not missing.exists()
    assert os.listdir(private) == ["secret"] and private.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("foreign", "not cairn's"),
        ("private", "mode 0700"),
        ("file", "not a directory"),
        ("link", "is a symbolic link"),
    ],
)
def test_a_directory_that_is_not_cairns_is_refused_untouched(cli, tmp_path, kind, says):
    _lab(cli)
    directory = tmp_path / "netboot"
    if kind == "file":
        directory.write_text("x")
    elif kind == "link":
        (tmp_path / "elsewhere").mkdir(mode=0o755)
        directory.symlink_to(tmp_path / "elsewhere")
    else:
        directory.mkdir(mode=0o700 if kind == "private" else 0o755)
        if kind == "foreign":
            (directory / ".bashrc").write_text("x")
    mode = directory.stat().st_mode
    contents = os.listdir(directory) if directory.is_dir() else None
    line = one_error_line(cli("sync", "config", f"dir={directory}").err)
    assert says in line, line
    assert directory.stat().st_mode == mode
    assert (os.listdir(directory) if directory.is_dir() else None) == contents


def test_sync_config_help_says_what_dir_may_be(cli):
    out = cli.ok("sync", "config", "help")
    assert "never changes an existing directory's mode" in out.replace("\n", " ")
